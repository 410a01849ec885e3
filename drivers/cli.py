"""`pos card ...`: the readers, reading a card through the EMV flow up to its
cryptogram, and the card emulator for the demo; the sandbox acquirer,
forwarding and the manager's declines are in drivers.cli_card_host.
Registered through the `pos.commands` entry-point group."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from drivers.cli_card_host import add_commands, hold
from drivers.emv.config import TerminalConfig
from drivers.handler import CliCardHandler
from drivers.pcsc.reader import card_present, list_readers
from drivers.pcsc.terminal import PcscCardTerminal
from drivers.virtualcard.badge import BADGE_PROFILES, badge_with_chip, keep_chip
from drivers.virtualcard.card import EmvCard
from drivers.virtualcard.profiles import PROFILES
from drivers.virtualcard.vpcd import PORT_ENV, VPCD_PORT, VirtualCardSlot
from pos.cli.context import CliContext
from pos.clock import SystemClock
from pos.errors import InvalidInput
from pos.messages import msg
from pos.messages.helptext import coded
from pos.money import Money, MoneyError
from pos.payments.card.port import CardRead, CardRequest


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    card = sub.add_parser("card", help="clihelp.drivers.card")
    cmds = card.add_subparsers(dest="card_command", metavar="ACTION")
    cmds.required = True

    readers = cmds.add_parser("readers", help="clihelp.drivers.readers")
    readers.set_defaults(func=cmd_readers)

    read = cmds.add_parser("read", help="clihelp.drivers.read")
    read.add_argument("--reader", help="clihelp.drivers.reader")
    read.add_argument("--amount", default="0.01", help="clihelp.drivers.amount")
    read.add_argument("--timeout", type=float, default=30.0, help="clihelp.drivers.timeout")
    read.set_defaults(func=cmd_read)

    emulate = cmds.add_parser("emulate", help="clihelp.drivers.emulate")
    emulate.add_argument("--profile", required=True, choices=sorted([*PROFILES, *BADGE_PROFILES]))
    emulate.add_argument("--chip", type=Path, help="clihelp.drivers.chip")
    emulate.add_argument(
        "--port",
        type=int,
        default=None,
        help=coded("clihelp.drivers.port", env=PORT_ENV, port=VPCD_PORT),
    )
    emulate.add_argument("--seconds", type=float, default=0.0, help="clihelp.drivers.seconds")
    emulate.set_defaults(func=cmd_emulate)
    add_commands(cmds)


def cmd_readers(args: argparse.Namespace, ctx: CliContext) -> int:
    rows = []
    for name in list_readers():
        atr = card_present(name)
        rows.append(
            {"reader": name, "card": atr is not None, "atr": atr.hex().upper() if atr else ""}
        )
    lines = [
        msg("pcsc.reader_card", reader=r["reader"], atr=r["atr"])
        if r["card"]
        else msg("pcsc.reader_empty", reader=r["reader"])
        for r in rows
    ]
    if not lines:
        lines = [msg("pcsc.readers_none")]
    ctx.emit({"readers": rows}, lambda: "\n".join(m.render(ctx.lang) for m in lines))
    return 0


def _read_view(read: CardRead) -> dict[str, Any]:
    return {
        "masked_pan": read.masked_pan,
        "brand": read.brand,
        "aid": read.aid,
        "label": read.label,
        "expiry": read.expiry,
        "pan_sequence": read.psn,
        "atc": read.atc,
        "cryptogram": read.cryptogram,
        "cryptogram_type": read.cryptogram_type,
        "decision": read.decision,
        "decline_reason": read.decline_reason,
        "tvr": read.tvr,
        "tsi": read.tsi,
        "cvm": read.cvm,
        "apdus": read.apdu_count,
        "elapsed_ms": round(read.elapsed_ms, 1),
    }


def cmd_read(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        amount = Money.parse(args.amount)
    except MoneyError as exc:
        raise InvalidInput(msg("cli.bad_amount", text=args.amount)) from exc
    clock = SystemClock()
    handler = CliCardHandler(out=ctx.err, interactive=None if not ctx.as_json else False)
    config = TerminalConfig(card_timeout_s=args.timeout)
    terminal = PcscCardTerminal(handler, clock, reader=args.reader, config=config)
    try:
        read = terminal.read_card(CardRequest(amount, clock.now().astimezone(), False))
        if read.decision == "online":
            # Only a reading: the card is told the transaction goes no further.
            terminal.complete("Z3", None)
    finally:
        terminal.end("Remove the card")
        terminal.close()
    view = _read_view(read)
    width = max(len(k) for k in view)
    ctx.emit(view, "\n".join(f"{k.ljust(width)}  {v}" for k, v in view.items() if v != ""))
    return 0


def cmd_emulate(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.profile in BADGE_PROFILES:
        badge = badge_with_chip(BADGE_PROFILES[args.profile], args.chip)
        slot = VirtualCardSlot(port=args.port)
        slot.insert(badge)
        ctx.warn(msg("cli.card.emulated_badge_inserted", badge=badge.badge_id, port=slot.port))
        hold(ctx, args.seconds, slot.remove, msg("cli.card.emulated_badge_removed"))
        keep_chip(badge, args.chip)
        return 0
    profile = PROFILES[args.profile]
    slot = VirtualCardSlot(port=args.port)
    slot.insert(EmvCard(profile))
    ctx.warn(msg("cli.card.emulated_inserted", profile=profile.name, port=slot.port))
    hold(ctx, args.seconds, slot.remove, msg("cli.card.emulated_removed"))
    return 0
