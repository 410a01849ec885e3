from __future__ import annotations

from pos.risk.velocity import HORIZON_MS, Series, VelocityIndex

MIN = 60_000


def test_a_window_counts_and_sums_events_inside_it_only() -> None:
    s = Series()
    for t, amount in ((0, 100), (5 * MIN, 200), (9 * MIN, 300), (20 * MIN, 400)):
        s.add(t, amount)
    assert s.window(20 * MIN - 10 * MIN, 20 * MIN) == (1, 400)
    assert s.window(0, 9 * MIN) == (3, 600)
    assert s.window(1, 9 * MIN - 1) == (1, 200)
    assert s.window(21 * MIN, 30 * MIN) == (0, 0)


def test_a_late_event_keeps_the_series_in_time_order() -> None:
    s = Series()
    s.add(10 * MIN, 10)
    s.add(30 * MIN, 30)
    s.add(20 * MIN, 20)
    assert s.times == [10 * MIN, 20 * MIN, 30 * MIN]
    assert s.window(15 * MIN, 25 * MIN) == (1, 20)
    assert s.window(0, 40 * MIN) == (3, 60)


def test_pruning_forgets_old_events_and_keeps_the_totals_right() -> None:
    s = Series()
    for i in range(10):
        s.add(i * MIN, i + 1)
    s.prune(8 * MIN)
    assert s.times == [8 * MIN, 9 * MIN]
    assert s.window(0, 10 * MIN) == (2, 9 + 10)


def test_velocity_is_kept_per_subject_and_currency() -> None:
    v = VelocityIndex()
    v.add((("card", "a"), ("terminal", "T1")), "CNY", 0, 100, approved=True)
    v.add((("card", "a"), ("terminal", "T1")), "HKD", MIN, 500, approved=True)
    v.add((("card", "b"), ("terminal", "T1")), "CNY", 2 * MIN, 50, approved=False)
    out: dict[str, object] = {}
    v.features("card", "a", "CNY", 3 * MIN, out)
    assert (out["velocity.card.count_10m"], out["velocity.card.sum_10m"]) == (1, 100)
    assert out["velocity.card.declines_10m"] == 0
    v.features("terminal", "T1", "CNY", 3 * MIN, out)
    assert (out["velocity.terminal.count_1h"], out["velocity.terminal.declines_1h"]) == (1, 1)
    v.features("card", "", "CNY", 3 * MIN, out)
    assert out["velocity.card.count_24h"] == 0


def test_the_index_forgets_subjects_no_window_can_see() -> None:
    v = VelocityIndex()
    v.add((("card", "old"),), "CNY", 0, 1, approved=True)
    v.add((("card", "new"),), "CNY", HORIZON_MS + MIN, 1, approved=True)
    v.prune(HORIZON_MS + 2 * MIN)
    assert [k[1] for k in v.sales] == ["new"]


def test_the_state_forgets_subjects_unseen_for_a_whole_day() -> None:
    from pos.risk.repository import EventRow
    from pos.risk.state import RiskState

    state = RiskState("CNY")

    def sale(at_ms: int, card: str) -> EventRow:
        return EventRow(at_ms, "sale", "approved", 100, "CNY", "T1", card_token=card)

    state.apply(sale(0, "old"))
    state.apply(sale(HORIZON_MS // 2, "new"))
    assert ("card", "old", "CNY") in state.velocity.sales
    state.apply(sale(HORIZON_MS + MIN, "newer"))
    assert ("card", "old", "CNY") not in state.velocity.sales
    assert {k[1] for k in state.velocity.sales if k[0] == "card"} == {"new", "newer"}
