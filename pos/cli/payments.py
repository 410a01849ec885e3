"""`pos sandbox ...` (loopback Alipay / WeChat Pay gateways), `pos payment query
ORDER_ID`, `pos payment recover`, `pos payment bills`."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pos.cli.context import CliContext
from pos.clock import Clock
from pos.errors import InvalidInput
from pos.messages import msg
from pos.payments.bills import BillSummary, download_bill
from pos.payments.channel import PaymentIntent
from pos.payments.intents import as_dict
from pos.payments.registry import open_router
from pos.payments.router import PaymentRouter

SANDBOX_FILE = Path("sandbox") / "sandbox.json"


def _router(ctx: CliContext) -> tuple[PaymentRouter, Any]:
    from pos.cli.store import open_for_command

    terminal = open_for_command(ctx)
    router, problems = open_router(terminal)
    _say_unavailable(ctx, problems)
    return router, terminal


def _say_unavailable(ctx: CliContext, problems: dict[str, str]) -> None:
    from pos.order.tenders import channel_label

    for name, why in sorted(problems.items()):
        ctx.warn(msg("cli.payment.channel_unavailable", channel=channel_label(name), why=why))


def _intent_line(i: PaymentIntent) -> str:
    return (
        f"{i.created_at}  {i.channel:<7} {i.mode.value:<13} {i.amount.format():>12}  "
        f"{i.status.value:<15} {i.out_trade_no}  {i.channel_ref}"
    )


def _payment_query(args: argparse.Namespace, ctx: CliContext) -> int:
    router, terminal = _router(ctx)
    try:
        intents = router.query_order(args.order_id)
    finally:
        terminal.close()
    if not intents:
        raise InvalidInput(msg("cli.payment.none_for_order", order_id=args.order_id))
    ctx.emit(
        {"order_id": args.order_id, "payments": [as_dict(i) for i in intents]},
        lambda: "\n".join(_intent_line(i) for i in intents),
    )
    return 0


def _payment_recover(args: argparse.Namespace, ctx: CliContext) -> int:
    from pos.cli.session import open_services
    from pos.services.payments import recover_payments
    from pos.services.released import settle_released

    with open_services(ctx) as services:
        router, problems = open_router(services.terminal)
        _say_unavailable(ctx, problems)
        # Attempts a till let go of first (given back if they went through), then the rest.
        settle_released(services.checkout, router)
        report = recover_payments(services, router)
    channels = report.channels
    data = {
        "resolved": [as_dict(i) for i in channels.resolved],
        "still_unknown": [as_dict(i) for i in channels.still_unknown],
        "refunds": [{"refund_id": r.refund_id, "status": r.status.value} for r in channels.refunds],
        "strays": [
            {
                **as_dict(s.intent),
                "action": s.action,
                "why": s.why,
                "receipt_no": s.receipt.receipt_no if s.receipt else None,
                "refund_status": s.refund.status.value if s.refund else None,
            }
            for s in report.strays
        ],
        "problems": report.problems,
    }
    ctx.emit(
        data,
        lambda: (
            "\n".join(
                [f"resolved: {_intent_line(i)}" for i in channels.resolved]
                + [f"refund {r.refund_id}: {r.status.value}" for r in channels.refunds]
                + [f"{s.action}: {_intent_line(s.intent)} {s.why}".rstrip() for s in report.strays]
                + [f"NEEDS ATTENTION: {p}" for p in report.problems]
            )
            or "nothing was open"
        ),
    )
    return 0 if report.settled else 1


def _bill_date(given: str | None, clock: Clock) -> str:
    """YYYY-MM-DD; by default yesterday in Beijing time, the newest bill there is."""
    if given is None:
        return ((clock.now() + timedelta(hours=8)).date() - timedelta(days=1)).isoformat()
    try:
        return date.fromisoformat(given.strip()).isoformat()
    except ValueError:
        raise InvalidInput(msg("cli.bad_bill_date", text=given)) from None


def _payment_bills(args: argparse.Namespace, ctx: CliContext) -> int:
    from pos.order.tenders import channel_label

    router, terminal = _router(ctx)
    try:
        bill_date = _bill_date(args.date, terminal.clock)
        channel = router.channel(args.channel)
        data, rows = download_bill(channel, bill_date)
    finally:
        terminal.close()
    suffix = getattr(channel, "bill_suffix", ".bin")
    out = (
        Path(args.out)
        if args.out
        else ctx.data_dir / "bills" / f"{args.channel}-{bill_date}{suffix}"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(out)
    s = BillSummary.of(rows)
    ctx.emit(
        {
            "channel": args.channel,
            "bill_date": bill_date,
            "file": str(out),
            "bytes": len(data),
            "payments": s.payments,
            "refunds": s.refunds,
            "paid": s.paid.amount_text(),
            "refunded": s.refunded.amount_text(),
            "fees": s.fees.amount_text(),
        },
        msg(
            "cli.bill.saved",
            channel=channel_label(args.channel),
            bill_date=bill_date,
            file=str(out),
            payments=s.payments,
            paid=s.paid,
            refunds=s.refunds,
            refunded=s.refunded,
            fees=s.fees,
        ),
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("payment", help="clihelp.payments.payment")
    psub = p.add_subparsers(dest="payment_command", required=True)
    q = psub.add_parser("query", help="clihelp.payments.query")
    q.add_argument("order_id")
    q.set_defaults(func=_payment_query)
    r = psub.add_parser("recover", help="clihelp.payments.recover")
    r.set_defaults(func=_payment_recover)
    b = psub.add_parser("bills", help="clihelp.payments.bills")
    b.add_argument("--channel", required=True, help="clihelp.payments.channel")
    b.add_argument("--date", help="clihelp.payments.date")
    b.add_argument("--out", metavar="FILE", help="clihelp.payments.out")
    b.set_defaults(func=_payment_bills)
