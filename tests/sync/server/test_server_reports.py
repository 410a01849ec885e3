"""Store reports: the day's settlement per store, terminal and channel, and
per channel across terminals, equal to what the terminals took; CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from pos.clock import iso
from pos.money import Money
from pos.services.terminal_services import TerminalServices
from sync.client import SyncClient, enroll
from sync.server import reports, settlement


def _sync(shop: TerminalServices, server: Any) -> None:
    enroll(shop.terminal, server.url, server.code(shop.terminal.store_id))
    client = SyncClient.for_terminal(shop.terminal, {})
    client.sync_once()
    client.close()


def test_daily_settlement_equals_what_each_terminal_took(
    new_shop: Any, server: Any, ring_up: Any
) -> None:
    a, b = new_shop("T-A"), new_shop("T-B")
    taken_a, taken_b = ring_up(a, 12, 1), ring_up(b, 7, 2)
    for s in (a, b):
        _sync(s, server)
    day = a.checkout.business_date()
    rows = reports.daily_settlement(server.engine, day, "S001")
    by_terminal = {(r.terminal_id, r.channel): r for r in rows}
    assert by_terminal[("T-A", "cash")].payments_minor == taken_a
    assert by_terminal[("T-A", "cash")].payments == 12
    assert by_terminal[("T-B", "cash")].net_minor == taken_b
    assert by_terminal[("*", "cash")].net_minor == taken_a + taken_b

    resp = httpx.get(
        f"{server.url}/v1/reports/daily",
        params={"date": day},
        headers={"Authorization": "Bearer admin-secret"},
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(resp.text)))
    total = next(r for r in table if r["terminal_id"] == "*")
    assert total["net_amount"] == Money(taken_a + taken_b).amount_text()
    assert httpx.get(f"{server.url}/v1/reports/daily", params={"date": day}).status_code == 403


def test_refunds_and_voids_count_negative_and_unreadable_payloads_add_nothing() -> None:
    from sync.server.settlement import business_date, lines_for_entry

    t = "2026-01-05T17:30:00.000000Z"  # 01:30 next day in Shanghai: still the 5th's business day
    assert business_date(t) == "2026-01-05"
    paid = lines_for_entry(
        1, "tender.taken", '{"order_id":"O1","tender":{"amount_minor":880,"channel":"alipay"}}', t
    )
    assert [(x["kind"], x["amount_minor"], x["channel"], x["currency"]) for x in paid] == [
        ("payment", 880, "alipay", "CNY")
    ]
    refund = lines_for_entry(
        2,
        "refund.completed",
        '{"business_date":"2026-01-06","order_id":"O1","tenders":['
        '{"amount_minor":300,"channel":"alipay"},{"amount_minor":80,"channel":"cash"}]}',
        t,
    )
    assert [(x["amount_minor"], x["business_date"]) for x in refund] == [
        (-300, "2026-01-06"),
        (-80, "2026-01-06"),
    ]
    void = lines_for_entry(
        3, "order.voided", '{"order_id":"O2","tenders":[{"amount_minor":5,"channel":"cash"}]}', t
    )
    assert [x["amount_minor"] for x in void] == [-5]
    assert lines_for_entry(4, "sale.paid", '{"order_id":"O1"}', t) == []
    assert lines_for_entry(5, "tender.taken", "not json", t) == []
    assert (
        lines_for_entry(6, "tender.taken", '{"tender":{"amount_minor":"5","channel":"cash"}}', t)
        == []
    )
    unknown_currency = '{"tender":{"amount_minor":5,"channel":"cash","currency":"XYZ"}}'
    assert lines_for_entry(7, "tender.taken", unknown_currency, t) == []
    too_much = '{"tender":{"amount_minor":1000000000000001,"channel":"cash"}}'
    assert lines_for_entry(8, "tender.taken", too_much, t) == []


def test_the_csv_shows_any_total_and_keeps_formula_like_text_inert() -> None:
    """Totals over many terminals may pass one sale's limit; a channel name a
    terminal sent that starts like a formula must not run in a spreadsheet."""
    rows = [
        reports.SettlementRow("S001", "T-1", "=HYPERLINK(1)", "CNY", 3, 3 * 10**15, 1, -5),
        reports.SettlementRow("S001", "*", "cash", "JPY", 1, 1200, 0, 0),
    ]
    table = list(csv.DictReader(io.StringIO(reports.to_csv("2026-01-05", rows))))
    assert table[0]["channel"] == "'=HYPERLINK(1)"
    assert table[0]["payments_amount"] == "30000000000000.00"
    assert table[0]["net_amount"] == "29999999999999.95"
    assert (table[1]["net_amount"], table[1]["refunds_amount"]) == ("1200", "0")


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_the_business_date_is_the_store_date_of_a_day_starting_at_four(moment: datetime) -> None:
    text = iso(moment.replace(tzinfo=UTC))
    local = moment.replace(tzinfo=UTC).astimezone(settlement.STORE_TZ)
    assert settlement.business_date(text) == (local - timedelta(hours=4)).date().isoformat()
