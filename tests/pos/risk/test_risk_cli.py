from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pos.cli import main as cli_main
from pos.clock import SystemClock
from pos.store.terminal import open_terminal, provision

RULES_V2 = """
version = 2
[[rule]]
id = "small-cap"
when = "amount > 1000"
action = "block"
priority = 10
reason_zh = "超过 10 元"
reason_en = "over 10.00"
"""

BAD_RULES = """
[[rule]]
id = "typo"
when = "amout > 10"
action = "block"
priority = 10
reason_zh = "x"
reason_en = "x"
"""


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "term"
    with provision(d, "demo", "S1", "T1", SystemClock()):
        pass
    if "pos.cli.risk" not in cli_main.CORE_COMMAND_MODULES:
        monkeypatch.setattr(
            cli_main, "CORE_COMMAND_MODULES", (*cli_main.CORE_COMMAND_MODULES, "pos.cli.risk")
        )
    return d


def run(data_dir: Path, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    code = cli_main.main(["--data-dir", str(data_dir), "--json", "risk", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_check_allows_reviews_and_blocks_with_the_default_rules(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, allowed = run(data_dir, "check", "--amount", "25.00", "--channel", "alipay",
                        capsys=capsys)  # fmt: skip
    assert (code, allowed["action"], allowed["reasons"]) == (0, "allow", [])
    _, reviewed = run(data_dir, "check", "--amount", "1500", "--channel", "card", "--offline",
                      "--card-token", "t1", "--card-bin", "62220212", capsys=capsys)  # fmt: skip
    assert reviewed["action"] == "review"
    assert reviewed["step_up"] == "online_only"
    assert reviewed["reasons"][0]["rule_id"] == "offline-card-cap"
    _, blocked = run(data_dir, "check", "--amount", "2500", "--channel", "wechat", "--mode",
                     "kiosk", capsys=capsys)  # fmt: skip
    assert blocked["action"] == "block"
    assert blocked["rule_ids"] == ["kiosk-amount-cap"]


def test_recorded_velocity_survives_between_commands(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", "--amount", "20", "--channel", "card", "--card-token", "tok-z",
            "--at", "2026-03-02T10:00:00+08:00"]  # fmt: skip
    for minute in range(3):
        at = f"2026-03-02T10:0{minute}:00+08:00"
        code, d = run(data_dir, *args[:-1], at, "--record", "approved", capsys=capsys)
        assert (code, d["action"]) == (0, "allow")
        assert d["recorded_seq"] is not None
    _, fourth = run(data_dir, *args[:-1], "2026-03-02T10:04:00+08:00", capsys=capsys)
    assert fourth["action"] == "review"
    assert fourth["features"]["velocity.card.count_10m"] == 3
    with open_terminal(data_dir, SystemClock()) as t:
        assert t.verify_journal().ok
        with t.db.read() as conn:
            rows = conn.execute(
                "SELECT payload FROM journal WHERE type = 'risk.decision' ORDER BY seq"
            ).fetchall()
    assert len(rows) == 3
    payload = json.loads(rows[0][0])
    # The back office reads the decision's fields at the top level.
    assert (payload["action"], payload["outcome"], payload["amount_minor"]) == (
        "allow", "approved", 20_00
    )  # fmt: skip


def test_a_bad_rule_file_is_refused_and_the_current_set_stays(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(RULES_V2)
    bad.write_text(BAD_RULES)
    code, out = run(data_dir, "rules", "validate", str(bad), capsys=capsys)
    assert code == 2
    assert "rule 'typo'" in out["error"] and "did you mean 'amount'" in out["error"]
    code, out = run(data_dir, "rules", "install", str(good), capsys=capsys)
    assert (code, out["version"]) == (0, 2)
    code, out = run(data_dir, "rules", "install", str(bad), "--version", "3", capsys=capsys)
    assert code == 2
    assert "rule 'typo'" in out["error"]
    code, shown = run(data_dir, "rules", "show", capsys=capsys)
    assert (shown["version"], shown["origin"]) == (2, "local")
    _, d = run(data_dir, "check", "--amount", "12", "--channel", "cash", capsys=capsys)
    assert d["rule_ids"] == ["small-cap"]


def test_replay_counts_what_a_candidate_rule_set_would_have_done(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i, amount in enumerate(("5", "15", "25")):
        run(data_dir, "check", "--amount", amount, "--channel", "cash", "--at",
            f"2026-03-02T1{i}:00:00+08:00", "--record", "approved", capsys=capsys)  # fmt: skip
    candidate = tmp_path / "candidate.toml"
    candidate.write_text(RULES_V2)
    code, report = run(data_dir, "replay", "--rules", str(candidate), "--since", "2026-03-02",
                       capsys=capsys)  # fmt: skip
    assert code == 0
    assert (report["total"], report["allow"], report["review"], report["block"]) == (3, 1, 0, 2)
    assert report["changes"] == {"allow->allow": 1, "allow->block": 2}
    _, later = run(data_dir, "replay", "--rules", str(candidate), "--since",
                   "2026-03-02T11:30:00+08:00", capsys=capsys)  # fmt: skip
    assert later["total"] == 1


def test_human_output_explains_the_decision_in_the_readers_language(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["--data-dir", str(data_dir), "risk", "check", "--amount", "600",
            "--channel", "cash", "--kind", "refund", "--no-receipt"]  # fmt: skip
    code = cli_main.main(["--lang", "en", *argv])
    out = capsys.readouterr().out
    assert code == 0
    assert "decision: block" in out
    assert "[refund-no-receipt-large] A refund without the original receipt" in out
    assert "无原始小票" not in out
    code = cli_main.main(["--lang", "zh_CN", *argv])
    out = capsys.readouterr().out
    assert code == 0
    assert "决定：拦截" in out and "[refund-no-receipt-large] 无原始小票" in out
    assert "A refund without" not in out


def test_list_entries_change_decisions_and_are_journaled(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(data_dir, "list", "add", "block", "card", "tok-bad", "--note", "chargeback",
                    capsys=capsys)  # fmt: skip
    assert (code, out["changed"]) == (0, True)
    _, d = run(data_dir, "check", "--amount", "5", "--channel", "card", "--card-token",
               "tok-bad", capsys=capsys)  # fmt: skip
    assert d["rule_ids"] == ["list-card-blocked"]
    _, out = run(data_dir, "list", "remove", "block", "card", "tok-bad", capsys=capsys)
    assert out["changed"] is True
    _, d = run(data_dir, "check", "--amount", "5", "--channel", "card", "--card-token",
               "tok-bad", capsys=capsys)  # fmt: skip
    assert d["action"] == "allow"


NIGHT_RULES = """
description = "test: no card after 22:00 store time"
[[rule]]
id = "late-card"
when = "channel == 'card' && time.hour >= 22"
action = "block"
priority = 10
reason_zh = "深夜不收银行卡"
reason_en = "No cards late at night"
"""


def test_check_and_replay_read_times_in_the_store_zone_not_the_computers(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    import time

    # The computer is set to New York; the store (and the till) is in Shanghai.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        rules = tmp_path / "night.toml"
        rules.write_text(NIGHT_RULES)
        assert run(data_dir, "rules", "install", str(rules), capsys=capsys)[0] == 0
        # 22:30 with no zone is 22:30 at the store: blocked, as the till would.
        _, late = run(data_dir, "check", "--amount", "20", "--channel", "card", "--at",
                      "2026-03-02T22:30:00", capsys=capsys)  # fmt: skip
        assert late["action"] == "block" and late["rule_ids"] == ["late-card"]
        run(data_dir, "check", "--amount", "5", "--channel", "cash", "--at",
            "2026-03-02T10:00:00+08:00", "--record", "approved", capsys=capsys)  # fmt: skip
        # --since 2026-03-02 is the store's midnight: the 10:00 (+08:00) sale counts.
        _, report = run(data_dir, "replay", "--rules", str(rules), "--since", "2026-03-02T09:00",
                        capsys=capsys)  # fmt: skip
        assert report["total"] == 1
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_former_rule_file_is_converted_to_cel_and_then_installs(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(RULES_V2.replace('"amount > 1000"', '"amount > 10_00 and not online"'))
    code, out = run(data_dir, "rules", "convert", str(old), "--out", str(new), capsys=capsys)
    assert (code, out["rules"]) == (0, 1)
    assert "when = 'amount > 1000 && !online'" in new.read_text()
    code, out = run(data_dir, "rules", "install", str(new), capsys=capsys)
    assert (code, out["version"]) == (0, 2)
    old.write_text(RULES_V2.replace('"amount > 1000"', '"amount / 2 > 1"'))
    code, out = run(data_dir, "rules", "convert", str(old), capsys=capsys)
    assert code == 2 and "small-cap" in out["error"]
