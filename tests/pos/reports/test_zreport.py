from __future__ import annotations

import pytest

from pos.canonical import loads
from pos.clock import FakeClock
from pos.errors import InvalidInput, NotAllowed, NotFound
from pos.money import Money
from pos.reports.compute import ReportContext, ReportDataError
from pos.reports.model import report_from_dict
from pos.reports.zreport import (
    close_day,
    daily_report,
    load_z,
    x_report,
    z_reports_agree_with_journal,
)
from pos.services.terminal_services import TerminalServices

from .conftest import approval, ring_up_a_day

DATE = "2026-03-02"


def _close(services: TerminalServices, ctx: ReportContext, counted: Money, **kw: object):
    t = services.terminal
    return close_day(
        t.db,
        t.journal,
        ctx,
        kw.pop("date", DATE),  # type: ignore[arg-type]
        now=t.clock.now(),
        counted=counted,
        reason=kw.pop("reason", ""),  # type: ignore[arg-type]
        approval=kw.pop("approval", approval(services, "close day")),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def _expected_cash(services: TerminalServices, ctx: ReportContext) -> Money:
    return x_report(services.terminal.db, ctx, DATE, services.terminal.clock.now()).cash.expected


def test_z_report_of_a_day_through_every_tender_equals_the_journal(
    services: TerminalServices, ctx: ReportContext, clock: FakeClock
) -> None:
    day = ring_up_a_day(services, clock)
    closed = _close(services, ctx, _expected_cash(services, ctx))
    z = closed.report
    cur = "CNY"

    assert closed.z_no == 1 and z.z_no == 1 and z.kind == "Z"
    assert z.journal.agrees, z.journal.problems
    assert z.journal.sales == z.sales and z.journal.refunds == z.refunds
    assert z.journal.voids == z.voids.count == 2
    assert z.sales.count == len(day.sales)
    assert z.sales.amount == Money(sum(day.sales.values()), cur)
    assert z.refunds.amount == Money(sum(day.refunds), cur)
    assert z.voids.amount == Money(sum(day.voids), cur)
    assert z.void_returns == Money(day.void_returns, cur)
    assert {t.channel for t in z.tenders} == {"cash", "alipay", "wechat", "card"}
    for t in z.tenders:
        assert t.payments.amount.minor == day.by_channel[t.channel]
        assert t.refunds.amount.minor == day.refunded.get(t.channel, 0)
    # The day's net: every way of adding it up gives the same figure.
    assert sum(t.net.minor for t in z.tenders) == z.net.minor
    assert sum(r.gross.minor for r in z.tax_by_rate) == z.net.minor
    assert all(r.net + r.tax == r.gross for r in z.tax_by_rate)
    assert len(z.tax_by_rate) >= 2
    assert sum(h.sales.amount.minor for h in z.hours) == z.sales.amount.minor
    assert len(z.hours) >= 3
    per_cashier = {c.cashier_id: c.sales.amount.minor for c in z.cashiers}
    assert per_cashier == day.cashier_sales
    assert {c.name for c in z.cashiers} == {"张伟", "Li Na"}
    assert z.cash.expected.minor == day.by_channel["cash"] - day.refunded["cash"]
    assert z.cash.over_short == Money(0, cur)
    assert z.closed_by == "王经理 (boss)"
    assert z.discounts.minor > 0 and z.gross - z.discounts == z.sales.amount

    report = services.verify()
    assert report.ok, report.summary()


def test_z_report_is_journaled_signed_and_reads_back_checked(
    services: TerminalServices, ctx: ReportContext, clock: FakeClock
) -> None:
    ring_up_a_day(services, clock)
    closed = _close(services, ctx, _expected_cash(services, ctx))
    with services.terminal.db.read() as conn:
        assert z_reports_agree_with_journal(conn) == []
        etype, payload = conn.execute(
            "SELECT type, payload FROM journal WHERE seq = ?", (closed.journal_seq,)
        ).fetchone()
    assert etype == "day.closed"
    assert loads(payload)["sha256"] == closed.sha256
    assert report_from_dict(loads(payload)["report"]) == closed.report
    again = load_z(services.terminal.db, business_date=DATE)
    assert again.report == closed.report and again.z_no == 1
    assert load_z(services.terminal.db, z_no=1).sha256 == closed.sha256
    assert daily_report(services.terminal.db, ctx, DATE, clock.now()) == closed.report


def test_a_stored_z_report_changed_afterwards_is_refused(
    services: TerminalServices, ctx: ReportContext, clock: FakeClock
) -> None:
    ring_up_a_day(services, clock)
    closed = _close(services, ctx, _expected_cash(services, ctx))
    with services.terminal.db.transaction() as conn:
        doc = conn.execute("SELECT doc FROM z_reports").fetchone()[0]
        forged = doc.replace(f'"net_minor":{closed.report.net.minor}', '"net_minor":1')
        conn.execute("UPDATE z_reports SET doc = ?", (forged,))
    with pytest.raises(ReportDataError, match="does not match its signed journal entry"):
        load_z(services.terminal.db, business_date=DATE)
    with services.terminal.db.read() as conn:
        assert z_reports_agree_with_journal(conn) == [
            f"Z 1 differs from its signed journal entry {closed.journal_seq}"
        ]


def test_z_numbers_run_on_without_gaps_and_a_day_closes_once(
    services: TerminalServices, ctx: ReportContext, clock: FakeClock
) -> None:
    ring_up_a_day(services, clock)
    assert _close(services, ctx, _expected_cash(services, ctx)).z_no == 1
    with pytest.raises(NotAllowed, match="already closed \\(Z 1\\)"):
        _close(services, ctx, Money(0))
    clock.advance(24 * 3600)
    o = services.checkout.new_order("c1")
    services.checkout.add_item(o.order_id, "DRK-001")
    services.checkout.pay_cash(o.order_id, Money(350))
    second = _close(services, ctx, Money(350), date="2026-03-03")
    assert second.z_no == 2 and second.report.sales.count == 1


def test_x_report_changes_nothing_and_counts_open_orders(
    services: TerminalServices, ctx: ReportContext, clock: FakeClock
) -> None:
    ring_up_a_day(services, clock)
    co = services.checkout
    parked = co.new_order("c2")
    co.add_item(parked.order_id, "SNK-001")
    co.park(parked.order_id)
    db = services.terminal.db
    with db.read() as conn:
        before = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    x = x_report(db, ctx, DATE, clock.now())
    assert x.kind == "X" and x.z_no is None and x.open_orders == 1
    with db.read() as conn:
        assert conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0] == before
    with pytest.raises(NotAllowed, match="still open or parked"):
        _close(services, ctx, x.cash.expected)
    co.resume(parked.order_id)
    co.void(parked.order_id)
    assert _close(services, ctx, x.cash.expected).report.open_orders == 0


