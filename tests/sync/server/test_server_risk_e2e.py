"""End to end on real processes: a `pos-server serve` process, three terminals
driven through the `pos` command line. Each gets the chain's card-token key
at enrolment, so the emulated card read at any of them is one token. The card
pays in Shanghai, then in Beijing half an hour later; the server raises
"impossible travel" as the second terminal syncs, and its hot list reaches a
third terminal, which then blocks that card with no server to ask."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from drivers.virtualcard.profiles import UNIONPAY
from pos.clock import SystemClock
from pos.payments.card.pan import card_token, pan_from_bcd
from pos.store.terminal import open_terminal, provision
from sync.server import models as m

ROOT = Path(__file__).resolve().parents[3]


def read_card_token(data_dir: Path) -> str:
    """The token the till's card channel makes of the emulated UnionPay card:
    the card's PAN record (5A, BCD padded with F) through the real token
    function under the key the terminal holds. Only the token leaves here."""
    digits = UNIONPAY.pan + "F" * (len(UNIONPAY.pan) % 2)
    terminal = open_terminal(data_dir, SystemClock())
    try:
        return card_token(terminal.card_token_key, pan_from_bcd(bytes.fromhex(digits)))
    finally:
        terminal.close()


def run(*argv: str) -> Any:
    out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, (argv, out.stdout, out.stderr)
    return json.loads(out.stdout) if out.stdout.strip().startswith(("{", "[")) else out.stdout


def pos(data_dir: Path, *argv: str) -> Any:
    return run(sys.executable, "-m", "pos.cli.main", "--data-dir", str(data_dir), "--json", *argv)


def test_one_card_in_shanghai_then_beijing_is_caught_and_blocked_offline_at_a_third_till(
    tmp_path: Path, server_process: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    srv = server_process(tmp_path / "server", url, "--audit-every", "0")
    admin = (sys.executable, "-m", "sync.server.main", "--db", url,
             "--data-dir", str(tmp_path / "server"), "--json")  # fmt: skip
    run(*admin, "risk", "place", "S001", "--lat", "31.2304", "--lon", "121.4737", "--city", "上海")
    run(*admin, "risk", "place", "S002", "--lat", "39.9042", "--lon", "116.4074", "--city", "北京")

    tills: dict[str, Path] = {}
    for tid, store in (("T-SH", "S001"), ("T-BJ", "S002"), ("T-SH2", "S001")):
        d = tmp_path / tid
        provision(d, "demo", store, tid, SystemClock()).close()
        code = run(*admin, "code", "create", "--store", store)
        code = code["code"] if isinstance(code, dict) else code.split()[-1]
        pos(d, "enroll", "--server", srv.url, "--code", code)
        tills[tid] = d
    tokens = {tid: read_card_token(d) for tid, d in tills.items()}
    # One card, one token at every store: the chain's key, not each till's own.
    assert len(set(tokens.values())) == 1, "the terminals' card tokens differ"
    card = tokens["T-SH"]
    assert UNIONPAY.pan not in card

    start = datetime.now().astimezone() - timedelta(hours=1)

    def pay(tid: str, at: datetime) -> Any:
        return pos(tills[tid], "risk", "check", "--amount", "88.00", "--channel", "card",
                   "--card-token", tokens[tid], "--card-bin", UNIONPAY.pan[:8], "--at", at.isoformat(),
                   "--record", "approved")  # fmt: skip

    assert pay("T-SH", start)["action"] == "allow"
    pos(tills["T-SH"], "sync", "--once")
    assert pay("T-BJ", start + timedelta(minutes=30))["action"] == "allow"
    pos(tills["T-BJ"], "sync", "--once")
    synced = time.monotonic()
    # The server's own database, read while the server process runs.
    alerts: list[Any] = []
    while time.monotonic() - synced < 5 and not alerts:
        with srv.engine.connect() as conn:
            alerts = conn.execute(
                select(m.risk_alerts).where(m.risk_alerts.c.rule == "impossible-travel")
            ).all()
        time.sleep(0.05)
    assert alerts, "no impossible-travel alert within 5 s of the sync"
    [alert] = alerts
    assert (alert.store_id, alert.terminal_id, alert.subject) == ("S002", "T-BJ", "card")
    # The command line shows it too.
    [shown] = [a for a in run(*admin, "risk", "alerts") if a["rule"] == "impossible-travel"]
    assert shown["value"] == card
    detail = json.loads(alert.detail)
    assert (detail["from_store"], detail["to_store"], detail["minutes"]) == ("S001", "S002", 30)

    # The third till pulls the hot list, then loses the server and still refuses the card.
    pos(tills["T-SH2"], "sync", "--once")
    srv.stop()
    d = pos(tills["T-SH2"], "risk", "check", "--amount", "20.00", "--channel", "card",
            "--card-token", tokens["T-SH2"], "--card-bin", UNIONPAY.pan[:8], "--offline",
            "--at", (start + timedelta(minutes=50)).isoformat())  # fmt: skip
    assert d["action"] == "block"
    [reason] = [r for r in d["reasons"] if r["rule_id"] == "chain-hot-card"]
    assert "impossible-travel" in reason["zh"] and "总部风控" in reason["zh"]
    assert "impossible-travel" in reason["en"] and "hot list" in reason["en"]
    # Another card at the same till is not touched by it.
    other = pos(tills["T-SH2"], "risk", "check", "--amount", "20.00", "--channel", "card",
                "--card-token", "f" * 64, "--offline")  # fmt: skip
    assert other["action"] == "allow"
