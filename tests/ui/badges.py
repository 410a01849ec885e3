"""The emulated staff badge in the vpcd virtual reader, for the app's badge
tests (sign-in and approval): a slot fixture and enrolment through the desk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.virtualcard.badge import BADGE_PROFILES, BadgeCardEmulator
from drivers.virtualcard.vpcd import VirtualCardSlot
from tests.integration.card.conftest import READER, wait_slot_state
from ui.app import App


@pytest.fixture(name="badge_slot")
def badge_slot_fixture() -> Iterator[VirtualCardSlot]:
    slot = VirtualCardSlot()
    yield slot
    slot.remove()
    wait_slot_state(False)


def enrol_badge(app: App, slot: VirtualCardSlot, user_id: str, pin: str) -> BadgeCardEmulator:
    """The manager profile's badge, in the reader and enrolled for `user_id`
    (approved by `user_id`'s own PIN: a manager)."""
    desk = app.runtime.services.badges
    assert desk is not None
    desk.reader_name = READER
    card = BadgeCardEmulator.of(BADGE_PROFILES["badge-manager"])
    wait_slot_state(False)
    slot.insert(card)
    approval = app.runtime.terminal.users.approval(user_id, pin, "enrol a badge")
    reader = desk.open_reader(READER)
    try:
        desk.badges.enrol(reader.tap(10.0), user_id, approval)
    finally:
        reader.close()
    return card
