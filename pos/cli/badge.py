"""`pos badge enrol|list|revoke|limit` and `pos login --badge`: staff badges
tapped on the card reader. A manager approves every change to the badges
(PIN from POS_APPROVER_PIN or a prompt). Registered through the
`pos.commands` entry-point group (`badge` and `login`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

from pos.auth import Approval
from pos.auth_badge import BadgeCard, BadgeReader, open_badge_reader
from pos.cli.context import CliContext
from pos.cli.session import open_services, read_pin
from pos.errors import InvalidInput, NotAllowed
from pos.messages import Message, msg
from pos.money import Money, MoneyError
from pos.services.badges import BadgeService
from pos.services.terminal_services import TerminalServices

TAP_SECONDS = 30.0


@contextmanager
def _badges(ctx: CliContext) -> Iterator[tuple[TerminalServices, BadgeService]]:
    with open_services(ctx) as services:
        t = services.terminal
        yield services, BadgeService(t.db, t.journal, t.clock, services.users)


@contextmanager
def _tap(
    ctx: CliContext, reader_name: str | None = None, timeout: float = TAP_SECONDS
) -> Iterator[BadgeCard]:
    reader: BadgeReader = open_badge_reader(reader_name)
    try:
        ctx.warn(msg("badge.tap"))
        yield reader.tap(timeout)
    finally:
        reader.close()


def badge_approval(
    ctx: CliContext, services: TerminalServices, approver: str, action: str | Message
) -> Approval:
    """The manager `approver` approves by badge and PIN (approvals above the
    badge limit need both). The reader: $POS_BADGE_READER, else the first."""
    t = services.terminal
    badges = BadgeService(t.db, t.journal, t.clock, services.users)
    pin = read_pin(ctx, approver, "POS_APPROVER_PIN")
    with _tap(ctx, os.environ.get("POS_BADGE_READER") or None) as card:
        approval = badges.approval(card, pin, action)
    if approval.user_id != approver:
        raise NotAllowed(msg("badge.not_the_approver", badge=card.badge_id, approver=approver))
    return approval


def cmd_enrol(args: argparse.Namespace, ctx: CliContext) -> int:
    with _badges(ctx) as (services, badges):
        approval = services.users.approval(
            args.approver, read_pin(ctx, args.approver, "POS_APPROVER_PIN"), "enrol a badge"
        )
        with _tap(ctx, args.reader, args.timeout) as card:
            badge = badges.enrol(card, args.user_id, approval)
    ctx.emit(
        badge.to_dict(),
        msg(
            "badge.enrolled_done",
            badge=badge.badge_id,
            user=badge.user_id,
            fingerprint=badge.fingerprint,
        ),
    )
    return 0


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    with _badges(ctx) as (_services, badges):
        rows = badges.all()
    ctx.emit(
        [b.to_dict() for b in rows],
        lambda: (
            "\n".join(
                f"{b.badge_id:<12} {b.user_id:<12} {b.fingerprint} {b.enrolled_at}"
                + (f"  REVOKED {b.revoked_at}" if b.revoked_at else "")
                for b in rows
            )
            or msg("badge.none").render(ctx.lang)
        ),
    )
    return 0


def cmd_revoke(args: argparse.Namespace, ctx: CliContext) -> int:
    with _badges(ctx) as (services, badges):
        approval = services.users.approval(
            args.approver, read_pin(ctx, args.approver, "POS_APPROVER_PIN"), "revoke a badge"
        )
        badge = badges.revoke(args.badge_id, approval)
    ctx.emit(badge.to_dict(), msg("badge.revoked_done", badge=badge.badge_id, user=badge.user_id))
    return 0


def cmd_limit(args: argparse.Namespace, ctx: CliContext) -> int:
    minor: int | None = None
    if args.amount != "none":
        try:
            minor = Money.parse(args.amount).minor
        except MoneyError as exc:
            raise InvalidInput(msg("cli.bad_amount", text=args.amount)) from exc
    with _badges(ctx) as (services, badges):
        approval = services.users.approval(
            args.approver, read_pin(ctx, args.approver, "POS_APPROVER_PIN"), "set the badge limit"
        )
        badges.set_threshold(minor, approval)
    ctx.emit({"badge_above_minor": minor}, str(args.amount))
    return 0


def cmd_login(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.badge:
        with _badges(ctx) as (_services, badges), _tap(ctx, args.reader, args.timeout) as card:
            user = badges.sign_in(card)
            badge_id = card.badge_id
    else:
        if not args.user:
            raise InvalidInput(msg("cli.args.required", names="--badge or --user"))
        with open_services(ctx) as services:
            user = services.users.login(args.user, read_pin(ctx, args.user, "POS_PIN"))
            badge_id = ""
    ctx.emit(
        {"user_id": user.user_id, "name": user.name, "role": user.role.value, "badge_id": badge_id},
        msg("badge.signed_in", name=user.name, badge=badge_id or "-"),
    )
    return 0


def _reader_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reader", help="clihelp.drivers.reader")
    p.add_argument("--timeout", type=float, default=TAP_SECONDS, help="clihelp.badge.timeout")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("badge", help="clihelp.badge.badge")
    bsub = p.add_subparsers(dest="badge_command", required=True)
    enrol = bsub.add_parser("enrol", help="clihelp.badge.enrol")
    enrol.add_argument("user_id")
    enrol.add_argument("--approver", required=True, help="clihelp.badge.approver")
    _reader_options(enrol)
    enrol.set_defaults(func=cmd_enrol)
    lst = bsub.add_parser("list", help="clihelp.badge.list")
    lst.set_defaults(func=cmd_list)
    revoke = bsub.add_parser("revoke", help="clihelp.badge.revoke")
    revoke.add_argument("badge_id")
    revoke.add_argument("--approver", required=True, help="clihelp.badge.approver")
    revoke.set_defaults(func=cmd_revoke)
    limit = bsub.add_parser("limit", help="clihelp.badge.limit")
    limit.add_argument("amount", help="clihelp.badge.amount")
    limit.add_argument("--approver", required=True, help="clihelp.badge.approver")
    limit.set_defaults(func=cmd_limit)

    login = sub.add_parser("login", help="clihelp.badge.login")
    login.add_argument("--badge", action="store_true", help="clihelp.badge.badge_2")
    login.add_argument("--user", help="clihelp.badge.user")
    _reader_options(login)
    login.set_defaults(func=cmd_login)
