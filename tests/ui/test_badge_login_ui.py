"""Signing in at the counter by tapping a staff badge: the login screen,
pcscd with the vpcd virtual reader, and the emulated badge."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.auth import Role
from pos.events import Event
from tests.ui.conftest import settle
from ui.app import App

pytest.importorskip("smartcard")
pytestmark = pytest.mark.integration

from drivers.virtualcard.badge import BADGE_PROFILES, BadgeCardEmulator  # noqa: E402
from drivers.virtualcard.vpcd import VirtualCardSlot  # noqa: E402
from tests.integration.card.conftest import READER, wait_slot_state  # noqa: E402

SHOTS = Path(os.environ.get("POS_SCREENSHOTS", "/tmp/pos-screens"))


@pytest.fixture
def badge_slot() -> Iterator[VirtualCardSlot]:
    slot = VirtualCardSlot()
    yield slot
    slot.remove()
    wait_slot_state(False)


def test_a_badge_tap_on_the_login_screen_signs_its_holder_in(
    app: App, qtbot, badge_slot: VirtualCardSlot
) -> None:
    services = app.runtime.terminal
    badges = app.runtime.services.badges
    assert badges is not None
    badges.reader_name = READER
    services.users.add("m9", "Manager Zhao", Role.MANAGER, "2580")
    card = BadgeCardEmulator.of(BADGE_PROFILES["badge-manager"])
    wait_slot_state(False)
    badge_slot.insert(card)
    approval = services.users.approval("m9", "2580", "enrol a badge")
    reader = badges.open_reader(READER)
    try:
        badges.badges.enrol(reader.tap(10.0), "m9", approval)
    finally:
        reader.close()

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
