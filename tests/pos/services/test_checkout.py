from __future__ import annotations

import pytest

from pos.barcode import with_check_digit
from pos.errors import InvalidInput, NotAllowed, NotFound
from pos.money import Money
from pos.order.discounts import Discount
from pos.order.state import OrderState
from pos.order.tenders import Tender
from pos.services.refunds import GiveBack
from pos.services.terminal_services import TerminalServices
from tests.pos.services.conftest import CASHIER_PIN, MANAGER_PIN


def approval(services: TerminalServices, action: str = "discount"):
    return services.users.approval("boss", MANAGER_PIN, action)


def test_cash_sale_commits_order_tender_receipt_and_journal_together(services):
    co = services.checkout
    order = co.new_order("c1")
    co.scan(order.order_id, "6901234000016")
    co.add_item(order.order_id, "DRK-002", 2)
    receipt = co.pay_cash(order.order_id, Money.parse("20"))
    assert receipt.order.state is OrderState.PAID
    assert receipt.receipt_no == "RT01-20260302-0001"
    assert receipt.order.change == Money.parse("12.50")
    tenders = co.tenders(order.order_id)
    assert [(t["kind"], t["amount_minor"], t["tendered_minor"]) for t in tenders] == [
        ("payment", 750, 2000)
    ]
    report = services.verify()
    assert report.ok, report.summary()


def test_receipt_numbers_are_gap_free_per_business_day(services, clock):
    co = services.checkout
    numbers = []
    for _ in range(3):
        o = co.new_order("c1")
        co.add_item(o.order_id, "DRK-001")
        numbers.append(co.pay_cash(o.order_id, Money(350)).receipt_no)
    clock.advance(24 * 3600)
    o = co.new_order("c1")
    co.add_item(o.order_id, "DRK-001")
    numbers.append(co.pay_cash(o.order_id, Money(350)).receipt_no)
    assert [n.rsplit("-", 2)[1:] for n in numbers] == [
        ["20260302", "0001"],
        ["20260302", "0002"],
        ["20260302", "0003"],
        ["20260303", "0001"],
    ]


def test_business_day_runs_past_midnight_until_four(services, clock):
    clock.advance(15 * 3600 + 1800)  # 01:30 the next morning in Shanghai
    assert services.checkout.business_date() == "2026-03-02"


def test_split_tender_takes_alipay_reference_and_cash_change(services):
    co = services.checkout
    o = co.new_order("c1")
    co.add_item(o.order_id, "DLY-005")  # 29.90
    first = co.take_tender(o.order_id, Tender("alipay", Money(1000), reference="2026ALI1"))
    assert first.receipt_no is None and first.order.state is OrderState.OPEN
    done = co.pay_cash(o.order_id, Money(2000))
    assert done.order.state is OrderState.PAID
    assert done.order.change == Money(10)
    assert services.verify().ok


def test_large_discount_needs_a_manager_and_the_approval_is_journaled(services):
    co = services.checkout
    o = co.new_order("c1")
    co.add_item(o.order_id, "DLY-007", 3)  # 117.00
    with pytest.raises(NotAllowed, match="manager"):
        co.discount_order(o.order_id, Discount.percent(3000))
    co.discount_order(o.order_id, Discount.percent(3000, approval=approval(services)))
    with services.terminal.db.read() as conn:
        kinds = [r[0] for r in conn.execute("SELECT type FROM journal ORDER BY seq")]
        approver = conn.execute("SELECT approver_id FROM approvals").fetchone()[0]
    assert "approval.granted" in kinds
    assert approver == "boss"
    assert co.get(o.order_id).order.total == Money(8190)


def test_parked_order_resumes_with_its_lines(services):
    co = services.checkout
    o = co.new_order("c1")
    co.add_item(o.order_id, "SNK-001", 2)
    co.park(o.order_id)
    assert [p.order.order_id for p in co.parked()] == [o.order_id]
    with pytest.raises(NotAllowed):
        co.add_item(o.order_id, "SNK-002")
    resumed = co.resume(o.order_id)
    assert resumed.state is OrderState.OPEN and len(resumed.lines) == 1
    assert co.parked() == []


def test_open_cart_survives_reopening_the_store(services, tmp_path, clock):
    co = services.checkout
    o = co.new_order("c1")
    co.add_item(o.order_id, "SNK-003", 4)
    services.close()
    again = TerminalServices.open(tmp_path / "term", clock)
    try:
        left = again.checkout.open_orders()
        assert [s.order.order_id for s in left] == [o.order_id]
        assert left[0].order.lines[0].quantity == 4
    finally:
        again.close()


def test_weighted_label_price_is_charged_as_printed(services):
    co = services.checkout
    o = co.new_order("c1")
    label = with_check_digit("2000101" + "01536")  # apples, ¥15.36 on the scale label
    order = co.scan(o.order_id, label)
    assert order.total == Money(1536)


def test_unknown_and_malformed_barcodes_get_clear_errors(services):
    co = services.checkout
    o = co.new_order("c1")
    with pytest.raises(NotFound, match=r"(?i)no product"):
        co.scan(o.order_id, with_check_digit("690999999999"))
    with pytest.raises(InvalidInput):
        co.scan(o.order_id, "6901234000017")  # bad check digit
    assert co.get(o.order_id).order.lines == ()


