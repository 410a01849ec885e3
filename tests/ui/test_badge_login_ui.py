"""Signing in at the counter by tapping a staff badge: the login screen,
pcscd with the vpcd virtual reader, and the emulated badge."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pos.auth import Role
from pos.events import Event
from tests.ui.conftest import settle
from ui.app import App

pytest.importorskip("smartcard")
pytestmark = pytest.mark.integration

from drivers.virtualcard.vpcd import VirtualCardSlot  # noqa: E402
from tests.integration.card.conftest import wait_slot_state  # noqa: E402
from tests.ui.badges import badge_slot_fixture, enrol_badge  # noqa: E402, F401

SHOTS = Path(os.environ.get("POS_SCREENSHOTS", "/tmp/pos-screens"))


def test_a_badge_tap_on_the_login_screen_signs_its_holder_in(
    app: App, qtbot, badge_slot: VirtualCardSlot
) -> None:
    services = app.runtime.terminal
    services.users.add("m9", "Manager Zhao", Role.MANAGER, "2580")
    card = enrol_badge(app, badge_slot, "m9", "2580")

    counter = app.counter
    assert counter is not None
    login = counter.login
    assert login.badge_button.isVisible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    login.window().grab().save(str(SHOTS / "badge-login-en.png"))
    login.badge_button.click()
    settle(app, lambda: counter.cashier is not None)
    assert counter.cashier is not None
    assert "Manager Zhao" in counter.cashier.who.text()
    with services.terminal.db.read() as conn:
        ok = conn.execute(
            "SELECT count(*) FROM journal WHERE type = ?", (Event.BADGE_LOGIN,)
        ).fetchone()[0]
    assert ok == 1

    # Signed out, a copy of the badge (same id, another key) is refused on the screen.
    counter.logout()
    settle(app, lambda: counter.stack.currentWidget() is login)
    badge_slot.remove()
    wait_slot_state(False)
    badge_slot.insert(card.copy_of())
    app.language.toggle()
    login.badge_button.click()
    settle(app, lambda: "不是登记的工牌" in login.message.text())
    assert counter.stack.currentWidget() is login
    login.window().grab().save(str(SHOTS / "badge-login-refused-zh_CN.png"))
