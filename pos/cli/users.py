"""`pos user add|list`. The first account on a new terminal must be a
manager and needs no approval; after that a manager approves new accounts."""

from __future__ import annotations

import argparse

from pos.auth import role_name
from pos.cli.context import CliContext
from pos.cli.session import open_services, read_pin
from pos.errors import InvalidInput
from pos.messages import msg


def cmd_add(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        existing = services.users.all()
        if not existing and args.role != "manager":
            raise InvalidInput(msg("users.first_must_be_manager"))
        if existing:
            if not args.approver:
                raise InvalidInput(msg("users.new_needs_approver"))
            services.users.approval(
                args.approver,
                read_pin(ctx, args.approver, "POS_APPROVER_PIN"),
                msg("users.action.add_user"),
            )
        pin = read_pin(ctx, args.user_id, "POS_NEW_PIN")
        user = services.users.add(args.user_id, args.name, args.role, pin)
    ctx.emit(
        {"user_id": user.user_id, "name": user.name, "role": user.role.value},
        msg("users.added", role=role_name(user.role), user_id=user.user_id, name=user.name),
    )
    return 0


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        users = services.users.all()
    ctx.emit(
        [
            {"user_id": u.user_id, "name": u.name, "role": u.role.value, "active": u.active}
            for u in users
        ],
        lambda: (
            "\n".join(
                f"{u.user_id:<12} {role_name(u.role).render(ctx.lang):<8} {u.name}" for u in users
            )
            or msg("users.none").render(ctx.lang)
        ),
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("user", help="clihelp.users.user")
    usub = p.add_subparsers(dest="user_command", required=True)
    add = usub.add_parser("add", help="clihelp.users.add")
    add.add_argument("user_id")
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=["cashier", "manager"], default="cashier")
    add.add_argument("--approver", help="clihelp.drivers_card_host.approver")
    add.set_defaults(func=cmd_add)
    lst = usub.add_parser("list", help="clihelp.users.list")
    lst.set_defaults(func=cmd_list)