def test_cash_over_or_short_needs_a_reason_and_is_on_the_z_report(
    services: TerminalServices, ctx: ReportContext, clock: FakeClock
) -> None:
    ring_up_a_day(services, clock)
    expected = _expected_cash(services, ctx)
    with pytest.raises(InvalidInput, match=r"short by ¥0\.50"):
        _close(services, ctx, expected - Money(50))
    z = _close(services, ctx, expected - Money(50), reason="找零多给了5角").report
    assert z.cash.over_short == Money(-50) and z.cash.reason == "找零多给了5角"


def test_closing_the_day_needs_a_manager(
    services: TerminalServices, ctx: ReportContext, clock: FakeClock
) -> None:
    ring_up_a_day(services, clock)
    with pytest.raises(NotAllowed, match="needs a manager"):
        _close(services, ctx, Money(0), approval=None)


def test_a_table_changed_behind_the_journal_stops_the_close(
    services: TerminalServices, ctx: ReportContext, clock: FakeClock
) -> None:
    ring_up_a_day(services, clock)
    expected = _expected_cash(services, ctx)
    with services.terminal.db.transaction() as conn:
        conn.execute(
            "UPDATE tenders SET amount_minor = amount_minor - 100 WHERE channel = 'wechat'"
        )
    x = x_report(services.terminal.db, ctx, DATE, clock.now())
    assert not x.journal.agrees
    assert any(p.startswith("wechat paid") for p in x.journal.problems)
    with pytest.raises(NotAllowed, match="disagree with the signed journal"):
        _close(services, ctx, expected)
    forced = _close(services, ctx, expected, force=True)
    assert forced.report.extra == {"forced": "journal differs"}


def test_a_day_never_closed_has_no_z_report(services: TerminalServices) -> None:
    with pytest.raises(NotFound, match="has not been closed"):
        load_z(services.terminal.db, business_date="2026-01-01")


def test_an_empty_day_closes_with_zero_totals(
    services: TerminalServices, ctx: ReportContext
) -> None:
    z = _close(services, ctx, Money(0)).report
    assert z.sales.count == 0 and z.net == Money(0) and z.tenders == ()
    assert z.journal.agrees and z.journal.entries == 0
