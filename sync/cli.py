"""Terminal commands for sync (registered through the `pos.commands` entry point):

pos enroll --server URL [--server URL2 ...] --code CODE [--ca-file PEM]
pos sync --once          push the journal, pull configuration, once
pos sync status          online?, backlog, oldest unsent, last success/error
pos sync                 keep syncing in the foreground until interrupted
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from pos.cli.context import CliContext
from pos.cli.store import open_for_command
from pos.errors import PosError
from sync.apply import default_handlers
from sync.client import SyncClient, SyncReport, enroll, status
from sync.transport import LinkError
from sync.worker import SyncWorker


def _enroll(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_for_command(ctx) as terminal:
        e = enroll(terminal, args.server, args.code, ca_file=args.ca_file)
        ctx.emit(
            {
                "terminal_id": terminal.terminal_id,
                "store_id": e.store_id,
                "server_url": e.server_url,
                "server_urls": args.server,
                "server_key": e.server_key,
            },
            f"enrolled terminal {terminal.terminal_id} (store {e.store_id}) with {e.server_url}\n"
            f"server key pinned: {e.server_key}",
        )
    return 0


def _report_dict(r: SyncReport) -> dict[str, Any]:
    return {
        "sent": r.pushed.sent,
        "batches": r.pushed.batches,
        "acknowledged_up_to": r.pushed.hwm,
        "config_applied": [
            {"version": a.version, "kind": a.kind, "outcome": a.outcome} for a in r.applied
        ],
    }


def _sync(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_for_command(ctx) as terminal:
        if args.action == "status":
            st = status(terminal)
            ctx.emit(st.to_dict(), st.text())
            return 0
        client = SyncClient.for_terminal(terminal, default_handlers(), timeout=args.timeout)
        try:
            if args.once:
                try:
                    report = client.sync_once()
                except LinkError as exc:
                    raise PosError(
                        f"sync did not complete: {exc}",
                        "Entries stay in the outbox and are sent on the next sync; nothing is lost.",
                    ) from exc
                d = _report_dict(report)
                text = f"sent {d['sent']} entries; the server holds up to entry {d['acknowledged_up_to']}"
                for a in d["config_applied"]:
                    text += f"\nconfiguration version {a['version']} ({a['kind']}): {a['outcome']}"
                ctx.emit(d, text)
                return 0
        finally:
            client.close()
        return _run_forever(terminal, args, ctx)


def _run_forever(terminal: Any, args: argparse.Namespace, ctx: CliContext) -> int:
    done = threading.Event()

    def report(r: SyncReport | None, exc: Exception | None) -> None:
        if exc is not None:
            ctx.warn(f"sync failed: {exc}")
        elif r is not None and (r.pushed.sent or r.applied):
            ctx.emit(_report_dict(r), f"sent {r.pushed.sent}, server holds up to {r.pushed.hwm}")

    worker = SyncWorker(
        lambda: SyncClient.for_terminal(terminal, default_handlers(), timeout=args.timeout),
        interval=args.interval,
        on_report=report,
    )
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    worker.start()
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    e = sub.add_parser("enroll", help="clihelp.sync.enroll")
    e.add_argument(
        "--server",
        required=True,
        action="append",
        help="clihelp.sync.server",
    )
    e.add_argument("--code", required=True, help="clihelp.sync.code")
    e.add_argument("--ca-file", help="clihelp.sync.ca_file")
    e.set_defaults(func=_enroll)

    s = sub.add_parser("sync", help="clihelp.sync.sync")
    s.add_argument("action", nargs="?", choices=["status"], help="clihelp.sync.action")
    s.add_argument("--once", action="store_true", help="clihelp.sync.once")
    s.add_argument("--interval", type=float, default=15.0, help="clihelp.sync.interval")
    s.add_argument("--timeout", type=float, default=30.0, help="clihelp.sync.timeout")
    s.set_defaults(func=_sync)
