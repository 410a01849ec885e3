"""`pos member create|load|balance|code` (the `pos.commands` entry `member`):
members and their stored value and points at the chain's ledger.

pos member create --name NAME          PIN from POS_MEMBER_PIN or a prompt
pos member load NUMBER AMOUNT [--points]
pos member balance NUMBER_OR_CODE
pos member code NUMBER                 the member's current dynamic code
"""

from __future__ import annotations

import argparse
import getpass
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pos.cli.context import CliContext
from pos.cli.store import open_for_command
from pos.errors import InvalidInput, NotAllowed, NotFound, PosError
from pos.member_code import make_code
from pos.messages import msg
from pos.messages.helptext import coded
from pos.money import Money
from wallets.client import LedgerRefusal, LedgerUnknown, LedgerUnreachable
from wallets.link import MemberLink
from wallets.offline import OfflineBook

PIN_ENV = "POS_MEMBER_PIN"


@contextmanager
def _link(ctx: CliContext) -> Iterator[MemberLink]:
    with open_for_command(ctx) as terminal:
        link = MemberLink(terminal, OfflineBook(terminal.data_dir))
        try:
            yield link
        except LedgerUnreachable as exc:
            raise PosError(msg("wallet.unreachable", why=str(exc)[:200])) from exc
        except LedgerUnknown as exc:
            raise PosError(msg("wallet.outcome_unknown", why=str(exc)[:200])) from exc
        except LedgerRefusal as exc:
            kind: type[PosError] = NotFound if exc.status == 404 else NotAllowed
            raise kind(msg("wallet.refused", error=exc.error, detail=exc.detail)) from exc
        finally:
            if link.has_client():
                link.client().close()


def _create(args: argparse.Namespace, ctx: CliContext) -> int:
    pin = os.environ.get(PIN_ENV) or (
        ctx.read_pin("member")
        if ctx.read_pin
        else getpass.getpass(msg("wallet.pin_prompt").render(ctx.lang))
    )
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise InvalidInput(msg("wallet.bad_pin"))
    with _link(ctx) as link:
        made = link.client().create_member(args.name, pin)
    ctx.emit(made, msg("wallet.created", number=made["number"], name=made["name"]))
    return 0


def _load(args: argparse.Namespace, ctx: CliContext) -> int:
    kind = "points" if args.points else "stored_value"
    try:
        amount = int(args.amount) if args.points else Money.parse(args.amount, "CNY").minor
    except ValueError as exc:
        raise InvalidInput(msg("wallet.bad_amount", text=args.amount)) from exc
    if amount <= 0:
        raise InvalidInput(msg("wallet.bad_amount", text=args.amount))
    with _link(ctx) as link:
        done = link.client().activity(
            number=args.number, kind=kind, type="load", amount=amount,
            key=args.key or f"load-{uuid.uuid4().hex}", reference="pos member load",
        )  # fmt: skip
    ctx.emit(done | {"kind": kind}, msg("wallet.loaded", **_said(kind, amount, done["balance"])))
    return 0


def _said(kind: str, amount: int, balance: int) -> dict[str, Any]:
    if kind == "points":
        return {"amount": str(amount), "balance": str(balance), "unit": msg("wallet.unit_points")}
    return {
        "amount": Money(amount).amount_text(),
        "balance": Money(balance).amount_text(),
        "unit": msg("wallet.unit_yuan"),
    }


def _balance(args: argparse.Namespace, ctx: CliContext) -> int:
    with _link(ctx) as link:
        found = link.refresh(args.member)
    b = found["balances"]
    data = {k: found[k] for k in ("member_id", "number", "name", "balances")}
    ctx.emit(
        data,
        msg(
            "wallet.balance",
            number=found["number"],
            name=found["name"],
            stored=Money(int(b["stored_value"])).amount_text(),
            points=int(b["points"]),
        ),
    )
    return 0


def _code(args: argparse.Namespace, ctx: CliContext) -> int:
    with _link(ctx) as link:
        key = link.code_key()
        if key is None:
            raise PosError(msg("wallet.no_code_key"))
        code = make_code(key, args.number, link.now())
    ctx.emit({"number": args.number, "code": code}, code)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("member", help="clihelp.wallets.member")
    member = p.add_subparsers(dest="member_command", required=True)

    def cmd(name: str, helptext: str, func: Callable[..., int]) -> argparse.ArgumentParser:
        c = member.add_parser(name, help=helptext)
        c.set_defaults(func=func)
        return c

    c = cmd("create", coded("clihelp.wallets.create", env=PIN_ENV), _create)
    c.add_argument("--name", required=True)
    c = cmd("load", "clihelp.wallets.load", _load)
    c.add_argument("number", help="clihelp.wallets.number")
    c.add_argument("amount", help="clihelp.wallets.amount")
    c.add_argument("--points", action="store_true", help="clihelp.wallets.points")
    c.add_argument("--key", help="clihelp.wallets.key")
    c = cmd("balance", "clihelp.wallets.balance", _balance)
    c.add_argument("member", help="clihelp.wallets.member_2")
    c = cmd("code", "clihelp.wallets.code", _code)
    c.add_argument("number")
