"""A refund above the badge limit approved in the app by the manager's badge
and PIN: pcscd with the vpcd virtual reader and the emulated badge. A PIN
alone is refused with the catalogue's reason, a copied badge is refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pos.events import Event
from pos.messages import msg
from pos.money import Money
from tests.ui.conftest import (
    CHIPS,
    COLA,
    MANAGER_PIN,
    approval,
    close_receipt,
    enter_pin,
    open_tender,
    ring_up,
    scan,
    settle,
)
from ui.app import App
from ui.demo import MANAGER
from ui.screens.cashier import CashierScreen

pytest.importorskip("smartcard")
pytestmark = pytest.mark.integration

from drivers.virtualcard.vpcd import VirtualCardSlot  # noqa: E402
from tests.integration.card.conftest import wait_slot_state  # noqa: E402
from tests.ui.badges import badge_slot_fixture, enrol_badge  # noqa: E402, F401

SHOTS = Path(os.environ.get("POS_SCREENSHOTS", "/tmp/pos-screens"))


def _taps(app: App, ok: bool) -> list[dict[str, object]]:
    with app.runtime.terminal.terminal.db.read() as conn:
        rows = conn.execute(
            "SELECT payload FROM journal WHERE type = ? ORDER BY seq", (Event.BADGE_APPROVAL,)
        ).fetchall()
    return [p for p in (json.loads(r[0]) for r in rows) if p["ok"] is ok]


def test_a_refund_above_the_badge_limit_is_approved_by_badge_and_pin_in_the_app(
    app: App, qtbot, cashier: CashierScreen, badge_slot: VirtualCardSlot
) -> None:
    services = app.runtime.terminal
    desk = app.runtime.services.badges
    assert desk is not None
    card = enrol_badge(app, badge_slot, MANAGER.user_id, MANAGER_PIN)
    desk.badges.set_threshold(
        100, services.users.approval(MANAGER.user_id, MANAGER_PIN, "set the badge limit")
    )

    ring_up(app, qtbot, cashier, COLA, CHIPS)
    open_tender(app, cashier)
    cashier.tender_panel.suggest_buttons[0].click()
    receipt = close_receipt(app, cashier)
    cashier.refund_button.click()
    counter = app.counter
    assert counter is not None
    screen = counter.refund
    scan(qtbot, screen.receipt, receipt)
    settle(app, lambda: len(screen.checks) == 2)
    screen.checks[0].setChecked(True)
    amount = screen.flow.preview()
    assert amount.minor > 100
    screen.refund_button.click()

    # A PIN alone: refused with the catalogue's reason, and asked again for badge and PIN.
    first = approval(app, screen)
    assert not first.badge
    enter_pin(first, MANAGER_PIN)
    needs = msg(
        "badge.approval_needs_badge",
        action=msg("badge.action_refund"),
        amount=amount,
        limit=Money(100),
    )
    settle(app, lambda: screen.message.text() == needs.render("en"), timeout=30)
    dlg = approval(app, screen)
    assert dlg is not first and dlg.badge
    assert msg("badge.approval_above_limit", limit=Money(100)).render("en") in dlg.reasons.text()
    assert dlg.prompt.text() == msg("badge.approval_prompt").render("en")
    SHOTS.mkdir(parents=True, exist_ok=True)
    dlg.grab().save(str(SHOTS / "badge-approval-en.png"))

    # A copy of the badge (same id, another key) is refused in the dialog.
    badge_slot.remove()
    wait_slot_state(False)
    badge_slot.insert(card.copy_of())
    enter_pin(dlg, MANAGER_PIN)
    wrong = msg("badge.wrong_key", badge=card.badge_id).render("en")
    settle(app, lambda: dlg.message.text() == wrong, timeout=30)
    assert dlg.isVisible() and screen.money_back_dialog is None
    assert [t["reason"] for t in _taps(app, ok=False)] == ["key"]

    # The manager's own badge and PIN approve it.
    badge_slot.remove()
    wait_slot_state(False)
    badge_slot.insert(card)
    app.language.set("zh_CN")
    settle(app)
    assert dlg.prompt.text() == msg("badge.approval_prompt").render("zh_CN")
    dlg.grab().save(str(SHOTS / "badge-approval-zh_CN.png"))
    enter_pin(dlg, MANAGER_PIN)
    settle(app, lambda: screen.money_back_dialog is not None, timeout=30)
    assert len(_taps(app, ok=True)) == 1
