"""A refund from a receipt: look the sale up, choose lines or an amount, a
manager approves with their PIN, the money goes back to the original tenders.

States: LOOKUP -> SELECTING -> APPROVAL -> REFUNDING -> DONE (or back to
SELECTING when the refund failed)."""

from __future__ import annotations

from enum import StrEnum

from pos.flows.cancel import CancelToken
from pos.flows.ports import CheckoutPort, RefundPort, RefundRequest
from pos.flows.text import FlowError
from pos.flows.views import Approval, OrderView, Outcome, TenderResult
from pos.messages import msg
from pos.money import Money


class RefundState(StrEnum):
    LOOKUP = "lookup"
    SELECTING = "selecting"
    APPROVAL = "approval"
    REFUNDING = "refunding"
    DONE = "done"


_REFUNDABLE_STATES = ("paid", "partly_refunded")


class RefundFlow:
    def __init__(self, checkout: CheckoutPort, refunds: RefundPort) -> None:
        self._checkout = checkout
        self._refunds = refunds
        self.state = RefundState.LOOKUP
        self.order: OrderView | None = None
        self.refundable: Money | None = None
        self.selected: set[str] = set()
        self.amount: Money | None = None
        self.reason = ""
        self.cancel_token = CancelToken()
        self.result: TenderResult | None = None
        self.refunded: Money | None = None  # what the last refund gave back

    def lookup(self, receipt_no: str) -> OrderView:
        receipt_no = receipt_no.strip()
        if not receipt_no:
            raise FlowError(msg("counter.refund.no_receipt"))
        order = self._checkout.find_receipt(receipt_no)
        if order.state not in _REFUNDABLE_STATES:
            raise FlowError(
                msg(
                    "counter.refund.not_refundable", state=msg(f"counter.order_state.{order.state}")
                )
            )
        self.order = order
        self.refundable = self._refunds.refundable(order.order_id)
        self.selected = set()
        self.amount = None
        self.state = RefundState.SELECTING
        return order

    def toggle_line(self, line_id: str) -> None:
        self._need(RefundState.SELECTING)
        assert self.order is not None
        self.order.line(line_id)  # KeyError for a line not on this sale
        self.selected ^= {line_id}
        self.amount = None

    def set_amount(self, amount: Money | None) -> None:
        self._need(RefundState.SELECTING)
        assert self.refundable is not None
        if amount is not None:
            if amount.minor <= 0:
                raise FlowError(msg("counter.refund.not_positive"))
            if amount > self.refundable:
                raise FlowError(msg("counter.refund.at_most", left=self.refundable))
            self.selected = set()
        self.amount = amount

    def preview(self) -> Money:
        """What the refund would give back (lines' totals, or the amount)."""
        assert self.order is not None and self.refundable is not None
        if self.amount is not None:
            return self.amount
        picked = [ln.total for ln in self.order.lines if ln.line_id in self.selected]
        got = sum((m.minor for m in picked), 0)
        return Money(min(got, self.refundable.minor), self.order.currency)

    def request_approval(self, reason: str) -> RefundRequest:
        self._need(RefundState.SELECTING)
        assert self.order is not None
        if not self.selected and self.amount is None:
            raise FlowError(msg("counter.refund.choose"))
        self.reason = reason.strip()
        self.state = RefundState.APPROVAL
        return self._request()

    def _request(self) -> RefundRequest:
        assert self.order is not None
        ordered = tuple(ln.line_id for ln in self.order.lines if ln.line_id in self.selected)
        return RefundRequest(self.order.order_id, ordered, self.amount, self.reason)

    def run(self, approval: Approval) -> TenderResult:
        self._need(RefundState.APPROVAL)
        self.state = RefundState.REFUNDING
        try:
            result = self._refunds.refund(self._request(), approval, self.cancel_token)
        except Exception:
            self.state = RefundState.SELECTING
            raise
        self.result = result
        self.order = result.order
        if result.status is Outcome.SUCCEEDED:
            self.refunded = self.preview()
            self.refundable = self._refunds.refundable(result.order.order_id)
            self.state = RefundState.DONE
        else:
            self.state = RefundState.SELECTING
        return result

    def back(self) -> None:
        if self.state is RefundState.APPROVAL:
            self.state = RefundState.SELECTING

    def _need(self, state: RefundState) -> None:
        if self.state is not state:
            raise FlowError(msg("counter.refund.out_of_step"))
