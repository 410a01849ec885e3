"""`pos sale`, `pos refund`, `pos void`, `pos order list|show|pay`: the
checkout from a shell, a thin front end over the same flows the app drives
(pos.flows.core on a till from pos.app)."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pos.cli.context import CliContext
from pos.cli.paying import PayArg, TenderNotTaken, chase_released, take_payments
from pos.cli.session import open_till_for, read_pin
from pos.digits import is_digits
from pos.errors import InvalidInput, NotAllowed
from pos.events import SaleMode
from pos.flows.ports import Discount, RefundRequest
from pos.messages import Message, msg
from pos.money import Money
from pos.order.limits import ascii_count, check_cash_pays
from pos.order.tenders import CASH
from pos.scale import open_scale, weigh

if TYPE_CHECKING:
    from pos.app import Till
    from pos.auth import Approval
    from pos.flows.core import CoreServices
    from pos.order.order import Order

_QTY = re.compile(r"^(?P<code>[^:]+)(?::(?P<qty>\d+)(?P<g>g)?)?$")
SCALE_WAIT_S = 10.0
_PERCENT = re.compile(r"^(\d+(?:\.\d{1,2})?)%$")


def parse_discount(text: str, currency: str) -> Discount:
    """'10%' (two decimals at most: basis points) or '5.00' (an amount off)."""
    m = _PERCENT.match(text.strip())
    if m:
        whole, _, frac = m.group(1).partition(".")
        return Discount(basis_points=int(whole) * 100 + int(frac.ljust(2, "0")))
    return Discount(amount=Money.parse(text, currency))


@dataclass(frozen=True)
class ItemArg:
    code: str
    quantity: int = 1
    grams: int | None = None
    weigh: bool = False  # SKU:scale, weighed on the scale


def parse_item(text: str) -> ItemArg:
    if text.strip().lower().endswith(":scale"):
        return ItemArg(text.strip()[: -len(":scale")], weigh=True)
    m = _QTY.match(text.strip())
    if not m:
        raise InvalidInput(msg("cli.sale.bad_item", text=text))
    what = msg("input.what.grams" if m.group("g") else "input.what.quantity")
    qty = ascii_count(m.group("qty") or "1", what)
    if m.group("g"):
        return ItemArg(m.group("code"), 1, qty)
    return ItemArg(m.group("code"), qty)


def parse_pay(text: str, currency: str) -> PayArg:
    channel, _, amount = text.partition(":")
    return PayArg(channel.strip().lower(), Money.parse(amount, currency) if amount else None)


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


def _approval(
    ctx: CliContext, till: Till, approver: str | None, action: Message
) -> Approval | None:
    if not approver:
        return None
    pin = read_pin(ctx, approver, "POS_APPROVER_PIN")
    return till.users.approval(approver, pin, action)


def _login(ctx: CliContext, till: Till, cashier: str) -> str:
    return till.users.login(cashier, read_pin(ctx, cashier, "POS_CASHIER_PIN")).user_id


@dataclass(frozen=True)
class Cart:
    """What `pos sale` rings up, read from its arguments before anything is stored."""

    items: tuple[ItemArg, ...]
    line_discounts: tuple[tuple[int, Discount], ...]
    order_discount: Discount | None


def _cart(args: argparse.Namespace, currency: str) -> Cart:
    line_discounts = []
    for raw in args.line_discount or []:
        line_no, _, value = raw.partition(":")
        if not is_digits(line_no) or not value:
            raise InvalidInput(msg("cli.sale.bad_line_discount", text=raw))
        if not 1 <= int(line_no) <= len(args.item):
            # More lines than items can never exist: refused before the order opens.
            raise InvalidInput(msg("cli.sale.no_such_line", line=line_no, count=len(args.item)))
        line_discounts.append((int(line_no) - 1, parse_discount(value, currency)))
    order_discount = parse_discount(args.discount, currency) if args.discount else None
    items = tuple(_weighed(parse_item(i), args.scale_port) for i in args.item)
    return Cart(items, tuple(line_discounts), order_discount)


def _weighed(item: ItemArg, port: str | None) -> ItemArg:
    """SKU:scale is read from the scale now, before any order is opened, so a
    scale that fails leaves nothing behind."""
    if not item.weigh:
        return item
    return ItemArg(item.code, 1, weigh(open_scale(port), SCALE_WAIT_S))


def _ring_up(core: CoreServices, order_id: str, cart: Cart, approval: Approval | None) -> None:
    view = core.get(order_id)
    for item in cart.items:
        if item.grams is None and item.quantity == 1:
            view = core.scan(order_id, item.code)
        else:
            view = core.add_item(order_id, item.code, item.quantity, item.grams)
    for index, discount in cart.line_discounts:
        if not 0 <= index < len(view.lines):
            raise InvalidInput(msg("cli.sale.no_such_line", line=index + 1, count=len(view.lines)))
        view = core.discount_line(order_id, view.lines[index].line_id, discount, approval)
    if cart.order_discount is not None:
        core.discount_order(order_id, cart.order_discount, approval)


def _pay_and_report(
    ctx: CliContext,
    till: Till,
    core: CoreServices,
    order_id: str,
    pays: list[PayArg],
    args: argparse.Namespace,
    approval: Approval | None,
) -> int:
    try:
        _, decisions = take_payments(
            ctx,
            core,
            order_id,
            pays,
            approval=approval,
            id_checked=args.id_checked,
            auth_code=args.auth_code or "",
            member=args.member or "",
        )
    except TenderNotTaken:
        raise  # its message names the order
    except BaseException:
        left = till.checkout.get(order_id).order
        if left.state.value == "open":
            ctx.warn(msg("order.left_open", order_id=order_id, left=left.remaining))
        raise
    finally:
        # Attempts let go of are chased before the command returns (bounded);
        # the rest by the next command, the app's resolver or recovery.
        chase_released(ctx, core)
    stored = till.checkout.get(order_id)
    order, receipt_no = stored.order, stored.receipt_no
    if receipt_no is None:
        ctx.warn(msg("order.left_open", order_id=order_id, left=order.remaining))
    ctx.emit(
        {**order_dict(order, receipt_no), "risk": decisions},
        lambda: (
            core.receipt_text(order_id)
            if receipt_no
            else msg("cli.sale.left_to_pay", order_id=order_id, left=order.remaining).render(
                ctx.lang
            )
        ),
    )
    return 0 if receipt_no else NotAllowed.exit_code


def _check_channels(till: Till, pays: list[PayArg]) -> None:
    """Every channel `--pay` names is open on this till, before any order exists."""
    for pay in pays:
        if pay.channel != CASH and pay.channel not in till.router.channel_names:
            why = till.problems.get(pay.channel, "not configured")
            raise NotAllowed(msg("till.channel_not_available", channel=pay.channel, why=why))


def _channels(pay_args: list[str]) -> set[str]:
    """The channels `--pay` names: the only ones the sale loads."""
    return {p.partition(":")[0].strip().lower() for p in pay_args}


def cmd_sale(args: argparse.Namespace, ctx: CliContext) -> int:
    from pos.flows.core import CoreServices
    from pos.flows.views import Role, Session

    with open_till_for(ctx, _channels(args.pay)) as till:
        currency = till.checkout.settings.currency
        # Every argument is read before the order exists: bad input stores nothing.
        pays = [parse_pay(p, currency) for p in args.pay]
        _check_channels(till, pays)
        cart = _cart(args, currency)
        core = CoreServices.on(till)
        cashier = _login(ctx, till, args.cashier)
        approval = _approval(ctx, till, args.approver, msg("users.action.discount"))
        order_id = core.new_order(Session(cashier, cashier, Role.CASHIER), args.mode).order_id
        try:
            _ring_up(core, order_id, cart, approval)
            due = till.checkout.get(order_id).order.remaining
            check_cash_pays(((p.channel, p.amount) for p in pays), due, args.confirm_cash)
        except BaseException:
            # Nothing was paid: the half-built cart is voided, not left open.
            till.checkout.void(order_id, reason="sale command failed", counts_as_void=False)
            raise
        return _pay_and_report(ctx, till, core, order_id, pays, args, approval)


def cmd_order_pay(args: argparse.Namespace, ctx: CliContext) -> int:
    """Pay what is left on an open order (a sale a failed or unknown tender
    left open, or one rung up and not paid)."""
    from pos.flows.cancel import CancelToken
    from pos.flows.core import CoreServices
    from pos.flows.views import Outcome

    # Every channel: a payment left unknown on the order is settled first.
    with open_till_for(ctx, None) as till:
        currency = till.checkout.settings.currency
        pays = [parse_pay(p, currency) for p in args.pay]
        _check_channels(till, pays)
        stored = till.checkout.find(args.order)
        order_id = stored.order.order_id
        if stored.order.state.value != "open":
            raise NotAllowed(msg("order.not_open", order_id=order_id, state=stored.order.state))
        _login(ctx, till, args.cashier)
        approval = _approval(
            ctx, till, args.approver, msg("users.action.pay_order", order_id=order_id)
        )
        core = CoreServices.on(till)
        settled = core.resolve(order_id, CancelToken())
        if settled.status is Outcome.UNKNOWN and not settled.released:
            raise TenderNotTaken(settled, "?", "")
        if core.get(order_id).remaining.minor <= 0:
            # An attempt let go of went through after all and paid the order.
            chase_released(ctx, core)
            stored = till.checkout.get(order_id)
            ctx.emit(
                order_dict(stored.order, stored.receipt_no), lambda: core.receipt_text(order_id)
            )
            return 0
        return _pay_and_report(ctx, till, core, order_id, pays, args, approval)


def cmd_order_list(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_till_for(ctx) as till:
        checkout = till.checkout
        stored = checkout.open_orders() if args.open else checkout.recent(args.limit)
        rows = [
            {
                "order_id": s.order.order_id,
                "state": s.order.state.value,
                "mode": s.mode,
                "receipt_no": s.receipt_no,
                "total": s.order.total.amount_text(),
                "paid": s.order.paid.amount_text(),
                "left": s.order.remaining.amount_text(),
                "updated_at": s.updated_at,
            }
            for s in stored
        ]

        def text() -> str:
            if not rows:
                return msg("order.none_open" if args.open else "order.none").render(ctx.lang)
            return "\n".join(
                f"{r['order_id']:<28} {r['state']:<15} {r['total']:>10} "
                + msg("cli.order.row", paid=f"{r['paid']:>10}", left=f"{r['left']:>10}").render(
                    ctx.lang
                )
                + f"  {r['receipt_no'] or ''}"
                for r in rows
            )

        ctx.emit({"orders": rows}, text)
    return 0


def cmd_order_show(args: argparse.Namespace, ctx: CliContext) -> int:
    from pos.flows.core import CoreServices

    with open_till_for(ctx) as till:
        stored = till.checkout.find(args.order)
        order_id = stored.order.order_id
        ctx.emit(
            {
                **order_dict(stored.order, stored.receipt_no),
                "tender_rows": till.checkout.tenders(order_id),
            },
            lambda: (
                CoreServices.on(till).receipt_text(order_id)
                if stored.receipt_no
                else msg(
                    "cli.order.summary", order_id=order_id, state=stored.order.state.value
                ).render(ctx.lang)
            ),
        )
    return 0


def cmd_refund(args: argparse.Namespace, ctx: CliContext) -> int:
    from pos.cli.badge import badge_approval
    from pos.flows.cancel import CancelToken
    from pos.flows.core import CoreServices
    from pos.order.tenders import channel_label

    # Money goes back on the channels that took it: open them all.
    with open_till_for(ctx, None) as till:
        checkout = till.checkout
        cashier = _login(ctx, till, args.cashier)
        order = checkout.find(args.order).order
        order_id = order.order_id
        amount = Money.parse(args.amount, checkout.settings.currency) if args.amount else None
        quantities = []
        for raw in args.item or []:
            item = parse_item(raw)
            match = [ln for ln in order.lines if item.code in (ln.sku, ln.line_id)]
            if not match:
                raise InvalidInput(
                    msg("cli.refund.not_on_order", code=item.code, order_id=order_id)
                )
            quantities.append((match[0].line_id, item.quantity))
        action = msg("users.action.refund_order", order_id=order_id)
        approval = (
            badge_approval(ctx, till.services, args.approver, action)
            if args.badge
            else _approval(ctx, till, args.approver, action)
        )
        if approval is None:
            raise InvalidInput(msg("cli.refund.needs_manager"))
        request = RefundRequest(
            order_id,
            amount=amount,
            reason=args.reason or "",
            quantities=tuple(quantities),
            cashier_id=cashier,
            has_receipt=not args.no_receipt,
        )
        result = CoreServices.on(till).refund(request, approval, CancelToken())
        refund = next(
            r for r in checkout.prior_refunds(order_id) if r.refund_id == result.reference
        )
        data = {
            "refund_id": refund.refund_id,
            "order_id": order_id,
            "amount": refund.amount.amount_text(),
            "tenders": [
                {"channel": t.channel, "amount": t.amount.amount_text()} for t in refund.tenders
            ],
            "state": result.order.state,
            "approved_by": approval.user_id,
        }
        ctx.emit(
            data,
            msg(
                "cli.refund.done",
                refund_id=refund.refund_id,
                amount=refund.amount,
                tenders=[
                    msg("cli.tender", channel=channel_label(t.channel), amount=t.amount)
                    for t in refund.tenders
                ],
                order_id=order_id,
                state=result.order.state,
            ),
        )
    return 0


def cmd_void(args: argparse.Namespace, ctx: CliContext) -> int:
    from pos.flows.core import CoreServices

    with open_till_for(ctx, None) as till:
        stored = till.checkout.find(args.order)
        order_id = stored.order.order_id
        approval = _approval(
            ctx, till, args.approver, msg("users.action.void_paid_order", order_id=order_id)
        )
        # After payment this needs --approver, and every tender goes back first.
        view = CoreServices.on(till).void_order(order_id, approval, args.reason or "")
        ctx.emit(
            {"order_id": order_id, "state": view.state}, msg("cli.order.voided", order_id=order_id)
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def paying(p: argparse.ArgumentParser, required: bool = True) -> None:
        p.add_argument("--approver", help="clihelp.checkout.approver")
        p.add_argument(
            "--pay",
            action="append",
            required=required,
            metavar="CHANNEL[:AMOUNT]",
            help="clihelp.checkout.pay_2",
        )
        p.add_argument("--auth-code", help="clihelp.checkout.auth_code")
        p.add_argument("--member", metavar="CODE", help="clihelp.checkout.member")
        p.add_argument(
            "--confirm-cash",
            action="store_true",
            help="clihelp.checkout.confirm_cash",
        )
        p.add_argument("--id-checked", action="store_true", help="clihelp.checkout.id_checked")

    p = sub.add_parser("sale", help="clihelp.checkout.sale")
    p.add_argument("--cashier", required=True, help="clihelp.checkout.cashier")
    p.add_argument(
        "--item", action="append", required=True, metavar="SKU_OR_BARCODE[:QTY|:GRAMSg|:scale]"
    )
    p.add_argument("--scale-port", metavar="DEV", help="clihelp.checkout.scale_port")
    p.add_argument("--line-discount", action="append", metavar="LINE:10%|LINE:5.00")
    p.add_argument("--discount", metavar="10%|5.00", help="clihelp.checkout.discount")
    p.add_argument("--mode", choices=[m.value for m in SaleMode], default=SaleMode.CASHIER.value)
    paying(p)
    p.set_defaults(func=cmd_sale)

    p = sub.add_parser("refund", help="clihelp.checkout.refund")
    p.add_argument("order", help="clihelp.drivers_print.order")
    p.add_argument("--cashier", required=True)
    p.add_argument("--approver", required=True, help="clihelp.drivers_print.approver")
    p.add_argument("--item", action="append", metavar="SKU_OR_LINE[:QTY]")
    p.add_argument("--amount", help="clihelp.checkout.amount")
    p.add_argument("--no-receipt", action="store_true", help="clihelp.checkout.no_receipt")
    p.add_argument("--reason")
    p.add_argument("--badge", action="store_true", help="clihelp.checkout.badge")
    p.set_defaults(func=cmd_refund)

    p = sub.add_parser("void", help="clihelp.checkout.void")
    p.add_argument("order")
    p.add_argument("--approver")
    p.add_argument("--reason")
    p.set_defaults(func=cmd_void)

    p = sub.add_parser("order", help="clihelp.checkout.order")
    osub = p.add_subparsers(dest="order_command", required=True)
    lst = osub.add_parser("list", help="clihelp.checkout.list")
    lst.add_argument("--open", action="store_true", help="clihelp.checkout.open")
    lst.add_argument("--limit", type=int, default=50, help="clihelp.checkout.limit")
    lst.set_defaults(func=cmd_order_list)
    show = osub.add_parser("show", help="clihelp.checkout.show")
    show.add_argument("order", help="clihelp.drivers_print.order")
    show.set_defaults(func=cmd_order_show)
    pay = osub.add_parser("pay", help="clihelp.checkout.pay")
    pay.add_argument("order", help="clihelp.checkout.order_2")
    pay.add_argument("--cashier", required=True, help="clihelp.checkout.cashier_2")
    paying(pay)
    pay.set_defaults(func=cmd_order_pay)
