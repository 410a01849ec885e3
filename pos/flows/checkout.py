"""The cashier's sale as a state machine: ring up, park/resume, void, hand over
to the tender. Qt-free; the screen calls these on the store's worker thread and
redraws from the OrderView each call returns.

States: EMPTY (no open order) -> RINGING (an open order) -> TENDERING (the
tender flow owns the order) -> DONE (paid; receipt and change on screen) ->
EMPTY on the next scan or "new sale". Parking returns to EMPTY; resuming a
parked order goes to RINGING.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pos.auth import NeedsApproval
from pos.flows.ports import CatalogLookup, CheckoutPort, Discount, PaymentPort
from pos.flows.tender import TenderFlow
from pos.flows.text import FlowError, Said
from pos.flows.views import (
    Approval,
    LeftOpenView,
    OrderView,
    ParkedView,
    ProductHit,
    Session,
)
from pos.messages import msg


class CheckoutState(StrEnum):
    EMPTY = "empty"
    RINGING = "ringing"
    TENDERING = "tendering"
    DONE = "done"


class ApprovalRequired(FlowError):
    """The step needs a manager: the screen asks for a PIN and tries again."""

    def __init__(self, action: str, text: Said) -> None:
        super().__init__(text)
        self.action = action


# Shoppers' payment codes: Alipay 25-30 prefix with 16-24 digits, WeChat 10-15
# prefix with 18 digits. Product barcodes are 8, 12 or 13 digits, so a scan is
# never both.
_ALIPAY_CODE = re.compile(r"^(2[5-9]|30)\d{14,22}$")
_WECHAT_CODE = re.compile(r"^1[0-5]\d{16}$")


def payment_code_channel(code: str) -> str | None:
    """'alipay' or 'wechat' when `code` is a shopper's payment code, else None."""
    code = code.strip()
    if _ALIPAY_CODE.match(code):
        return "alipay"
    if _WECHAT_CODE.match(code):
        return "wechat"
    return None


_NOTHING_TO_PAY = msg("till.flow.cart_empty")
_NO_ORDER = msg("till.flow.no_open_sale")
_BUSY_PAYING = msg("till.flow.busy_paying")


