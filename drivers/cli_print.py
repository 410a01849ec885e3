"""`pos print ...`, `pos drawer open` and `pos printer ...`: the receipt printer
from the command line. Registered through the `pos.commands` entry-point group.

The printer is named by `--printer URL`, else POS_PRINTER, else the terminal's
`printer` setting (`pos printer setup`). See drivers.printer.transport for URLs.
"""

from __future__ import annotations

import argparse
import os
import threading

from drivers.printer import EscPosReceiptPrinter, open_printer
from drivers.printer.emulator import EmulatedPrinter, Printout
from drivers.printer.queue import JobState, JobView
from drivers.printer.transport import parse_address
from pos.cli.context import CliContext
from pos.cli.session import open_services, read_pin
from pos.clock import SystemClock, iso
from pos.errors import InvalidInput
from pos.events import Event
from pos.messages import Name, both, msg
from pos.receipt import WIDTHS, columns, lookup_code
from pos.services.receipts import (
    PrinterSettings,
    build_receipt,
    printer_settings,
    save_printer_settings,
    store_header,
)
from pos.services.terminal_services import TerminalServices

WAIT_S = 20.0
CLI_RETRIES = (1.0, 2.0, 4.0)


def _printer(services: TerminalServices, url: str | None) -> EscPosReceiptPrinter:
    conf = printer_settings(services.terminal.db)
    url = url or os.environ.get("POS_PRINTER") or conf.url
    if not url:
        raise InvalidInput(msg("printer.not_set_up"))
    return open_printer(
        url,
        SystemClock(),
        width=conf.width,
        locale=conf.locale,
        tz=services.checkout.timezone,
        retry_delays=CLI_RETRIES,
    )


def _finish(ctx: CliContext, printer: EscPosReceiptPrinter, job_id: str) -> int:
    try:
        view: JobView = printer.queue.wait(job_id, WAIT_S)
    finally:
        printer.close()
    data = {"job": view.id, "kind": view.kind, "state": view.state.value, "attempts": view.attempts}
    if view.state is JobState.DONE:
        ctx.emit(data, msg("printer.job_printed", title=view.title))
        return 0
    data |= {"error": view.error, "error_code": view.error_code, "remedy": view.remedy}
    error = Name(view.error_zh or view.error, f"{view.error}\n{view.remedy}".strip())
    ctx.emit(data, msg("printer.job_failed", title=view.title, error=error))
    return 1