def test_refund_goes_back_per_tender_and_never_exceeds_what_was_paid(services):
    co = services.checkout
    o = co.new_order("c1")
    co.add_item(o.order_id, "DLY-005", 2)  # 59.80
    co.take_tender(o.order_id, Tender("wechat", Money(2000), reference="WX1"))
    co.pay_cash(o.order_id, Money(5000))
    given: list[GiveBack] = []

    def gateway(part: GiveBack) -> str:
        given.append(part)
        return f"RF-{part.channel}"

    ok = approval(services, "refund")
    line = co.get(o.order_id).order.lines[0].line_id
    order, refund = co.refund(
        o.order_id, approval=ok, cashier_id="c1", lines={line: 1}, gateway=gateway
    )
    assert refund.amount == Money(2990)
    assert [(g.channel, g.amount.minor) for g in given] == [("wechat", 2000)]
    assert order.state is OrderState.PARTLY_REFUNDED
    with pytest.raises(NotAllowed, match="more than"):
        co.refund(o.order_id, approval=ok, cashier_id="c1", amount=Money(3000), gateway=gateway)
    order, _ = co.refund(o.order_id, approval=ok, cashier_id="c1", amount=Money(2990))
    assert order.state is OrderState.REFUNDED
    assert services.verify().ok


def test_refund_without_a_manager_is_refused(services):
    co = services.checkout
    o = co.new_order("c1")
    co.add_item(o.order_id, "DRK-001")
    co.pay_cash(o.order_id, Money(350))
    cashier = services.users.login("c1", CASHIER_PIN)
    with pytest.raises(NotAllowed):
        services.users.approval(cashier.user_id, CASHIER_PIN, "refund")


def test_failed_channel_refund_commits_nothing(services):
    co = services.checkout
    o = co.new_order("c1")
    co.add_item(o.order_id, "DRK-001")
    co.take_tender(o.order_id, Tender("alipay", Money(350), reference="A1"))

    def down(part: GiveBack) -> str:
        raise NotAllowed("gateway unreachable", "try later")

    with pytest.raises(NotAllowed, match="unreachable"):
        co.refund(
            o.order_id,
            approval=approval(services),
            cashier_id="c1",
            amount=Money(350),
            gateway=down,
        )
    assert co.get(o.order_id).order.state is OrderState.PAID
    assert co.prior_refunds(o.order_id) == []


def test_void_after_payment_gives_cash_back_and_needs_a_manager(services):
    co = services.checkout
    o = co.new_order("c1")
    co.add_item(o.order_id, "SNK-010")
    co.pay_cash(o.order_id, Money(2000))
    with pytest.raises(NotAllowed, match="manager"):
        co.void(o.order_id)
    voided = co.void(o.order_id, approval(services, "void"), "wrong customer")
    assert voided.state is OrderState.VOIDED
    rows = co.tenders(o.order_id)
    assert [(r["kind"], r["amount_minor"]) for r in rows] == [("payment", 1280), ("refund", 1280)]
    assert services.verify().ok


def test_verify_finds_an_edited_order_total_and_a_deleted_tender(services):
    co = services.checkout
    o = co.new_order("c1")
    co.add_item(o.order_id, "DRK-001")
    co.pay_cash(o.order_id, Money(500))
    with services.terminal.db.transaction() as conn:
        conn.execute("UPDATE orders SET total_minor = 1 WHERE id = ?", (o.order_id,))
    report = services.verify()
    assert not report.ok
    assert any("total" in p for p in report.problems)
    with services.terminal.db.transaction() as conn:
        conn.execute("UPDATE orders SET total_minor = 350 WHERE id = ?", (o.order_id,))
        conn.execute("DELETE FROM tenders WHERE order_id = ?", (o.order_id,))
    report = services.verify()
    assert any("not in the tenders table" in p for p in report.problems)


def test_search_finds_chinese_english_and_short_queries(services):
    co = services.checkout
    assert any(p.sku == "DRK-001" for p in co.search("可口可乐"))
    assert any(p.sku == "DRK-001" for p in co.search("coca"))
    assert any(p.sku == "DRK-001" for p in co.search("可乐"))
    assert co.search("   ") == []
    assert co.search('"; DROP TABLE products; --') == []


def test_login_is_journaled_and_a_wrong_pin_is_refused(services):
    with pytest.raises(NotAllowed):
        services.users.login("c1", "0000")
    assert services.users.login("c1", CASHIER_PIN).user_id == "c1"
    with services.terminal.db.read() as conn:
        logins = conn.execute("SELECT payload FROM journal WHERE type = 'user.login'").fetchall()
    assert len(logins) == 2
    assert all(CASHIER_PIN not in r[0] and "0000" not in r[0] for r in logins)


def test_five_wrong_pins_lock_the_account_for_ten_minutes(services, clock):
    for _ in range(5):
        with pytest.raises(NotAllowed, match="wrong PIN"):
            services.users.login("c1", "0000")
    with pytest.raises(NotAllowed, match="locked"):
        services.users.login("c1", CASHIER_PIN)
    clock.advance(11 * 60)
    assert services.users.login("c1", CASHIER_PIN).user_id == "c1"


def test_pin_only_sign_in_locks_after_five_wrong_pins(services, clock):
    for _ in range(5):
        with pytest.raises(NotAllowed):
            services.users.login_by_pin("0000")
    with pytest.raises(NotAllowed, match="locked"):
        services.users.login_by_pin(CASHIER_PIN)
    clock.advance(11 * 60)
    assert services.users.login_by_pin(CASHIER_PIN).user_id == "c1"
