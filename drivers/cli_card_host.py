"""`pos card acquirer | scenario | forward | declines`: the sandbox acquirer
for the demo, its scenario controls, forwarding stored offline approvals,
and the manager's list of offline approvals the bank declined afterwards."""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

from drivers.virtualcard.profiles import PROFILES
from pos.cli.context import CliContext
from pos.cli.sandbox import parse_fault
from pos.cli.session import open_services, read_pin
from pos.clock import SystemClock
from pos.errors import InvalidInput, PosError
from pos.messages import Message, msg
from pos.money import Money, MoneyError
from pos.payments.card.acquirer import AcquirerClient
from pos.payments.card.iso8583 import RESPONSE_TEXT
from pos.payments.card.ledger import CardLedger
from pos.payments.card.offline import OfflineForwarder
from pos.payments.card.sandbox_service import INFO_FILE, SANDBOX_DIR, SandboxAcquirerService
from pos.payments.card.settings import card_settings
from pos.payments.channel import ChannelEnv
from pos.payments.registry import KeystoreSecrets
from pos.payments.settings import CONFIG_FILE, load_payments_config
from pos.services.terminal_services import TerminalServices


def add_commands(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    acq = cmds.add_parser("acquirer", help="clihelp.drivers_card_host.acquirer")
    acq.add_argument("--port", type=int, default=0, help="clihelp.drivers_card_host.port")
    acq.add_argument(
        "--control-port", type=int, default=0, help="clihelp.drivers_card_host.control_port"
    )
    acq.add_argument(
        "--no-configure", action="store_true", help="clihelp.drivers_card_host.no_configure"
    )
    acq.add_argument("--seconds", type=float, default=0.0, help="clihelp.drivers_card_host.seconds")
    acq.set_defaults(func=cmd_acquirer)

    sc = cmds.add_parser("scenario", help="clihelp.drivers_card_host.scenario")
    sc.add_argument(
        "--fault",
        action="append",
        metavar="KIND[:OP[:TIMES[:before|after[:DELAY]]]]",
        help="clihelp.drivers_card_host.fault",
    )
    sc.add_argument(
        "--account",
        action="append",
        metavar="PROFILE:BALANCE[:blocked]",
        help="clihelp.drivers_card_host.account",
    )
    sc.add_argument("--down", type=float, metavar="SECONDS", help="clihelp.drivers_card_host.down")
    sc.add_argument("--up", action="store_true", help="clihelp.drivers_card_host.up")
    sc.add_argument("--reset", action="store_true", help="clihelp.drivers_card_host.reset")
    sc.set_defaults(func=cmd_scenario)

    fwd = cmds.add_parser("forward", help="clihelp.drivers_card_host.forward")
    fwd.set_defaults(func=cmd_forward)

    dec = cmds.add_parser("declines", help="clihelp.drivers_card_host.declines")
    dec.add_argument("--review", metavar="INTENT_ID", help="clihelp.drivers_card_host.review")
    dec.add_argument("--approver", help="clihelp.drivers_card_host.approver")
    dec.add_argument("--note", default="", help="clihelp.drivers_card_host.note")
    dec.set_defaults(func=cmd_declines)


# -- the sandbox acquirer -------------------------------------------------------------


def cmd_acquirer(args: argparse.Namespace, ctx: CliContext) -> int:
    service = SandboxAcquirerService(
        ctx.data_dir, SystemClock(), port=args.port, control_port=args.control_port
    )
    service.start(configure=not args.no_configure)
    info = service.info()
    running = "cli.card.acquirer_running" + ("" if args.no_configure else "_configured")
    ctx.emit(
        info,
        msg(
            running,
            host=info["host"],
            port=info["port"],
            control=info["control"],
            file=CONFIG_FILE,
        ),
    )
    ctx.out.flush()
    hold(ctx, args.seconds, service.stop, msg("cli.card.acquirer_stopped"))
    return 0


def hold(ctx: CliContext, seconds: float, release: Callable[[], None], why: str | Message) -> None:
    """Keeps a foreground command running for `seconds` (0: until Ctrl-C), then `release`."""
    try:
        threading.Event().wait(seconds if seconds > 0 else None)
    except KeyboardInterrupt:
        ctx.warn(why)
    finally:
        release()


def _control(ctx: CliContext, action: str, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    path = ctx.data_dir / SANDBOX_DIR / INFO_FILE
    if not path.exists():
        raise PosError(msg("cli.card.not_running"))
    url = f"{json.loads(path.read_text())['control']}/{action}"
    try:
        resp = httpx.request(
            "GET" if doc is None else "POST", url, json=doc, timeout=5, trust_env=False
        )
        body: dict[str, Any] = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise PosError(msg("cli.card.no_answer", url=url, error=str(exc))) from exc
    if resp.status_code != 200:
        raise InvalidInput(msg("cli.sandbox.refused", error=str(body.get("error"))))
    return body


def _account(text: str) -> tuple[str, dict[str, Any]]:
    profile, _, rest = text.partition(":")
    balance, _, flag = rest.partition(":")
    if profile not in PROFILES or not balance or flag not in ("", "blocked"):
        raise InvalidInput(
            msg("cli.card.bad_account", text=repr(text), profiles=", ".join(sorted(PROFILES)))
        )
    try:
        minor = Money.parse(balance).minor
    except MoneyError as exc:
        raise InvalidInput(msg("cli.bad_amount", text=repr(balance))) from exc
    doc = {"pan": PROFILES[profile].pan, "balance_minor": minor, "blocked": flag == "blocked"}
    return profile, doc


def cmd_scenario(args: argparse.Namespace, ctx: CliContext) -> int:
    done: list[Message] = []
    for spec in args.fault or []:
        _control(ctx, "fault", parse_fault(spec))
        done.append(msg("cli.card.done.fault", spec=spec))
    for spec in args.account or []:
        profile, doc = _account(spec)
        _control(ctx, "account", doc)
        account = "cli.card.done.account" + ("_blocked" if doc["blocked"] else "")
        done.append(msg(account, profile=profile, amount=Money(doc["balance_minor"])))
    if args.reset:
        _control(ctx, "reset", {})
        done.append(msg("cli.card.done.reset"))
    if args.down is not None:
        _control(ctx, "down", {"seconds": args.down})
        done.append(
            msg("cli.card.done.down_for", seconds=f"{args.down:g}")
            if args.down > 0
            else msg("cli.card.done.down")
        )
    if args.up:
        _control(ctx, "up", {})
        done.append(msg("cli.card.done.up"))
    state = _control(ctx, "state")
    seen = " ".join(state["messages"]) or msg("cli.card.none_seen").render(ctx.lang)
    host = msg("cli.card.host_up" if state["up"] else "cli.card.host_down", seen=seen)
    ctx.emit(
        {"done": [m.render("en") for m in done], **state},
        "\n".join(m.render(ctx.lang) for m in [*done, host]),
    )
    return 0


# -- store-and-forward ----------------------------------------------------------------


def _forwarder(services: TerminalServices) -> OfflineForwarder:
    t = services.terminal
    section = load_payments_config(t.data_dir).get("card")
    if section is None:
        raise InvalidInput(msg("cli.card.not_configured", file=CONFIG_FILE))
    env = ChannelEnv("card", section, t.data_dir, t.clock, KeystoreSecrets(t.keystore))
    settings = card_settings(env)
    ledger = CardLedger(t.db, t.journal, t.clock)
    return OfflineForwarder(ledger, AcquirerClient(settings.acquirer), t.clock, settings.policy)


def _decline_rows(ledger: CardLedger) -> list[dict[str, Any]]:
    rows = []
    for item in ledger.unreviewed_declines():
        payment = ledger.get(item.intent_id) or {}
        rows.append(
            {
                "intent_id": item.intent_id,
                "order_id": payment.get("order_id", ""),
                "amount": Money(item.amount_minor, item.currency).amount_text(),
                "currency": item.currency,
                "masked_pan": item.masked_pan,
                "stored_at": item.stored_at.isoformat(),
                "response_code": item.response_code,
                "response": RESPONSE_TEXT.get(item.response_code, item.response_code),
            }
        )
    return rows


def _decline_line(row: dict[str, Any]) -> Message:
    fields = ("intent_id", "order_id", "masked_pan", "stored_at", "response_code", "response")
    return msg(
        "cli.card.decline_row",
        amount=f"{row['amount']} {row['currency']}",
        **{k: row[k] for k in fields},
    )


def cmd_forward(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        forwarder = _forwarder(services)
        report = forwarder.forward_pending()
        declines = _decline_rows(forwarder.ledger)
    data = {
        "accepted": report.accepted,
        "declined": report.declined,
        "still_pending": report.still_pending,
        "unreviewed_declines": declines,
    }
    lines = [
        msg(
            "cli.card.forwarded",
            accepted=report.accepted,
            declined=report.declined,
            pending=report.still_pending,
        )
    ]
    if declines:
        lines.append(msg("cli.card.declines_waiting", count=len(declines)))
    ctx.emit(data, "\n".join(m.render(ctx.lang) for m in lines))
    return 0 if report.still_pending == 0 else 1


def cmd_declines(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        t = services.terminal
        ledger = CardLedger(t.db, t.journal, t.clock)
        if args.review:
            if not args.approver:
                raise InvalidInput(msg("cli.card.review_needs_approver"))
            pin = read_pin(ctx, args.approver, "POS_APPROVER_PIN")
            approval = services.users.approval(
                args.approver, pin, msg("users.action.review_card_decline", intent_id=args.review)
            )
            ledger.review(args.review, approval.user_id, args.note)
            ctx.emit(
                {"reviewed": args.review, "approved_by": approval.user_id},
                msg("cli.card.reviewed", intent_id=args.review, by=approval.user_id),
            )
            return 0
        rows = _decline_rows(ledger)
    ctx.emit(
        {"unreviewed_declines": rows},
        "\n".join(_decline_line(r).render(ctx.lang) for r in rows)
        or msg("cli.card.no_declines").render(ctx.lang),
    )
    return 0
