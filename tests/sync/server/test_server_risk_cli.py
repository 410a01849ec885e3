"""`pos-server risk ...` from the server's own machine: places, the rule
lifecycle with its refusals, the audit trail, the hot list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sync.server import main as server_main

RULE = """
[[rule]]
id = "late-gift"
when = 'time.hour < 6 && basket.gift_cards > 0'
action = "review"
step_up = "manager_pin"
priority = 640
reason_zh = "深夜购买礼品卡需经理确认"
reason_en = "Gift cards at night need a manager"
"""


def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = server_main.main(
        ["--db", f"sqlite:///{tmp_path / 's.db'}", "--data-dir", str(tmp_path), "--json", *argv]
    )
    captured = capsys.readouterr()
    out = captured.out.strip()
    return code, json.loads(out) if out else captured.err


def test_a_rule_goes_through_its_lifecycle_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path, capsys, "db", "upgrade")[0] == 0
    rule = tmp_path / "rule.toml"
    rule.write_text(RULE, encoding="utf-8")
    assert cli(tmp_path, capsys, "risk", "draft", str(rule), "--by", "lin")[1]["state"] == "draft"
    code, err = cli(tmp_path, capsys, "risk", "publish", "late-gift", "--by", "lin")
    assert code == 2 and "needs it shadow first" in err
    code, out = cli(tmp_path, capsys, "risk", "backtest", "late-gift", "--by", "lin")
    assert (code, out["backtest"]["events"], out["state"]) == (0, 0, "backtested")
    shadow = cli(tmp_path, capsys, "risk", "shadow", "late-gift", "--by", "lin")[1]
    published = cli(tmp_path, capsys, "risk", "publish", "late-gift", "--by", "wang")[1]
    assert published["config_version"] > shadow["config_version"]
    [row] = cli(tmp_path, capsys, "risk", "rules")[1]
    assert (row["id"], row["state"]) == ("late-gift", "published")
    audit = cli(tmp_path, capsys, "risk", "audit")[1]
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("draft", "lin"), ("backtest", "lin"), ("shadow", "lin"), ("publish", "wang")]  # fmt: skip


def test_a_place_off_the_earth_is_refused_and_the_hot_list_starts_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(tmp_path, capsys, "db", "upgrade")
    code, err = cli(tmp_path, capsys, "risk", "place", "S001", "--lat", "131", "--lon", "0")
    assert code == 2 and "not a place on Earth" in err
    assert cli(tmp_path, capsys, "risk", "place", "S001", "--lat", "31.2", "--lon", "121.5")[0] == 0
    assert cli(tmp_path, capsys, "risk", "hotlist")[1] == {"entries": [], "version": None}
    assert cli(tmp_path, capsys, "risk", "alerts")[1] == []
