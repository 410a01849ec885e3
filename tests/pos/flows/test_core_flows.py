"""The flows over the terminal's real services: a provisioned, encrypted store,
the real order domain, journal and PIN hashes."""

from __future__ import annotations

import pytest

from pos.errors import NotAllowed, NotFound
from pos.flows import (
    ApprovalRequired,
    CheckoutFlow,
    CheckoutState,
    FlowError,
    RefundFlow,
    TenderState,
)
from pos.flows.core import CoreServices
from pos.flows.ports import Discount
from pos.flows.views import Outcome, Role, Session
from pos.money import Money
from pos.services.terminal_services import TerminalServices
from tests.pos.flows.conftest import CASHIER_PIN, MANAGER_PIN
from tests.pos.flows.flow_fakes import Events

COLA = "6901234000016"  # 3.50
CHIPS = "6901234001013"  # 7.50


def test_login_by_pin_gives_the_role_and_a_wrong_pin_is_refused(core: CoreServices) -> None:
    assert core.login(MANAGER_PIN).role is Role.MANAGER
    assert core.login(CASHIER_PIN).name == "Zhang Wei"
    with pytest.raises(NotAllowed):
        core.login("0000")
    with pytest.raises(NotAllowed):
        core.approve(CASHIER_PIN, "refund")


def test_cash_sale_is_paid_with_change_journaled_and_has_a_receipt(
    real_flow: CheckoutFlow, terminal_services: TerminalServices
) -> None:
    real_flow.scan(COLA)
    real_flow.scan(CHIPS)
    tender = real_flow.start_tender()
    assert tender.remaining == Money(1100)
    tender.prepare("cash", "cash", tendered=Money(2000))
    result = tender.run(Events())
    assert result.status is Outcome.SUCCEEDED and result.change == Money(900)
    assert real_flow.finish_if_paid()
    paid = real_flow.last_paid
    assert paid is not None and paid.receipt_no and paid.state == "paid"
    assert "11.00" in real_flow.receipt_text()
    assert terminal_services.verify().ok


def test_split_cash_then_cash_pays_in_two_tenders(real_flow: CheckoutFlow) -> None:
    real_flow.scan(CHIPS)
    tender = real_flow.start_tender()
    tender.prepare("cash", "cash", tendered=Money(500))
    tender.run(Events())
    assert tender.state is TenderState.CHOOSING and tender.remaining == Money(250)
    tender.prepare("cash", "cash", tendered=Money(1000))
    assert tender.run(Events()).change == Money(750)
    assert tender.paid and len(tender.order.tenders) == 2


def test_search_finds_products_in_both_languages(real_flow: CheckoutFlow) -> None:
    assert any(h.sku == "SNK-001" for h in real_flow.search("薯片"))
    assert any(h.sku == "DRK-001" for h in real_flow.search("Coca"))


def test_unknown_barcode_is_not_found_and_large_discount_needs_a_manager(
    real_flow: CheckoutFlow, core: CoreServices
) -> None:
    with pytest.raises(NotFound):
        real_flow.scan("4006381333931")
    line = real_flow.scan(CHIPS).lines[0].line_id
    with pytest.raises(ApprovalRequired):
        real_flow.discount_line(line, Discount(basis_points=5000))
    approval = core.approve(MANAGER_PIN, "discount")
    order = real_flow.discount_line(line, Discount(basis_points=5000), approval)
    assert order.total == Money(375)


def test_a_discount_larger_than_the_line_is_refused_without_asking_for_a_pin(
    real_flow: CheckoutFlow, core: CoreServices
) -> None:
    line = real_flow.scan(COLA).lines[0].line_id  # 3.50
    with pytest.raises(NotAllowed) as refused:
        real_flow.discount_line(line, Discount(amount=Money(99900)))
    # A manager's PIN cannot make 999.00 off a 3.50 line right: no PIN is asked.
    assert not isinstance(refused.value, ApprovalRequired)
    approval = core.approve(MANAGER_PIN, "discount")
    with pytest.raises(NotAllowed, match="more than"):
        real_flow.discount_line(line, Discount(amount=Money(99900)), approval)
    assert real_flow.order is not None and real_flow.order.total == Money(350)


