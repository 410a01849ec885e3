"""`pos sandbox ...` (loopback Alipay / WeChat Pay gateways), `pos payment query
ORDER_ID`, `pos payment recover`, `pos payment bills`."""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from pos.cli.context import CliContext
from pos.clock import Clock, SystemClock
from pos.errors import InvalidInput, PosError
from pos.payments.bills import BillSummary, download_bill
from pos.payments.channel import PaymentIntent
from pos.payments.intents import as_dict
from pos.payments.notify import SECTION as NOTIFY_SECTION
from pos.payments.registry import open_router
from pos.payments.router import PaymentRouter
from pos.payments.sandbox.keys import write_terminal_config
from pos.payments.sandbox.state import FAULT_KINDS, OPS
from pos.payments.settings import load_payments_config

SANDBOX_FILE = Path("sandbox") / "sandbox.json"


def _router(ctx: CliContext) -> tuple[PaymentRouter, Any]:
    from pos.cli.store import open_for_command

    terminal = open_for_command(ctx)
    router, problems = open_router(terminal)
    for name, why in sorted(problems.items()):
        ctx.warn(f"note: payment channel '{name}' unavailable: {why}")
    return router, terminal


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
        raise InvalidInput(f"no payments for order {args.order_id}", "Check the order id.")
    ctx.emit(
        {"order_id": args.order_id, "payments": [as_dict(i) for i in intents]},
        lambda: "\n".join(_intent_line(i) for i in intents),
    )
    return 0


def _payment_recover(args: argparse.Namespace, ctx: CliContext) -> int:
    from pos.cli.session import open_services
    from pos.services.payments import recover_payments

    with open_services(ctx) as services:
        router, problems = open_router(services.terminal)
        for name, why in sorted(problems.items()):
            ctx.warn(f"note: payment channel '{name}' unavailable: {why}")
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
        raise InvalidInput(f"not a date: {given!r}", "Give the bill date as YYYY-MM-DD.") from None


def _payment_bills(args: argparse.Namespace, ctx: CliContext) -> int:
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
        f"{args.channel} bill for {bill_date} saved to {out}\n"
        f"{s.payments} payments {s.paid.format()}, {s.refunds} refunds {s.refunded.format()},"
        f" fees {s.fees.format()}",
    )
    return 0


# -- sandbox ------------------------------------------------------------------------------
def _sandbox_run(args: argparse.Namespace, ctx: CliContext) -> int:
    from pos.payments.sandbox.server import SandboxServer

    server = SandboxServer(ctx.data_dir, SystemClock(), port=args.port)
    info = {"url": server.base_url, "control": f"{server.base_url}/_sandbox"}
    (ctx.data_dir / SANDBOX_FILE).write_text(json.dumps(info))
    if not args.no_configure:
        sections = server.keys.terminal_config(server.base_url)
        if NOTIFY_SECTION not in load_payments_config(ctx.data_dir):
            # Tills listen for the sandbox's notifications on a free loopback port.
            sections[NOTIFY_SECTION] = {"listen": "127.0.0.1:0"}
        write_terminal_config(ctx.data_dir, sections)
    ctx.emit(
        info,
        f"sandbox gateways on {server.base_url} (Alipay /gateway.do, WeChat Pay "
        f"/v3 and /pay); payments.json points at them. Ctrl-C stops.",
    )
    ctx.out.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _control(
    ctx: CliContext, method: str, action: str, doc: dict[str, Any] | None = None
) -> dict[str, Any]:
    path = ctx.data_dir / SANDBOX_FILE
    if not path.exists():
        raise PosError(
            "no sandbox is running for this data directory",
            "Start one with `pos sandbox run` (in another terminal).",
        )
    url = json.loads(path.read_text())["control"] + "/" + action
    try:
        resp = httpx.request(method, url, json=doc, timeout=5, trust_env=False)
    except httpx.HTTPError as exc:
        raise PosError(
            f"the sandbox at {url} does not answer: {exc}", "Start it again with `pos sandbox run`."
        ) from exc
    body: dict[str, Any] = resp.json()
    if resp.status_code != 200:
        raise InvalidInput(f"sandbox refused: {body.get('error')}", "Check the arguments.")
    return body


def parse_fault(text: str) -> dict[str, Any]:
    """KIND[:OP[:TIMES[:before|after[:DELAY]]]], e.g. timeout:start:1:after:30."""
    parts = text.split(":")
    kind = parts[0]
    op = parts[1] if len(parts) > 1 and parts[1] else "start"
    if kind not in FAULT_KINDS or op not in OPS:
        raise InvalidInput(
            f"unknown fault {text!r}",
            f"Kinds: {', '.join(FAULT_KINDS)}; operations: {', '.join(OPS)}.",
        )
    try:
        return {
            "kind": kind,
            "op": op,
            "times": int(parts[2]) if len(parts) > 2 else 1,
            "after": (parts[3] if len(parts) > 3 else "after") != "before",
            "delay": float(parts[4]) if len(parts) > 4 else 30.0,
        }
    except ValueError as exc:
        raise InvalidInput(f"bad fault {text!r}", "Use e.g. timeout:start:1:after:30.") from exc


