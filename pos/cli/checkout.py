"""`pos sale`, `pos refund`, `pos void`, `pos order show`: the checkout from a shell."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from pos.auth import Approval
from pos.cli.context import CliContext
from pos.cli.session import open_services, read_pin
from pos.digits import is_digits
from pos.errors import InvalidInput
from pos.messages import msg
from pos.money import Money
from pos.order.discounts import Discount
from pos.order.limits import ascii_count, check_cash_pays
from pos.order.order import Order
from pos.order.tenders import CASH
from pos.services.checkout import CheckoutService
from pos.services.risk_gate import Checked, RiskRefused
from pos.services.terminal_services import TerminalServices

_QTY = re.compile(r"^(?P<code>[^:]+)(?::(?P<qty>\d+)(?P<g>g)?)?$")
_PERCENT = re.compile(r"^(\d+(?:\.\d{1,2})?)%$")


def parse_discount(text: str, currency: str, approval: Approval | None) -> Discount:
    """'10%' (two decimals at most: basis points) or '5.00' (an amount off)."""
    m = _PERCENT.match(text.strip())
    if m:
        whole, _, frac = m.group(1).partition(".")
        return Discount.percent(int(whole) * 100 + int(frac.ljust(2, "0")), approval=approval)
    return Discount.amount(Money.parse(text, currency), approval=approval)


@dataclass(frozen=True)
class ItemArg:
    code: str
    quantity: int = 1
    grams: int | None = None


def parse_item(text: str) -> ItemArg:
    m = _QTY.match(text.strip())
    if not m:
        raise InvalidInput(f"bad --item {text!r}", "Use SKU_OR_BARCODE, SKU:QTY or SKU:GRAMSg.")
    what = msg("input.what.grams" if m.group("g") else "input.what.quantity")
    qty = ascii_count(m.group("qty") or "1", what)
    if m.group("g"):
        return ItemArg(m.group("code"), 1, qty)
    return ItemArg(m.group("code"), qty)


def parse_pay(text: str, currency: str) -> tuple[str, Money | None]:
    channel, _, amount = text.partition(":")
    return channel.strip().lower(), Money.parse(amount, currency) if amount else None


def order_dict(order: Order, receipt_no: str | None = None) -> dict[str, Any]:
    t = order.totals()
    return {
        "order_id": order.order_id,
        "receipt_no": receipt_no,
        "state": order.state.value,
        "currency": order.currency,
        "lines": [
            {
                "line_id": ln.line_id,
                "sku": ln.sku,
                "name": ln.name_en,
                "quantity": ln.quantity,
                "grams": ln.grams,
                "total": lt.total.amount_text(),
                "discount": (lt.line_discount + lt.order_discount).amount_text(),
                "tax": lt.tax.amount_text(),
            }
            for ln, lt in zip(order.lines, t.lines, strict=True)
        ],
        "subtotal": t.subtotal.amount_text(),
        "discount": t.discount.amount_text(),
        "tax": t.tax.amount_text(),
        "tax_by_rate": [{"rate_bp": g.rate_bp, "tax": g.tax.amount_text()} for g in t.tax_by_rate],
        "total": t.total.amount_text(),
        "tenders": [
            {
                "channel": tn.channel,
                "amount": tn.amount.amount_text(),
                "tendered": None if tn.tendered is None else tn.tendered.amount_text(),
                "reference": tn.reference,
            }
            for tn in order.tenders
        ],
        "change": order.change.amount_text(),
        "refunded": order.refunded.amount_text(),
    }


def receipt_text(services: TerminalServices, order_id: str, width: int = 42) -> str:
    from pos.services.receipts import render_receipt

    return render_receipt(services, order_id, width=width)


def _decision_dict(channel: str, checked: Checked) -> dict[str, Any]:
    d = checked.decision
    return {
        "channel": channel,
        "action": d.action,
        "rule_ids": list(d.rule_ids),
        "reasons": d.explain(),
        "step_ups_met": sorted(checked.satisfied),
        "score": d.score,
    }


def _approval(
    ctx: CliContext, services: TerminalServices, approver: str | None, action: str
) -> Approval | None:
    if not approver:
        return None
    pin = read_pin(ctx, approver, "POS_APPROVER_PIN")
    return services.users.approval(approver, pin, action)


def _cashier(ctx: CliContext, services: TerminalServices, cashier: str) -> str:
    user = services.users.login(cashier, read_pin(ctx, cashier, "POS_CASHIER_PIN"))
    return user.user_id


def _build_order(
    checkout: CheckoutService, order_id: str, args: argparse.Namespace, approval: Approval | None
) -> Order:
    currency = checkout.settings.currency
    order = checkout.get(order_id).order
    for raw in args.item:
        item = parse_item(raw)
        if item.grams is None and item.quantity == 1:
            order = checkout.scan(order_id, item.code)
        else:
            order = checkout.add_item(order_id, item.code, item.quantity, item.grams)
    for raw in args.line_discount or []:
        line_no, _, value = raw.partition(":")
        if not is_digits(line_no) or not value:
            raise InvalidInput(f"bad --line-discount {raw!r}", "Use LINE:10% or LINE:5.00.")
        index = int(line_no) - 1
        if not 0 <= index < len(order.lines):
            raise InvalidInput(f"there is no line {line_no}", "Lines are numbered from 1.")
        discount = parse_discount(value, currency, approval)
        order = checkout.discount_line(order_id, order.lines[index].line_id, discount)
    if args.discount:
        order = checkout.discount_order(order_id, parse_discount(args.discount, currency, approval))
    return order


def cmd_sale(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        checkout = services.checkout
        cashier = _cashier(ctx, services, args.cashier)
        approval = _approval(ctx, services, args.approver, "discount")
        order = checkout.new_order(cashier, mode=args.mode)
        try:
            order = _build_order(checkout, order.order_id, args, approval)
            pays = [parse_pay(p, order.currency) for p in args.pay]
            check_cash_pays(pays, order.remaining, args.confirm_cash)
        except Exception:
            # Nothing was paid: the half-built cart is voided, not left open.
            checkout.void(order.order_id, reason="sale command failed")
            raise
        receipt_no = None
        currency = checkout.settings.currency
        pays = [parse_pay(p, currency) for p in args.pay]
        satisfied = tuple(
            s for s, ok in (("manager_pin", approval), ("check_id", args.id_checked)) if ok
        )
        decisions = []
        for i, (channel, amount) in enumerate(pays):
            remaining = checkout.get(order.order_id).order.remaining
            due = remaining if amount is None else min(amount, remaining)
            try:
                checked = checkout.check_tender(
                    order.order_id, channel, due, mode=args.mode, satisfied=satisfied
                )
            except RiskRefused as refused:
                if not order.tenders:
                    checkout.void(
                        order.order_id, reason="refused by risk rules", counts_as_void=False
                    )
                ctx.warn(
                    "risk: "
                    + refused.decision.action
                    + " — "
                    + "; ".join(refused.decision.explain())
                )
                raise
            if checked is not None:
                decisions.append(_decision_dict(channel, checked))
                if checked.decision.action != "allow" or checked.decision.reasons:
                    ctx.warn(
                        f"risk: {checked.decision.action} — "
                        + "; ".join(checked.decision.explain())
                        + (
                            f" (met: {', '.join(sorted(checked.satisfied))})"
                            if checked.satisfied
                            else ""
                        )
                    )
            if channel == CASH:
                handed = amount if amount is not None else remaining
                result = checkout.pay_cash(order.order_id, handed, risk=checked)
            else:
                from pos.services.tender import pay_with_channel

                result = pay_with_channel(
                    ctx,
                    services,
                    order.order_id,
                    channel,
                    amount if amount is not None else remaining,
                    auth_code=args.auth_code if i == len(pays) - 1 else None,
                    risk=checked,
                )
            order, receipt_no = result.order, result.receipt_no or receipt_no
        if receipt_no is None:
            ctx.warn(
                f"order {order.order_id} is not fully paid ({order.remaining.format()} left); "
                "it stays open: pay the rest with `pos order pay` or void it."
            )
        data = {**order_dict(order, receipt_no), "risk": decisions}
        ctx.emit(
            data,
            lambda: (
                receipt_text(services, order.order_id)
                if receipt_no
                else f"order {order.order_id}: {order.remaining.format()} left to pay"
            ),
        )
        return 0 if receipt_no else 5


def cmd_order_show(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        stored = services.checkout.find(args.order)
        ctx.emit(
            {
                **order_dict(stored.order, stored.receipt_no),
                "tender_rows": services.checkout.tenders(stored.order.order_id),
            },
            lambda: (
                receipt_text(services, stored.order.order_id)
                if stored.receipt_no
                else f"order {stored.order.order_id} ({stored.order.state.value})"
            ),
        )
    return 0


def cmd_refund(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        checkout = services.checkout
        cashier = _cashier(ctx, services, args.cashier)
        order_id = checkout.find(args.order).order.order_id
        approval = _approval(ctx, services, args.approver, f"refund order {order_id}")
        if approval is None:
            raise InvalidInput("a refund needs a manager", "Add --approver MANAGER_ID.")
        lines = None
        if args.item:
            order = checkout.get(order_id).order
            lines = {}
            for raw in args.item:
                item = parse_item(raw)
                match = [ln for ln in order.lines if item.code in (ln.sku, ln.line_id)]
                if not match:
                    raise InvalidInput(
                        f"{item.code} is not on order {order_id}", "Check the receipt."
                    )
                lines[match[0].line_id] = item.quantity
        amount = Money.parse(args.amount, checkout.settings.currency) if args.amount else None
        from pos.services.tender import refund_gateway

        order, refund = checkout.refund(
            order_id,
            approval=approval,
            cashier_id=cashier,
            lines=lines,
            amount=amount,
            reason=args.reason or "",
            gateway=refund_gateway(services),
            has_receipt=not args.no_receipt,
        )
        data = {
            "refund_id": refund.refund_id,
            "order_id": order_id,
            "amount": refund.amount.amount_text(),
            "tenders": [
                {"channel": t.channel, "amount": t.amount.amount_text()} for t in refund.tenders
            ],
            "state": order.state.value,
            "approved_by": approval.user_id,
        }
        ctx.emit(
            data,
            f"refund {refund.refund_id}: {refund.amount.format()} back to "
            + ", ".join(f"{t.channel} {t.amount.format()}" for t in refund.tenders)
            + f"\norder {order_id} is now {order.state.value}",
        )
    return 0


def cmd_void(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        checkout = services.checkout
        stored = checkout.find(args.order)
        approval = _approval(ctx, services, args.approver, f"void order {stored.order.order_id}")
        from pos.services.tender import refund_gateway

        # After payment this needs --approver, and every tender goes back first.
        order = checkout.void(
            stored.order.order_id, approval, args.reason or "", gateway=refund_gateway(services)
        )
        ctx.emit(
            {"order_id": order.order_id, "state": order.state.value},
            f"order {order.order_id} voided",
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sale", help="ring up and pay a sale")
    p.add_argument(
        "--cashier", required=True, help="cashier id (PIN from POS_CASHIER_PIN or prompt)"
    )
    p.add_argument("--item", action="append", required=True, metavar="SKU_OR_BARCODE[:QTY|:GRAMSg]")
    p.add_argument("--line-discount", action="append", metavar="LINE:10%|LINE:5.00")
    p.add_argument("--discount", metavar="10%|5.00", help="order discount")
    p.add_argument("--approver", help="manager id for discounts above the threshold")
    p.add_argument(
        "--pay",
        action="append",
        required=True,
        metavar="CHANNEL[:AMOUNT]",
        help="cash, alipay, wechat or card; repeat to split",
    )
    p.add_argument("--auth-code", help="the shopper's payment code (last --pay)")
    p.add_argument(
        "--confirm-cash", action="store_true", help="cash handed over is far above the total: yes"
    )
    p.add_argument("--mode", choices=["cashier", "kiosk"], default="cashier")
    p.add_argument(
        "--id-checked", action="store_true", help="the shopper's ID was checked (risk step-up)"
    )
    p.set_defaults(func=cmd_sale)

    p = sub.add_parser("refund", help="refund a paid order to its tenders (needs a manager)")
    p.add_argument("order", help="order id or receipt number")
    p.add_argument("--cashier", required=True)
    p.add_argument("--approver", required=True, help="manager id (PIN from POS_APPROVER_PIN)")
    p.add_argument("--item", action="append", metavar="SKU_OR_LINE[:QTY]")
    p.add_argument("--amount", help="refund an amount instead of items")
    p.add_argument(
        "--no-receipt", action="store_true", help="the shopper has no receipt (risk rules apply)"
    )
    p.add_argument("--reason")
    p.set_defaults(func=cmd_refund)

    p = sub.add_parser("void", help="void an order (after payment: a manager, money back)")
    p.add_argument("order")
    p.add_argument("--approver")
    p.add_argument("--reason")
    p.set_defaults(func=cmd_void)

    p = sub.add_parser("order", help="look at orders")
    osub = p.add_subparsers(dest="order_command", required=True)
    show = osub.add_parser("show", help="an order and its receipt")
    show.add_argument("order", help="order id or receipt number")
    show.set_defaults(func=cmd_order_show)