def cmd_print_test(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        printer = _printer(services, args.printer)
        w = printer.width
        head = store_header(services)
        # The test page reads in both languages, like the default receipt header.
        lines = [
            head.name,
            both(msg("printer.test.title")),
            "-" * w,
            columns(both(msg("printer.test.terminal")), services.terminal.terminal_id, w),
            columns(
                both(msg("printer.test.time")),
                services.checkout.local_time().strftime("%Y-%m-%d %H:%M"),
                w,
            ),
            columns(both(msg("printer.test.width")), f"{w}", w),
            "".join(str(i % 10) for i in range(1, w + 1)),
            msg("printer.test.cjk_sample").render("zh_CN"),
            "-" * w,
        ]
        title = msg("printer.test.job").render(ctx.lang)
        job = printer.print_lines("test", title, lines, qr=lookup_code("TEST", "0"))
        return _finish(ctx, printer, job)


def cmd_print_receipt(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        order_id = services.checkout.find(args.order).order.order_id
        receipt = build_receipt(services, order_id, reprint=not args.first)
        printer = _printer(services, args.printer)
        return _finish(ctx, printer, printer.print_receipt(receipt))


def cmd_drawer_open(args: argparse.Namespace, ctx: CliContext) -> int:
    """A no-sale drawer open: a manager approves, the journal records it, then
    the drawer opens."""
    with open_services(ctx) as services:
        printer = _printer(services, args.printer)
        pin = read_pin(ctx, args.approver, "POS_APPROVER_PIN")
        approval = services.users.approval(
            args.approver, pin, msg("users.action.open_drawer"), args.reason
        )
        t = services.terminal
        now = iso(t.clock.now())
        with t.db.transaction() as conn:
            services.checkout.orders.insert_approval(
                conn,
                action="drawer.no_sale",
                subject_id=t.terminal_id,
                approver_id=approval.user_id,
                requested_by=approval.user_id,
                reason=args.reason,
                now=now,
            )
            t.journal.append(
                conn,
                Event.DRAWER_OPENED,
                {"approver_id": approval.user_id, "reason": args.reason, "no_sale": True},
            )
        return _finish(ctx, printer, printer.open_drawer())


def cmd_printer_setup(args: argparse.Namespace, ctx: CliContext) -> int:
    parse_address(args.printer)
    with open_services(ctx) as services:
        settings = PrinterSettings(args.printer, args.width, args.locale)
        t = services.terminal
        save_printer_settings(t.db, t.journal, t.clock, settings)
        conf = {"url": settings.url, "width": settings.width, "locale": settings.locale}
        ctx.emit(
            conf,
            msg("printer.set_up", url=args.printer, width=args.width, locale=args.locale),
        )
    return 0


def cmd_printer_emulate(args: argparse.Namespace, ctx: CliContext) -> int:
    """A loopback printer that shows what it is sent (for the demo)."""
    printer = EmulatedPrinter(port=args.port)

    def show(p: Printout) -> None:
        ctx.emit(
            {"lines": [ln.text for ln in p.lines], "qr": p.qr_codes, "cut": p.cut},
            "\n".join([*(ln.text for ln in p.lines), *(f"[QR {q}]" for q in p.qr_codes)])
            + "\n" + "~" * 20,
        )  # fmt: skip

    printer.on_printout = show
    with printer:
        ctx.warn(msg("printer.emulating", address=printer.address))
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def printer_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--printer", metavar="URL", help="clihelp.drivers_print.printer_2")

    pr = sub.add_parser("print", help="clihelp.drivers_print.print")
    psub = pr.add_subparsers(dest="print_what", metavar="WHAT")
    psub.required = True
    p = psub.add_parser("test", help="clihelp.drivers_print.test")
    printer_arg(p)
    p.set_defaults(func=cmd_print_test)
    p = psub.add_parser("receipt", help="clihelp.drivers_print.receipt")
    p.add_argument("order", help="clihelp.drivers_print.order")
    p.add_argument("--first", action="store_true", help="clihelp.drivers_print.first")
    printer_arg(p)
    p.set_defaults(func=cmd_print_receipt)

    dr = sub.add_parser("drawer", help="clihelp.drivers_print.drawer")
    dsub = dr.add_subparsers(dest="drawer_what", metavar="WHAT")
    dsub.required = True
    p = dsub.add_parser("open", help="clihelp.drivers_print.open")
    p.add_argument("--approver", required=True, help="clihelp.drivers_print.approver")
    p.add_argument("--reason", default="", help="clihelp.drivers_print.reason")
    printer_arg(p)
    p.set_defaults(func=cmd_drawer_open)

    pt = sub.add_parser("printer", help="clihelp.drivers_print.printer")
    tsub = pt.add_subparsers(dest="printer_what", metavar="WHAT")
    tsub.required = True
    p = tsub.add_parser("setup", help="clihelp.drivers_print.setup")
    p.add_argument("--printer", required=True, metavar="URL")
    p.add_argument(
        "--width", type=int, choices=WIDTHS, default=42, help="clihelp.drivers_print.width"
    )
    p.add_argument("--locale", choices=("zh", "en"), default="zh")
    p.set_defaults(func=cmd_printer_setup)
    p = tsub.add_parser("emulate", help="clihelp.drivers_print.emulate")
    p.add_argument("--port", type=int, default=9100)
    p.set_defaults(func=cmd_printer_emulate)
