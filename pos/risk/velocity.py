"""Sliding-window counts and sums per subject (card, account, terminal, cashier).

The store keeps every event (table risk_events); this index holds the last 24
hours in memory as sorted timestamps with running totals, so a window query is
two binary searches. It is rebuilt from the store when the engine opens.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Container, Iterable

from pos.risk.attributes import VELOCITY_SUBJECTS, WINDOWS

HORIZON_MS = max(ms for _label, ms in WINDOWS)


class Series:
    """Event times (ms, ascending) with running totals of amounts."""

    __slots__ = ("cum", "times")

    def __init__(self) -> None:
        self.times: list[int] = []
        self.cum: list[int] = [0]  # cum[i] = sum of the first i amounts

    def add(self, at_ms: int, amount: int) -> None:
        if not self.times or at_ms >= self.times[-1]:
            self.times.append(at_ms)
            self.cum.append(self.cum[-1] + amount)
            return
        # Late event (clock stepped back): keep the order, redo the totals.
        amounts = [b - a for a, b in zip(self.cum, self.cum[1:], strict=False)]
        pairs = list(zip(self.times, amounts, strict=True))
        insort(pairs, (at_ms, amount))
        self.times = [t for t, _ in pairs]
        self.cum = [0]
        for _, a in pairs:
            self.cum.append(self.cum[-1] + a)

    def window(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """(count, sum) of events with start_ms <= t <= end_ms."""
        lo = bisect_left(self.times, start_ms)
        hi = bisect_right(self.times, end_ms)
        return hi - lo, self.cum[hi] - self.cum[lo]

    def count_since(self, start_ms: int, end_ms: int) -> int:
        return bisect_right(self.times, end_ms) - bisect_left(self.times, start_ms)

    def prune(self, before_ms: int) -> None:
        cut = bisect_right(self.times, before_ms - 1)
        # Only when it pays: slicing is linear in what stays.
        if cut and cut * 2 >= len(self.times):
            base = self.cum[cut]
            self.times = self.times[cut:]
            self.cum = [c - base for c in self.cum[cut:]]

    def __len__(self) -> int:
        return len(self.times)


# Attribute names per subject and window, spelled out once.
_KEYS: dict[str, tuple[tuple[int, str, str, str], ...]] = {
    kind: tuple(
        (
            ms,
            f"velocity.{kind}.count_{label}",
            f"velocity.{kind}.sum_{label}",
            f"velocity.{kind}.declines_{label}",
        )
        for label, ms in WINDOWS
    )
    for kind in VELOCITY_SUBJECTS
}

SubjectKey = tuple[str, str, str]  # (subject kind, subject value, currency)


class VelocityIndex:
    """Approved sales and declined attempts per subject over the last 24 hours."""

    def __init__(self) -> None:
        self.sales: dict[SubjectKey, Series] = {}
        self.declines: dict[SubjectKey, Series] = {}

    def add(
        self,
        subjects: Iterable[tuple[str, str]],
        currency: str,
        at_ms: int,
        amount: int,
        approved: bool,
    ) -> None:
        table = self.sales if approved else self.declines
        for kind, value in subjects:
            if not value:
                continue
            key = (kind, value, currency)
            series = table.get(key)
            if series is None:
                series = table[key] = Series()
            series.add(at_ms, amount)
            series.prune(at_ms - HORIZON_MS)

    def features(
        self,
        kind: str,
        value: str,
        currency: str,
        now_ms: int,
        out: dict[str, object],
        reads: Container[str] | None = None,
    ) -> None:
        """Write velocity.<kind>.{count,sum,declines}_<window> into `out`: all
        of them, or those in `reads` (what the rules read).

        Counts what was recorded up to `now_ms`: the payment being decided is not
        recorded yet, so it is not counted."""
        key = (kind, value, currency)
        sales = self.sales.get(key) if value else None
        declines = self.declines.get(key) if value else None
        for ms, count_key, sum_key, declines_key in _KEYS[kind]:
            start = now_ms - ms
            if reads is None or count_key in reads or sum_key in reads:
                if sales is not None:
                    out[count_key], out[sum_key] = sales.window(start, now_ms)
                else:
                    out[count_key] = out[sum_key] = 0
            if reads is None or declines_key in reads:
                out[declines_key] = (
                    declines.count_since(start, now_ms) if declines is not None else 0
                )

    def prune(self, now_ms: int) -> None:
        """Forget what no window can see any more."""
        cutoff = now_ms - HORIZON_MS
        for table in (self.sales, self.declines):
            empty = []
            for key, series in table.items():
                series.prune(cutoff)
                if not series.times:
                    empty.append(key)
            for key in empty:
                del table[key]
