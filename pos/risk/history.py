"""The terminal's own past as a yardstick: how unusual is this amount for this
hour of the week, and this basket size, judged by robust statistics (median
and median absolute deviation, so a few past outliers do not move the bar)."""

from __future__ import annotations

from collections import deque
from statistics import median

AMOUNT_SAMPLE = 200  # latest approved sales kept per hour-of-week bucket
BASKET_SAMPLE = 1000  # latest basket sizes kept
MIN_SAMPLES = 20  # fewer than this and the score says nothing
Z_CAP = 10.0
HOURS_OF_WEEK = 168


class RobustSample:
    """A bounded sample with its median and robust spread cached between changes."""

    __slots__ = ("_stats", "values")

    def __init__(self, size: int) -> None:
        self.values: deque[int] = deque(maxlen=size)
        self._stats: tuple[float, float] | None = None

    def add(self, value: int) -> None:
        self.values.append(value)
        self._stats = None

    def __len__(self) -> int:
        return len(self.values)

    def stats(self) -> tuple[float, float]:
        """(median, scale) where scale turns a deviation into a z-score."""
        if self._stats is None:
            med = median(self.values)
            deviations = [abs(v - med) for v in self.values]
            mad = median(deviations)
            # 1.4826 * MAD estimates sigma for normal data; when over half the values
            # are equal the MAD is 0 and the mean deviation still sees the rest.
            mean_dev = sum(deviations) / len(deviations)
            scale = 1.4826 * mad if mad > 0 else 1.2533 * mean_dev
            self._stats = (float(med), float(scale))
        return self._stats

    def z(self, value: int) -> float:
        """Robust z-score of `value`, 0 when the sample is too small to judge."""
        if len(self.values) < MIN_SAMPLES:
            return 0.0
        med, scale = self.stats()
        if scale == 0:
            if value == med:
                return 0.0
            return Z_CAP if value > med else -Z_CAP
        return max(-Z_CAP, min(Z_CAP, (value - med) / scale))


class History:
    """Approved sales: amounts per local hour of the week, and basket sizes."""

    def __init__(self) -> None:
        self.amounts = [RobustSample(AMOUNT_SAMPLE) for _ in range(HOURS_OF_WEEK)]
        self.baskets = RobustSample(BASKET_SAMPLE)

    def add(self, hour_of_week: int, amount: int, items: int) -> None:
        self.amounts[hour_of_week].add(amount)
        self.baskets.add(items)

    def features(self, hour_of_week: int, amount: int, items: int, out: dict[str, object]) -> int:
        """Write history.* into `out`; return the anomaly score 0-100."""
        bucket = self.amounts[hour_of_week]
        amount_z = bucket.z(amount)
        basket_z = self.baskets.z(items)
        # Only the unusually large worries us: a small sale is not a risk.
        score = min(100, round(20 * max(amount_z, basket_z, 0.0)))
        out["history.amount_z"] = amount_z
        out["history.basket_z"] = basket_z
        out["history.samples"] = len(bucket)
        out["history.score"] = score
        return score
