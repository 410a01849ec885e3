"""`pos scale read|zero|ports|emulate`: the weighing scale from the command
line. Registered through the `pos.commands` entry-point group.

The scale is named by `--port DEV`, else POS_SCALE. `pos scale emulate`
runs an 8217 scale on a pseudo-terminal and prints its port, so
`pos scale read --port /dev/pts/N` (and the demo) can weigh without one.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import TextIO

from drivers.scale import open_scale, serial_ports
from drivers.scale.client import SerialScale
from drivers.scale.emulator import EmulatedScale
from drivers.scale.handler import CliScaleHandler
from drivers.scale.protocol import Unit
from pos.cli.context import CliContext
from pos.errors import InvalidInput
from pos.messages import env_lang, msg
from pos.scale import Weighing, kilograms

UNITS = tuple(u.value for u in Unit)


def _scale(args: argparse.Namespace) -> SerialScale:
    port = args.port or os.environ.get("POS_SCALE")
    if not port:
        raise InvalidInput(msg("scale.no_port"))
    return open_scale(port, args.unit)


def _emit(ctx: CliContext, w: Weighing) -> None:
    data = {"grams": w.grams, "kg": kilograms(w.grams), "state": w.state.value, "stable": w.stable}
    ctx.emit(data, w.message().render(env_lang()))


def cmd_scale_read(args: argparse.Namespace, ctx: CliContext) -> int:
    with _scale(args) as scale:
        if args.now:
            w = scale.read(args.timeout)
        else:
            w = scale.read_stable(args.timeout, CliScaleHandler(ctx.err))
    _emit(ctx, w)
    return 0


def cmd_scale_zero(args: argparse.Namespace, ctx: CliContext) -> int:
    with _scale(args) as scale:
        w = scale.zero(args.timeout)
    if w.at_zero:
        ctx.emit({"state": w.state.value, "at_zero": True}, msg("scale.zeroed").render(env_lang()))
        return 0
    refused = msg("scale.zero_refused") if w.stable else w.message()
    ctx.emit({"state": w.state.value, "at_zero": False, "error": refused.render("en")},
             refused.render(env_lang()))  # fmt: skip
    return 1


def cmd_scale_ports(args: argparse.Namespace, ctx: CliContext) -> int:
    ports = serial_ports()
    ctx.emit(ports, "\n".join(ports))
    return 0


def run_emulator(emu: EmulatedScale, lines: TextIO, ctx: CliContext) -> None:
    """Drive the emulated platter from typed lines until end of input."""
    lang = env_lang()
    for line in lines:
        word = line.strip().lower()
        if not word:
            continue
        if word.isdigit():
            emu.place(int(word), settle=3)
        elif word == "move":
            emu.place(emu.grams, settle=5)
        elif word == "over":
            emu.overload()
        elif word == "under":
            emu.below_zero()
        elif word == "off":
            emu.unplug()
            return
        else:
            ctx.warn(msg("scale.emulator.bad_input").render(lang))


def cmd_scale_emulate(args: argparse.Namespace, ctx: CliContext) -> int:
    with EmulatedScale(Unit(args.unit)) as emu:
        emu.place(args.grams)
        ctx.emit({"port": emu.port}, msg("scale.emulator.ready", port=emu.port).render(env_lang()))
        ctx.out.flush()
        try:
            if sys.stdin.isatty() or args.interactive:
                run_emulator(emu, sys.stdin, ctx)
            else:
                threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sc = sub.add_parser("scale", help="clihelp.drivers_scale.scale")
    ssub = sc.add_subparsers(dest="scale_what", metavar="WHAT")
    ssub.required = True

    def device_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--port", metavar="DEV", help="clihelp.drivers_scale.port")
        p.add_argument("--unit", choices=UNITS, default="kg", help="clihelp.drivers_scale.unit")
        p.add_argument("--timeout", type=float, default=5.0, help="clihelp.drivers_scale.timeout")

    p = ssub.add_parser("read", help="clihelp.drivers_scale.read")
    device_args(p)
    p.add_argument("--now", action="store_true", help="clihelp.drivers_scale.now")
    p.set_defaults(func=cmd_scale_read)
    p = ssub.add_parser("zero", help="clihelp.drivers_scale.zero")
    device_args(p)
    p.set_defaults(func=cmd_scale_zero)
    p = ssub.add_parser("ports", help="clihelp.drivers_scale.ports")
    p.set_defaults(func=cmd_scale_ports)
    p = ssub.add_parser("emulate", help="clihelp.drivers_scale.emulate")
    p.add_argument("--unit", choices=UNITS, default="kg")
    p.add_argument("--grams", type=int, default=0, help="clihelp.drivers_scale.grams")
    p.add_argument("--interactive", action="store_true", help="clihelp.drivers_scale.interactive")
    p.set_defaults(func=cmd_scale_emulate)
