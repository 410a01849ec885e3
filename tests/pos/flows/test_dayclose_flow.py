from __future__ import annotations

from pathlib import Path

import pytest

from pos.flows import Cancelled, CancelToken, DayCloseFlow, DayCloseState, FlowError
from pos.money import Money
from tests.pos.flows.flow_fakes import MANAGER_OK, FakeDayClose


def test_exact_count_closes_without_a_reason() -> None:
    port = FakeDayClose()
    flow = DayCloseFlow(port)
    flow.set_count(10000, 12)
    flow.set_count(1000, 3)
    flow.set_count(100, 4)
    flow.set_count(50, 1)
    assert flow.counted == Money(123_450) and flow.over_short == Money(0)
    report = flow.close("", MANAGER_OK)
    assert report["counted_minor"] == 123_450 and flow.state is DayCloseState.CLOSED
    assert port.closed[0][3] == "m1"


def test_short_drawer_needs_a_reason() -> None:
    flow = DayCloseFlow(FakeDayClose())
    flow.set_count(10000, 12)
    assert flow.over_short == Money(-3450)
    with pytest.raises(FlowError) as exc:
        flow.close("  ", MANAGER_OK)
    assert "short by ¥34.50" in exc.value.text.render("en")
    flow.close("change given twice", MANAGER_OK)


def test_count_rejects_unknown_denominations_and_negative_counts() -> None:
    flow = DayCloseFlow(FakeDayClose())
    with pytest.raises(FlowError):
        flow.set_count(300, 1)
    with pytest.raises(FlowError):
        flow.set_count(100, -1)
    flow.set_count(100, 2)
    flow.set_count(100, 0)
    assert flow.counted == Money(0)


def test_export_only_after_close_and_reports_progress(tmp_path: Path) -> None:
    flow = DayCloseFlow(FakeDayClose())
    seen: list[tuple[int, int]] = []
    with pytest.raises(FlowError):
        flow.export("csv", tmp_path / "z.csv", lambda d, t: seen.append((d, t)), CancelToken())
    flow.set_count(10000, 12)
    flow.close("counted twice", MANAGER_OK)
    out = flow.export("csv", tmp_path / "z.csv", lambda d, t: seen.append((d, t)), CancelToken())
    assert out.read_text() == "csv 2026-01-05" and seen[-1] == (3, 3)
    with pytest.raises(FlowError):
        flow.export("doc", tmp_path / "z.doc", lambda d, t: None, CancelToken())


def test_cancelled_export_stops(tmp_path: Path) -> None:
    flow = DayCloseFlow(FakeDayClose())
    flow.close("none counted", MANAGER_OK)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        flow.export("pdf", tmp_path / "z.pdf", lambda d, t: None, token)
    assert not (tmp_path / "z.pdf").exists()