class CheckoutFlow:
    def __init__(
        self,
        session: Session,
        checkout: CheckoutPort,
        catalog: CatalogLookup,
        payments: PaymentPort,
        mode: str = "cashier",
    ) -> None:
        self.session = session
        self.mode = mode
        self._checkout = checkout
        self._catalog = catalog
        self._payments = payments
        self.state = CheckoutState.EMPTY
        self.order: OrderView | None = None
        self.tender: TenderFlow | None = None
        self.last_paid: OrderView | None = None

    # -- ringing up ---------------------------------------------------------------
    def _open(self) -> str:
        if self.state is CheckoutState.TENDERING:
            raise FlowError(_BUSY_PAYING)
        if self.order is None or self.state is CheckoutState.DONE:
            self.order = self._checkout.new_order(self.session, self.mode)
            self.state = CheckoutState.RINGING
        return self.order.order_id

    def _set(self, order: OrderView) -> OrderView:
        self.order = order
        return order

    def scan(self, code: str) -> OrderView:
        """A product barcode adds its item. A shopper's payment code is not an
        item: call `payment_code_channel` first and hand it to the tender."""
        return self._set(self._checkout.scan(self._open(), code.strip()))

    def search(self, text: str, limit: int = 20) -> list[ProductHit]:
        text = text.strip()
        if not text:
            return []
        return self._catalog.search(text, limit)

    def add(self, sku: str, quantity: int = 1) -> OrderView:
        return self._set(self._checkout.add_item(self._open(), sku, quantity))

    def _ringing_order(self) -> str:
        if self.order is None or self.state is not CheckoutState.RINGING:
            raise FlowError(_BUSY_PAYING if self.state is CheckoutState.TENDERING else _NO_ORDER)
        return self.order.order_id

    def set_quantity(self, line_id: str, quantity: int) -> OrderView:
        order_id = self._ringing_order()
        if quantity <= 0:
            return self._set(self._checkout.void_line(order_id, line_id))
        return self._set(self._checkout.set_quantity(order_id, line_id, quantity))

    def void_line(self, line_id: str) -> OrderView:
        return self._set(self._checkout.void_line(self._ringing_order(), line_id))

    def discount_line(
        self, line_id: str, discount: Discount, approval: Approval | None = None
    ) -> OrderView:
        order_id = self._ringing_order()
        try:
            return self._set(self._checkout.discount_line(order_id, line_id, discount, approval))
        except NeedsApproval as exc:
            # Only a refusal a manager can lift asks for a PIN; a discount
            # larger than the line is refused outright.
            if approval is not None:
                raise
            raise ApprovalRequired(
                "discount",
                msg("till.flow.discount_needs_manager", why=exc.msg or exc.message),
            ) from exc

    # -- park / resume / void -------------------------------------------------------
    def park(self) -> None:
        order_id = self._ringing_order()
        if self.order is not None and not self.order.lines:
            raise FlowError(_NOTHING_TO_PAY)
        self._checkout.park(order_id)
        self.order = None
        self.state = CheckoutState.EMPTY

    def parked(self) -> list[ParkedView]:
        return self._checkout.parked()

    def _free_for_another(self) -> None:
        if self.state is CheckoutState.TENDERING:
            raise FlowError(_BUSY_PAYING)
        if self.state is CheckoutState.RINGING and self.order is not None and self.order.lines:
            raise FlowError(msg("till.flow.park_first"))

    def resume(self, order_id: str) -> OrderView:
        self._free_for_another()
        order = self._checkout.resume(order_id)
        self.state = CheckoutState.RINGING
        return self._set(order)

    # -- sales left open (a crash, a closed window) -------------------------------------
    def left_open(self) -> list[LeftOpenView]:
        """The sales left open, for the cashier to resume or void. One with no
        lines and no money is voided on the way: there is nothing to offer, and
        it would stay on the day's report as open."""
        current = self.order.order_id if self.order is not None else None
        out = []
        for left in self._checkout.open_orders():
            order = left.order
            if order.order_id == current:
                continue
            if not order.lines and not order.paid.minor:
                self._checkout.void_order(order.order_id, None)
                continue
            out.append(left)
        return out

    def take_over(self, order_id: str) -> OrderView:
        """Carry on with a sale left open, where it stopped: what was paid stays
        paid and the rest is due."""
        self._free_for_another()
        order = self._checkout.get(order_id)
        if order.state != "open":
            raise FlowError(msg("till.flow.not_open_any_more"))
        self.tender = None
        self.state = CheckoutState.RINGING
        return self._set(order)

    def void_left_open(self, order_id: str, approval: Approval | None = None) -> None:
        """Void a sale left open. After a tender a manager must approve, and the
        money goes back to each tender."""
        self._void(self._checkout.get(order_id), approval)

    def void_order(self, approval: Approval | None = None) -> None:
        """Void the open sale. A sale with money taken needs a manager, and the
        money goes back to each tender."""
        order = self.tender.order if self.tender is not None else self.order
        if order is None:
            raise FlowError(_NO_ORDER)
        if self.tender is not None and self.tender.busy:
            raise FlowError(_BUSY_PAYING)
        self._void(order, approval)

    def _void(self, order: OrderView, approval: Approval | None) -> None:
        if order.paid.minor and approval is None:
            raise ApprovalRequired(
                "void",
                msg("till.flow.void_needs_manager"),
            )
        self._checkout.void_order(order.order_id, approval)
        if self.order is None or self.order.order_id == order.order_id:
            self.order = None
            self.tender = None
            self.state = CheckoutState.EMPTY

    # -- tender ---------------------------------------------------------------------
    def start_tender(self) -> TenderFlow:
        order_id = self._ringing_order()
        order = self._checkout.get(order_id)
        if not order.lines or order.total.minor <= 0:
            raise FlowError(_NOTHING_TO_PAY)
        self.order = order
        self.tender = TenderFlow(order, self._payments, self.mode)
        self.state = CheckoutState.TENDERING
        return self.tender

    def back_from_tender(self) -> OrderView:
        """Leave the tender screen with the sale still open (partly paid is fine)."""
        if self.state is not CheckoutState.TENDERING or self.tender is None:
            raise FlowError(_NO_ORDER)
        if self.tender.busy:
            raise FlowError(_BUSY_PAYING)
        order = self._checkout.get(self.tender.order.order_id)
        self.tender = None
        self.state = CheckoutState.RINGING
        return self._set(order)

    def finish_if_paid(self) -> bool:
        """After a tender step: True (and DONE) when the order is paid in full."""
        if self.tender is None or not self.tender.paid:
            return False
        self.last_paid = self.tender.order
        self.order = self.tender.order
        self.tender = None
        self.state = CheckoutState.DONE
        return True

    def receipt_text(self, width: int = 42) -> str:
        order = self.last_paid or self.order
        if order is None:
            raise FlowError(_NO_ORDER)
        return self._checkout.receipt_text(order.order_id, width)
