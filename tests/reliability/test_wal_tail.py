"""The one WAL damage the anchors alone let through: a till killed just after
a COMMIT, before the file anchor counted it, and that commit's frame damaged.
SQLite drops the transaction silently; the open must hold the till, and keep
holding it after the WAL is gone."""

from __future__ import annotations

import shutil
from pathlib import Path

from pos.clock import SystemClock
from pos.money import Money
from pos.services.terminal_services import TerminalServices
from pos.store.anchor import ANCHOR_FILE
from pos.store.terminal import DB_FILE, open_terminal
from pos.store.wal_tail import damaged_last_commit
from tests.pos.store.till_store import build, flip_byte
from tests.reliability.tamper_cases import FRAME, WAL, verify_command
from tests.reliability.test_tamper_matrix import _wal_frames


def _killed_after_commit(tmp_path: Path) -> Path:
    """A copy of a till taken right after a COMMIT, with the anchor file as it
    was before it: what a SIGKILL between the two leaves."""
    till = tmp_path / "till"
    build(till, 3)
    services = TerminalServices.open(till, SystemClock())
    try:
        co = services.checkout
        order = co.new_order("c1")
        co.add_item(order.order_id, "DRK-001", 2)
        before = (till / ANCHOR_FILE).read_bytes()
        co.pay_cash(order.order_id, Money(100_00))
        killed = tmp_path / "killed"
        shutil.copytree(till, killed)  # the WAL still holds every frame
    finally:
        services.close()
    (killed / ANCHOR_FILE).write_bytes(before)
    return killed


def test_a_damaged_last_commit_the_anchor_never_counted_holds_the_till(tmp_path: Path) -> None:
    killed = _killed_after_commit(tmp_path)
    intact = tmp_path / "intact"
    shutil.copytree(killed, intact)
    frames, last_commit = _wal_frames(killed)
    assert frames == last_commit > 0
    flip_byte(killed / WAL, 32 + (last_commit - 1) * FRAME + 24 + 700)
    assert damaged_last_commit(killed / DB_FILE) == last_commit
    assert damaged_last_commit(intact / DB_FILE) == 0

    with open_terminal(intact, SystemClock()) as terminal:  # the crash margin: fine
        assert terminal.losses == []
    for _ in range(2):  # held, and still held once the WAL was folded in
        with open_terminal(killed, SystemClock()) as terminal:
            assert [loss.kind for loss in terminal.losses] == ["commits_lost"]
    for lang in ("en", "zh_CN"):
        result = verify_command(killed, lang)
        assert result.code == 6 and not result.traceback, result