def _sandbox_scenario(args: argparse.Namespace, ctx: CliContext) -> int:
    doc: dict[str, Any] = {
        "confirm": args.confirm,
        "outcome": args.outcome,
        "decline": args.decline or "",
        "faults": [parse_fault(f) for f in args.fault or []],
    }
    if args.pay_after is not None:
        doc["pay_after"] = args.pay_after
    if args.order:
        doc["out_trade_no"] = args.order
    doc["next"] = bool(args.next)
    _control(ctx, "POST", "scenario", doc)
    target = args.order or ("the next payment" if args.next else "every new payment")
    ctx.emit(doc, f"scenario set for {target}")
    return 0


def _sandbox_scan(args: argparse.Namespace, ctx: CliContext) -> int:
    trade = _control(ctx, "POST", "scan", {"out_trade_no": args.order, "platform": args.platform})
    ctx.emit(trade, f"shopper paid {trade['out_trade_no']} ({trade['platform']})")
    return 0


def _sandbox_trades(args: argparse.Namespace, ctx: CliContext) -> int:
    trades = _control(ctx, "GET", "trades")["trades"]
    ctx.emit(
        trades,
        lambda: (
            "\n".join(
                f"{t['platform']:<7} {t['mode']:<4} {t['out_trade_no']}  {t['amount']:>8} fen  "
                f"{t['state']:<7} charged {t['charged']}"
                for t in trades
            )
            or "no trades"
        ),
    )
    return 0


def _sandbox_reset(args: argparse.Namespace, ctx: CliContext) -> int:
    _control(ctx, "POST", "reset")
    ctx.emit({"ok": True}, "sandbox trades and scenarios cleared")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("payment", help="payment attempts: query, recover")
    psub = p.add_subparsers(dest="payment_command", required=True)
    q = psub.add_parser("query", help="every payment attempt of an order, asked at the provider")
    q.add_argument("order_id")
    q.set_defaults(func=_payment_query)
    r = psub.add_parser("recover", help="settle attempts and refunds a crash left open")
    r.set_defaults(func=_payment_recover)
    b = psub.add_parser("bills", help="download a channel's daily bill (input to reconciliation)")
    b.add_argument("--channel", required=True, help="alipay or wechat")
    b.add_argument("--date", help="bill date YYYY-MM-DD, Beijing time (default: yesterday)")
    b.add_argument("--out", metavar="FILE", help="where to save it (default: <data dir>/bills/)")
    b.set_defaults(func=_payment_bills)

    s = sub.add_parser("sandbox", help="loopback Alipay / WeChat Pay gateways for demo and tests")
    ssub = s.add_subparsers(dest="sandbox_command", required=True)
    run = ssub.add_parser("run", help="run the sandbox gateways and point payments.json at them")
    run.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any)")
    run.add_argument("--no-configure", action="store_true", help="leave payments.json alone")
    run.set_defaults(func=_sandbox_run)
    sc = ssub.add_parser("scenario", help="what the shopper and network do")
    target = sc.add_mutually_exclusive_group()
    target.add_argument("--order", help="only for this out_trade_no")
    target.add_argument("--next", action="store_true", help="only for the next new payment")
    sc.add_argument("--pay-after", type=float, help="seconds until the shopper confirms")
    sc.add_argument("--confirm", type=float, default=1.0, help="seconds seen as 'user paying'")
    sc.add_argument("--outcome", choices=["pay", "cancel", "never"], default="pay")
    sc.add_argument("--decline", help="decline with this sub_code / err_code")
    sc.add_argument(
        "--fault",
        action="append",
        help="KIND[:OP[:TIMES[:before|after[:DELAY]]]]; kinds: " + ", ".join(FAULT_KINDS),
    )
    sc.set_defaults(func=_sandbox_scenario)
    scan = ssub.add_parser("scan", help="the shopper scans the QR now and pays")
    scan.add_argument("--order", help="out_trade_no (default: the latest QR)")
    scan.add_argument("--platform", choices=["alipay", "wechat"])
    scan.set_defaults(func=_sandbox_scan)
    ssub.add_parser("trades", help="list the sandbox's trades").set_defaults(func=_sandbox_trades)
    ssub.add_parser("reset", help="forget trades and scenarios").set_defaults(func=_sandbox_reset)
