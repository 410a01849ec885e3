"""The core services of one opened terminal: the checkout with its risk gate,
and the users. The till (pos.app.open_till) builds on them; tests that need
no payment channels use them alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pos.clock import Clock, SystemClock
from pos.services.checkout import CheckoutService, CheckoutSettings
from pos.services.consistency import orders_agree_with_journal
from pos.services.risk_gate import RiskGate
from pos.services.users import UserService
from pos.store.journal import ExtraCheck, VerifyReport
from pos.store.terminal import Terminal, open_terminal


@dataclass
class TerminalServices:
    terminal: Terminal
    checkout: CheckoutService
    users: UserService

    @classmethod
    def open(
        cls,
        data_dir: Path,
        clock: Clock | None = None,
        settings: CheckoutSettings | None = None,
    ) -> TerminalServices:
        clock = clock or SystemClock()
        terminal = open_terminal(data_dir, clock)
        return cls.wrap(terminal, settings)

    @classmethod
    def wrap(
        cls,
        terminal: Terminal,
        settings: CheckoutSettings | None = None,
        is_online: Callable[[], bool] | None = None,
    ) -> TerminalServices:
        risk = RiskGate.open(
            terminal.db,
            terminal.journal,
            terminal.clock.now(),
            terminal.terminal_id,
            terminal.store_id,
        )
        checkout = CheckoutService(
            terminal.db,
            terminal.journal,
            terminal.clock,
            settings,
            terminal_id=terminal.terminal_id,
            risk=risk,
            is_online=is_online,
        )
        users = UserService(terminal.db, terminal.journal, terminal.clock)
        return cls(terminal, checkout, users)

    def verify(self) -> VerifyReport:
        """The journal's chain and signatures, and every table that registered
        a check in the `pos.journal_checks` group (orders and tenders, payment
        intents, Z reports) against what the journal says happened."""
        from importlib.metadata import entry_points  # scanning costs ~20 ms: only here

        checks: list[ExtraCheck] = [orders_agree_with_journal]
        for ep in sorted(entry_points(group="pos.journal_checks"), key=lambda e: e.name):
            check = ep.load()
            if check is not orders_agree_with_journal:
                checks.append(check)
        return self.terminal.verify_journal(extra_checks=checks)

    def close(self) -> None:
        self.terminal.close()

    def __enter__(self) -> TerminalServices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
