"""`pos report x|z|daily` and `pos reconcile`: the day's settlement, closing
it, its files, and the channels' bills against the terminal's records."""

from __future__ import annotations

import argparse
import shutil
from datetime import date
from pathlib import Path

from pos.cli.context import CliContext
from pos.cli.session import open_services, read_pin
from pos.errors import InvalidInput
from pos.messages import Message, msg
from pos.messages.helptext import coded
from pos.money import Money, MoneyError
from pos.order.limits import not_negative
from pos.payments.registry import KeystoreSecrets, load_channels
from pos.reports import context_of
from pos.reports.exports import FORMATS, export
from pos.reports.model import SettlementReport
from pos.reports.reconcile import (
    BILL_CHANNELS,
    GatewayBills,
    Reconciliation,
    journal_result,
    recon_doc,
    reconcile,
)
from pos.reports.tables import TableDoc, report_doc
from pos.reports.text import render_doc
from pos.reports.zreport import close_day, daily_report, load_z, x_report
from pos.services.terminal_services import TerminalServices

DIFFERENCES_FOUND = 5  # exit status of `pos reconcile` when anything differs


def _money(text: str | None, currency: str, what: Message) -> Money | None:
    if text is None:
        return None
    try:
        return not_negative(Money.parse(text, currency), what)
    except MoneyError as exc:
        raise InvalidInput(msg("cli.report.not_an_amount", what=what, text=text)) from exc


def _date(services: TerminalServices, given: str | None) -> str:
    if given is None:
        return services.checkout.business_date()
    text = given.strip()
    if len(text) == 8 and text.isdigit():  # as in receipt numbers: 20260302
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise InvalidInput(msg("cli.bad_business_date", text=given)) from None


def _width() -> int:
    return max(42, min(shutil.get_terminal_size((100, 24)).columns, 140))


def _show(
    ctx: CliContext, args: argparse.Namespace, data: dict[str, object], doc: TableDoc
) -> None:
    if args.out:
        fmt = args.format or Path(args.out).suffix.lstrip(".").lower()
        written = export(doc, fmt, Path(args.out))
        data = {**data, "file": str(written), "format": fmt}
        ctx.emit(data, msg("cli.report.written", title=doc.title, file=written, format=fmt))
        return
    if args.format:
        raise InvalidInput(msg("cli.report.format_needs_out"))
    ctx.emit(data, render_doc(doc, _width()))


def _report_out(
    ctx: CliContext,
    args: argparse.Namespace,
    services: TerminalServices,
    report: SettlementReport,
    extra: dict[str, object] | None = None,
) -> int:
    doc = report_doc(report, services.checkout.timezone)
    _show(ctx, args, {**report.to_dict(), **(extra or {})}, doc)
    if not report.journal.agrees:
        ctx.warn(msg("cli.report.journal_disagrees", problems=list(report.journal.problems)))
        return 1
    return 0


def cmd_x(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        cur = services.checkout.settings.currency
        report = x_report(
            services.terminal.db,
            context_of(services),
            _date(services, args.date),
            services.terminal.clock.now(),
            _money(args.float, cur, msg("cli.report.opening_float")),
        )
        return _report_out(ctx, args, services, report)


def cmd_z(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        date = _date(services, args.date)
        t = services.terminal
        if args.reprint:
            closed = load_z(t.db, business_date=date)
        else:
            cur = services.checkout.settings.currency
            counted = _money(args.counted, cur, msg("cli.report.counted_cash"))
            if counted is None or not args.approver:
                raise InvalidInput(msg("cli.report.z_needs"))
            pin = read_pin(ctx, args.approver, "POS_APPROVER_PIN")
            approval = services.users.approval(
                args.approver, pin, msg("users.action.close_day", business_date=date)
            )
            closed = close_day(
                t.db,
                t.journal,
                context_of(services),
                date,
                now=t.clock.now(),
                counted=counted,
                reason=args.reason or "",
                approval=approval,
                opening_float=_money(args.float, cur, msg("cli.report.opening_float")),
                force=args.force,
            )
        extra = {"sha256": closed.sha256, "journal_seq": closed.journal_seq}
        return _report_out(ctx, args, services, closed.report, extra)


def cmd_daily(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        t = services.terminal
        report = daily_report(t.db, context_of(services), _date(services, args.date), t.clock.now())
        return _report_out(ctx, args, services, report)


def cmd_reconcile(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        t = services.terminal
        date = _date(services, args.date)
        wanted = [args.channel] if args.channel else list(BILL_CHANNELS)
        channels, problems = load_channels(
            t.data_dir, t.clock, KeystoreSecrets(t.keystore), only=wanted
        )
        if not args.channel:
            for name, why in problems.items():
                from pos.order.tenders import channel_label

                ctx.warn(msg("cli.report.not_reconciled", channel=channel_label(name), why=why))
            wanted = [c for c in wanted if c in channels]
            if not wanted:
                raise InvalidInput(msg("cli.report.no_bill_channel"))
        cur = services.checkout.settings.currency
        results: list[Reconciliation] = []
        for channel in wanted:
            result = reconcile(t.db, GatewayBills(channels), channel, date, cur)
            journal_result(t.db, t.journal, result)
            results.append(result)
        doc = recon_doc(results, t.terminal_id, cur)
        _show(ctx, args, {"bill_date": date, "results": [r.to_dict() for r in results]}, doc)
        return DIFFERENCES_FOUND if any(r.differences for r in results) else 0


def _file_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, help="clihelp.report.format")
    p.add_argument("--out", metavar="FILE", help="clihelp.report.out")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="clihelp.report.report")
    rsub = report.add_subparsers(dest="report_kind", metavar="KIND")
    rsub.required = True

    p = rsub.add_parser("x", help="clihelp.report.x")
    p.add_argument("--date", help="clihelp.report.date")
    p.add_argument("--float", metavar="AMOUNT", help="clihelp.report.float")
    _file_args(p)
    p.set_defaults(func=cmd_x)

    p = rsub.add_parser("z", help="clihelp.report.z")
    p.add_argument("--date", help="clihelp.report.date")
    p.add_argument("--counted", metavar="AMOUNT", help="clihelp.report.counted")
    p.add_argument("--reason", help="clihelp.report.reason")
    p.add_argument("--approver", help="clihelp.drivers_card_host.approver")
    p.add_argument("--float", metavar="AMOUNT", help="clihelp.report.float")
    p.add_argument("--force", action="store_true", help="clihelp.report.force")
    p.add_argument("--reprint", action="store_true", help="clihelp.report.reprint")
    _file_args(p)
    p.set_defaults(func=cmd_z)

    p = rsub.add_parser("daily", help="clihelp.report.daily")
    p.add_argument("--date", help="clihelp.report.date")
    _file_args(p)
    p.set_defaults(func=cmd_daily)

    p = sub.add_parser(
        "reconcile",
        help="clihelp.report.reconcile",
        description=coded("clihelp.report.reconcile_description", code=DIFFERENCES_FOUND),
    )
    p.add_argument("--date", help="clihelp.report.date_2")
    p.add_argument("--channel", choices=BILL_CHANNELS)
    _file_args(p)
    p.set_defaults(func=cmd_reconcile)
