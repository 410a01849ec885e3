"""Closing the business day: count the drawer by denomination, compare with
what the drawer should hold, give a reason for any over/short, a manager
closes the day (the Z report), then export it.

States: COUNTING -> CLOSED. Exports run after closing, with progress and
cancel (the UI runs them on a worker)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pos.flows.cancel import CancelToken
from pos.flows.ports import DayClosePort, Progress
from pos.flows.text import FlowError
from pos.flows.views import Approval, CashCount
from pos.messages import msg
from pos.money import Money

EXPORT_FORMATS = ("csv", "xlsx", "pdf")


class DayCloseState(StrEnum):
    COUNTING = "counting"
    CLOSED = "closed"


class DayCloseFlow:
    def __init__(self, port: DayClosePort) -> None:
        self._port = port
        self.state = DayCloseState.COUNTING
        self.business_date = port.business_date()
        self.expected = port.expected_cash(self.business_date)
        self.denominations = port.denominations(self.expected.currency)
        self.counts: dict[int, int] = {}
        self.report: dict[str, Any] | None = None

    def set_count(self, denomination: int, count: int) -> None:
        if self.state is not DayCloseState.COUNTING:
            raise FlowError(msg("manager.dayclose.already_closed"))
        if denomination not in self.denominations:
            raise FlowError(msg("manager.dayclose.no_denomination"))
        if count < 0:
            raise FlowError(msg("manager.dayclose.negative_count"))
        if count:
            self.counts[denomination] = count
        else:
            self.counts.pop(denomination, None)

    @property
    def counted(self) -> Money:
        return CashCount(self.expected.currency, dict(self.counts)).total()

    @property
    def over_short(self) -> Money:
        """Positive when the drawer holds more than expected."""
        return self.counted - self.expected

    def close(self, reason: str, approval: Approval) -> dict[str, Any]:
        if self.state is not DayCloseState.COUNTING:
            raise FlowError(msg("manager.dayclose.already_closed"))
        if self.over_short.minor and not reason.strip():
            diff = self.over_short
            size = Money(abs(diff.minor), diff.currency)
            code = "over" if diff.minor > 0 else "short"
            raise FlowError(msg(f"manager.dayclose.{code}_needs_reason", amount=size))
        counted = CashCount(self.expected.currency, dict(self.counts))
        self.report = self._port.close_day(self.business_date, counted, reason.strip(), approval)
        self.state = DayCloseState.CLOSED
        return self.report

    def export(self, fmt: str, out: Path, progress: Progress, cancel: CancelToken) -> Path:
        if self.state is not DayCloseState.CLOSED:
            raise FlowError(msg("manager.dayclose.export_first"))
        if fmt not in EXPORT_FORMATS:
            raise FlowError(msg("manager.dayclose.bad_format", fmt=fmt))
        return self._port.export(self.business_date, fmt, out, progress, cancel)