def test_park_and_resume_keep_the_cart(real_flow: CheckoutFlow) -> None:
    first = real_flow.scan(COLA).order_id
    real_flow.park()
    real_flow.scan(CHIPS)
    real_flow.park()
    assert {p.order_id for p in real_flow.parked()} >= {first}
    order = real_flow.resume(first)
    assert [ln.sku for ln in order.lines] == ["DRK-001"]
    assert real_flow.state is CheckoutState.RINGING


def test_void_after_partial_payment_needs_a_manager_and_gives_cash_back(
    real_flow: CheckoutFlow, core: CoreServices
) -> None:
    real_flow.scan(CHIPS)
    tender = real_flow.start_tender()
    tender.prepare("cash", "cash", tendered=Money(500))
    tender.run(Events())
    real_flow.back_from_tender()
    with pytest.raises(ApprovalRequired):
        real_flow.void_order()
    order_id = tender.order.order_id
    real_flow.void_order(core.approve(MANAGER_PIN, "void"))
    assert core.get(order_id).state == "voided"


def test_refund_one_line_of_a_cash_sale_from_its_receipt(
    real_flow: CheckoutFlow, core: CoreServices, terminal_services: TerminalServices
) -> None:
    real_flow.scan(COLA)
    real_flow.scan(CHIPS)
    tender = real_flow.start_tender()
    tender.prepare("cash", "cash", tendered=Money(1100))
    tender.run(Events())
    real_flow.finish_if_paid()
    assert real_flow.last_paid is not None
    refund = RefundFlow(core, core)
    order = refund.lookup(real_flow.last_paid.receipt_no)
    chips = next(ln for ln in order.lines if ln.sku == "SNK-001")
    refund.toggle_line(chips.line_id)
    refund.request_approval("stale")
    result = refund.run(core.approve(MANAGER_PIN, "refund", "stale"))
    assert result.status is Outcome.SUCCEEDED
    assert result.order.state == "partly_refunded" and result.order.refunded == Money(750)
    assert core.refundable(order.order_id) == Money(350)
    assert terminal_services.verify().ok


def test_qr_tender_without_channels_says_how_to_set_them_up(real_flow: CheckoutFlow) -> None:
    real_flow.scan(COLA)
    tender = real_flow.start_tender()
    tender.prepare("alipay", "qr")
    with pytest.raises(NotAllowed) as exc:
        tender.run(Events())
    assert "not set up" in exc.value.message


GIFT_CARD = "6901234009002"  # 100.00, the kiosk asks a manager for gift cards


def test_kiosk_gift_card_needs_a_manager_and_the_decision_is_journaled(
    core: CoreServices, terminal_services: TerminalServices
) -> None:
    kiosk = CheckoutFlow(Session("k1", "Kiosk", Role.CASHIER), core, core, core, mode="kiosk")
    kiosk.scan(GIFT_CARD)
    tender = kiosk.start_tender()
    assert tender.prepare("cash", "cash", tendered=Money(10000)) is None
    assert tender.state is TenderState.STEP_UP
    assert tender.decision is not None and tender.decision.step_up == "manager_pin"
    assert any("gift" in r.en.lower() for r in tender.decision.reasons)
    tender.approve(core.approve(MANAGER_PIN, "risk_review"))
    assert tender.run(Events()).status is Outcome.SUCCEEDED
    with terminal_services.terminal.db.read() as conn:
        kinds = [r[0] for r in conn.execute("SELECT type FROM journal ORDER BY seq")]
    assert "risk.decision" in kinds


def test_kiosk_sale_over_the_cap_is_blocked_with_the_reason(core: CoreServices) -> None:
    kiosk = CheckoutFlow(Session("k1", "Kiosk", Role.CASHIER), core, core, core, mode="kiosk")
    line = kiosk.scan(CHIPS).lines[0].line_id
    kiosk.set_quantity(line, 300)  # 2,250.00
    tender = kiosk.start_tender()
    with pytest.raises(FlowError) as exc:
        tender.prepare("alipay", "qr")
    assert "refused" in exc.value.text.render("en") and tender.state is TenderState.CHOOSING
