"""The counter on a terminal the server revoked: the cashier signs in, the
first scan is refused with what to do, in the reader's language."""

from __future__ import annotations

import os
from pathlib import Path

from pos.services.revocation import record_revoked
from tests.ui.conftest import log_in, scan, settle
from ui.app import App

SHOTS = Path(os.environ.get("POS_SCREENSHOTS", "/tmp/pos-screens"))


def test_a_revoked_terminal_refuses_the_first_scan_and_says_how_to_enrol_again(
    app: App, qtbot
) -> None:
    terminal = app.runtime.terminal.terminal
    with terminal.db.transaction() as conn:
        record_revoked(conn, terminal.journal, terminal.clock, "terminal T-TEST was revoked")
    cashier = log_in(app)
    scan(qtbot, cashier.search, "6901234000016")
    settle(app, lambda: "pos enroll" in cashier.message.text())
    assert cashier.flow.order is None or not cashier.flow.order.lines
    SHOTS.mkdir(parents=True, exist_ok=True)
    cashier.window().grab().save(str(SHOTS / "revoked-en.png"))
    app.language.toggle()
    settle(app, lambda: "重新登记" in cashier.message.text())
    cashier.window().grab().save(str(SHOTS / "revoked-zh_CN.png"))
