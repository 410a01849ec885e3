"""Guessing a manager's PIN the way issue 14 did it: `pos void RECEIPT
--approver boss` run again and again with POS_APPROVER_PIN set to the next
guess. The sixth try is refused as locked whatever the PIN, every wrong try is
journaled, and the journal still verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos.clock import SystemClock
from pos.events import Event
from pos.services.terminal_services import TerminalServices
from tests.pos.store.till_store import MANAGER_PIN, build, raw_connection, run_pos

TRIES = 5


def test_guessing_an_approval_pin_locks_after_five_tries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    till = tmp_path / "till"
    build(till, 1)
    conn = raw_connection(till)
    try:
        receipt = conn.execute("SELECT receipt_no FROM orders WHERE state = 'paid'").fetchone()[0]
    finally:
        conn.close()
    answers = []
    for guess in range(10000):
        pin = f"{guess:04d}"
        if pin == MANAGER_PIN:
            continue
        monkeypatch.setenv("POS_APPROVER_PIN", pin)
        result = run_pos(till, "void", receipt, "--approver", "boss", "--reason", "guess")
        assert not result.traceback, result.traceback
        assert result.code != 0, result.out
        answers.append(result.err)
        if "locked" in result.err:
            break
    assert len(answers) == TRIES + 1, answers  # five wrong PINs, then locked
    assert all("locked" not in a and "PIN" in a for a in answers[:TRIES]), answers
    # The right PIN is refused too until the ten minutes are over.
    monkeypatch.setenv("POS_APPROVER_PIN", MANAGER_PIN)
    right = run_pos(till, "void", receipt, "--approver", "boss", "--reason", "guess")
    assert right.code != 0 and "locked" in right.err, right
    conn = raw_connection(till)
    try:
        failed = conn.execute(
            "SELECT count(*) FROM journal WHERE type = ?", (str(Event.USER_APPROVAL_FAILED),)
        ).fetchone()[0]
        state = conn.execute("SELECT state FROM orders WHERE receipt_no = ?", (receipt,)).fetchone()
    finally:
        conn.close()
    assert failed == TRIES
    assert state[0] == "paid"  # nothing was voided
    services = TerminalServices.open(till, SystemClock())
    try:
        assert services.verify().ok
    finally:
        services.close()
