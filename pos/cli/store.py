"""`pos init`, `pos journal verify`, `pos backup create|restore|verify`."""

from __future__ import annotations

import argparse
from importlib.metadata import entry_points
from pathlib import Path

from pos.cli.context import CliContext
from pos.cli.session import demo_warning
from pos.clock import SystemClock
from pos.messages import env_lang, msg
from pos.store import backup
from pos.store.db import Connection
from pos.store.journal import ExtraCheck
from pos.store.terminal import Terminal, open_terminal, provision

JOURNAL_CHECKS_GROUP = "pos.journal_checks"


def open_for_command(ctx: CliContext) -> Terminal:
    """Open the terminal for a command, warning on every use of the demo keystore."""
    terminal = open_terminal(ctx.data_dir, SystemClock())
    if terminal.demo_keystore:
        demo_warning(ctx)
    return terminal


def journal_checks() -> list[ExtraCheck]:
    """Cross-checks other areas register (orders and payments against the journal).

    A check that cannot be loaded is itself reported as a problem, so a broken
    install never makes `pos journal verify` pass by checking less.
    """
    checks: list[ExtraCheck] = []
    for ep in sorted(entry_points(group=JOURNAL_CHECKS_GROUP), key=lambda e: e.name):
        try:
            checks.append(ep.load())
        except (ImportError, AttributeError) as exc:
            checks.append(_unloadable(ep.name, exc))
    return checks


def _unloadable(name: str, exc: Exception) -> ExtraCheck:
    def check(conn: Connection) -> list[str]:
        return [f"the journal check {name!r} could not be loaded: {exc}"]

    return check


def _init(args: argparse.Namespace, ctx: CliContext) -> int:
    kind = "demo" if args.demo_keystore else "keyring"
    if kind == "demo":
        demo_warning(ctx)
    with provision(ctx.data_dir, kind, args.store_id, args.terminal_id, SystemClock()) as t:
        ctx.emit(
            {
                "terminal_id": t.terminal_id,
                "store_id": t.store_id,
                "keystore": t.keystore.kind,
                "data_dir": str(t.data_dir),
                "public_key": t.public_key,
                "schema_version": t.db.schema_version,
            },
            msg(
                "cli.store.provisioned",
                terminal_id=t.terminal_id,
                store_id=t.store_id,
                data_dir=str(t.data_dir),
                keystore=t.keystore.describe(),
                public_key=t.public_key,
            ),
        )
    return 0


def _journal_verify(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_for_command(ctx) as terminal:
        report = terminal.verify_journal(journal_checks())
    ctx.emit(report.to_dict(), report.message())
    return 0 if report.ok else 6


def _acknowledge_loss(args: argparse.Namespace, ctx: CliContext) -> int:
    from pos.cli.session import open_services, read_pin

    with open_services(ctx) as services:
        terminal = services.terminal
        if not terminal.losses:
            text = msg("store.no_loss")
            ctx.emit({"acknowledged": [], "message": text.to_dict()}, text.render(env_lang()))
            return 0
        approval = services.users.approval(
            args.approver,
            read_pin(ctx, args.approver, "POS_APPROVER_PIN"),
            msg("users.action.acknowledge_loss"),
        )
        losses = terminal.acknowledge_loss(approval.user_id)
    lost = max(loss.lost for loss in losses)
    text = msg("store.loss_accepted", approver=approval.user_id, lost=lost)
    ctx.emit(
        {"acknowledged": [loss.to_dict() for loss in losses], "message": text.to_dict()},
        text.render(env_lang()),
    )
    return 0


def _backup_create(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_for_command(ctx) as terminal:
        result = backup.create(terminal, Path(args.out))
    ctx.emit(result.to_dict(), result.message())
    return 0


def _backup_verify(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_for_command(ctx) as terminal:
        result = backup.verify_file(terminal, Path(args.file))
    ctx.emit(result.to_dict(), result.message())
    return 0 if result.ok else 6


def _backup_restore(args: argparse.Namespace, ctx: CliContext) -> int:
    result = backup.restore(
        ctx.data_dir,
        Path(args.file),
        SystemClock(),
        force=args.force,
        accept_loss=args.accept_loss,
    )
    if result.demo_keystore:
        demo_warning(ctx)
    ctx.emit(result.to_dict(), result.message())
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="clihelp.store.init")
    p.add_argument("--store-id", required=True, help="clihelp.store.store_id")
    p.add_argument("--terminal-id", help="clihelp.store.terminal_id")
    p.add_argument(
        "--demo-keystore",
        action="store_true",
        help="clihelp.store.demo_keystore",
    )
    p.set_defaults(func=_init)

    journal = sub.add_parser("journal", help="clihelp.store.journal").add_subparsers(
        dest="journal_command", metavar="ACTION", required=True
    )
    p = journal.add_parser("verify", help="clihelp.store.verify")
    p.set_defaults(func=_journal_verify)
    p = journal.add_parser(
        "acknowledge-loss",
        help="clihelp.store.acknowledge_loss",
    )
    p.add_argument("--approver", required=True, help="clihelp.drivers_print.approver")
    p.set_defaults(func=_acknowledge_loss)

    bk = sub.add_parser("backup", help="clihelp.store.backup").add_subparsers(
        dest="backup_command", metavar="ACTION", required=True
    )
    p = bk.add_parser("create", help="clihelp.store.create")
    p.add_argument("--out", required=True, help="clihelp.store.out")
    p.set_defaults(func=_backup_create)
    p = bk.add_parser("verify", help="clihelp.store.verify_2")
    p.add_argument("file")
    p.set_defaults(func=_backup_verify)
    p = bk.add_parser("restore", help="clihelp.store.restore")
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="clihelp.store.force")
    p.add_argument(
        "--accept-loss",
        type=int,
        metavar="N",
        help="clihelp.store.accept_loss",
    )
    p.set_defaults(func=_backup_restore)
