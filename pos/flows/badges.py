"""Signing in by badge for the front ends: wait for a tap on the reader, let
the badge prove itself, and hand back the session of its holder (switching
the cashier), or approve by badge and PIN. Runs off the UI thread (it waits
for a card)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pos.auth import Approval
from pos.auth_badge import BadgeCard, BadgeReader, badge_readers_installed, open_badge_reader
from pos.flows.views import Session
from pos.services.badges import BadgeService
from pos.services.terminal_services import TerminalServices

TAP_SECONDS = 20.0
T = TypeVar("T")


class BadgeDesk:
    def __init__(
        self,
        services: TerminalServices,
        reader: str | None = None,
        open_reader: Callable[[str | None], BadgeReader] = open_badge_reader,
        timeout: float = TAP_SECONDS,
    ) -> None:
        t = services.terminal
        self.badges = BadgeService(t.db, t.journal, t.clock, services.users)
        self.reader_name = reader
        self.open_reader = open_reader
        self.timeout = timeout

    @classmethod
    def if_installed(cls, services: TerminalServices) -> BadgeDesk | None:
        """A desk when a badge reader layer is installed (drivers), else None."""
        return cls(services) if badge_readers_installed() else None

    def _tapped(self, use: Callable[[BadgeCard], T]) -> T:
        """Waits for a badge on the reader and hands it to `use`."""
        reader = self.open_reader(self.reader_name)
        try:
            return use(reader.tap(self.timeout))
        finally:
            reader.close()

    def sign_in(self) -> Session:
        user = self._tapped(self.badges.sign_in)
        return Session(user.user_id, user.name, user.role)

    def approve(self, pin: str, action: str, reason: str = "") -> Approval:
        """A manager's approval by badge and PIN: waits for the badge's tap."""
        return self._tapped(lambda card: self.badges.approval(card, pin, action, reason))
