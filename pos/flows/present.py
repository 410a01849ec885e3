"""How the core's objects look to the screens: orders, products, channels and
risk decisions as the flows' immutable views (pos.flows.views)."""

from __future__ import annotations

from pos.auth import Approval
from pos.catalog import Product
from pos.errors import NotAllowed
from pos.flows.ports import Discount
from pos.flows.text import Said, Text
from pos.flows.views import LineView, OrderView, ProductHit, RiskNote, TenderView
from pos.messages import Message, has, msg
from pos.order.discounts import Discount as OrderDiscount
from pos.order.order import Order
from pos.order.tenders import channel_label
from pos.payments.channel import Notice, PaymentIntent
from pos.services.orders import StoredOrder
from pos.services.risk_gate import Checked


def notice_text(note: Notice) -> Said:
    """A payment notice: its catalogue code when it has one, else the pair the
    channel sent."""
    return msg(note.code) if "." in note.code and has(note.code) else Text(note.zh, note.en)


def product_hit(p: Product) -> ProductHit:
    return ProductHit(
        p.sku,
        p.name_zh,
        p.name_en,
        p.unit_price,
        p.sold_by_weight,
        p.barcodes[0] if p.barcodes else "",
    )


def order_view(order: Order, receipt_no: str | None = None) -> OrderView:
    totals = order.totals()
    by_id = {lt.line_id: lt for lt in totals.lines}
    lines = []
    for ln in order.lines:
        lt = by_id[ln.line_id]
        lines.append(
            LineView(
                ln.line_id,
                ln.sku,
                ln.name_zh,
                ln.name_en,
                ln.quantity,
                ln.unit_price,
                lt.line_discount + lt.order_discount,
                lt.total,
                ln.grams,
            )
        )
    tenders = tuple(
        TenderView(t.channel, t.amount, t.tendered, t.change, t.reference or "")
        for t in order.tenders
    )
    return OrderView(
        order.order_id,
        order.state.value,
        tuple(lines),
        totals.subtotal,
        totals.discount,
        totals.tax,
        totals.total,
        order.paid,
        order.change,
        tenders,
        receipt_no or "",
        order.refunded,
    )


def order_discount(discount: Discount, approval: Approval | None) -> OrderDiscount:
    if discount.basis_points is not None:
        return OrderDiscount.percent(discount.basis_points, approval=approval)
    if discount.amount is not None:
        return OrderDiscount.amount(discount.amount, approval=approval)
    raise NotAllowed(msg("till.flow.discount_kind"))


def risk_note(checked: Checked | None) -> RiskNote | None:
    if checked is None:
        return None
    d = checked.decision
    return RiskNote(
        d.action,
        d.rule_ids,
        tuple(Text(r.zh, r.en) for r in d.reasons),
        tuple(sorted(checked.satisfied)),
        d.score,
    )


def stored_view(stored: StoredOrder) -> OrderView:
    return order_view(stored.order, stored.receipt_no)


def settled_note(intent: PaymentIntent, action: str) -> Message:
    """How an attempt the till let go of ended, for the manager and the shell."""
    return msg(
        f"uncertain.settled.{action}",
        channel=channel_label(intent.channel),
        amount=intent.amount,
        order_id=intent.order_id,
    )
