from __future__ import annotations

from pos.risk.history import MIN_SAMPLES, Z_CAP, History, RobustSample


def filled(values: list[int]) -> RobustSample:
    s = RobustSample(500)
    for v in values:
        s.add(v)
    return s


def test_a_few_past_outliers_do_not_move_the_yardstick() -> None:
    usual = [100 + (i % 11) for i in range(60)]
    clean = filled(usual)
    dirty = filled([*usual, 90_000, 95_000])
    assert abs(clean.z(5_000) - dirty.z(5_000)) / clean.z(5_000) < 0.25
    assert dirty.z(105) < 1


def test_too_little_history_says_nothing() -> None:
    s = filled([100] * (MIN_SAMPLES - 1))
    assert s.z(1_000_000) == 0.0


def test_a_constant_history_still_flags_a_different_amount() -> None:
    s = filled([100] * 40)
    assert s.z(100) == 0.0
    assert s.z(5_000) == Z_CAP
    t = filled([100] * 30 + [120] * 10)
    assert 0 < t.z(200) <= Z_CAP


def test_the_score_looks_at_this_hour_of_the_week_and_only_upwards() -> None:
    h = History()
    for i in range(40):
        h.add(10, 5_000 + (i % 5) * 100, 3)
    out: dict[str, object] = {}
    assert h.features(10, 5_100, 3, out) == 0
    assert h.features(10, 100, 3, out) == 0  # a small sale is no risk
    assert h.features(10, 90_000, 3, out) == 100
    assert out["history.samples"] == 40
    assert h.features(11, 90_000, 3, out) == 0  # another hour: no history
    assert h.features(11, 5_000, 60, out) == 100  # but an odd basket is odd at any hour
