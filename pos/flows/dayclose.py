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
from pos.flows.text import FlowError, Text
from pos.flows.views import Approval, CashCount
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
            raise FlowError(Text("这一天已经结账。", "This day is already closed."))
        if denomination not in self.denominations:
            raise FlowError(Text("没有这种面额。", "There is no such note or coin."))
        if count < 0:
            raise FlowError(Text("张数不能为负。", "A count cannot be negative."))
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
            raise FlowError(Text("这一天已经结账。", "This day is already closed."))
        if self.over_short.minor and not reason.strip():
            diff = self.over_short
            size = Money(abs(diff.minor), diff.currency)
            raise FlowError(
                Text(
                    f"现金{'长款' if diff.minor > 0 else '短款'} {size.format('zh')}，请填写原因。",
                    f"The drawer is {'over' if diff.minor > 0 else 'short'} by "
                    f"{size.format('en')}: give a reason.",
                )
            )
        counted = CashCount(self.expected.currency, dict(self.counts))
        self.report = self._port.close_day(self.business_date, counted, reason.strip(), approval)
        self.state = DayCloseState.CLOSED
        return self.report

    def export(self, fmt: str, out: Path, progress: Progress, cancel: CancelToken) -> Path:
        if self.state is not DayCloseState.CLOSED:
            raise FlowError(Text("请先结账再导出。", "Close the day before exporting."))
        if fmt not in EXPORT_FORMATS:
            raise FlowError(Text(f"不支持的格式 {fmt}。", f"{fmt} is not an export format."))
        return self._port.export(self.business_date, fmt, out, progress, cancel)
