"""Opening the till for a command, and asking people for PINs."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pos.cli.context import CliContext
from pos.messages import msg

if TYPE_CHECKING:
    from pos.app import Till
    from pos.services.terminal_services import TerminalServices


def open_till_for(ctx: CliContext, channels: Iterable[str] | None = ()) -> Till:
    """The till for one command: the payment channels it names (a command
    that takes no payment loads none; None loads every one set up), no
    background services."""
    from pos.app import TillOptions, open_till

    only = None if channels is None else tuple(channels)
    till = open_till(ctx.data_dir, TillOptions(channels=only))
    _say_demo_keystore(ctx, till.terminal.demo_keystore)
    return till


def open_services(ctx: CliContext) -> TerminalServices:
    """The terminal's core services alone, for commands that take no payment."""
    from pos.services.terminal_services import TerminalServices

    services = TerminalServices.open(ctx.data_dir)
    _say_demo_keystore(ctx, services.terminal.demo_keystore)
    return services


def _say_demo_keystore(ctx: CliContext, demo: bool) -> None:
    if demo:
        demo_warning(ctx)


def demo_warning(ctx: CliContext) -> None:
    """On stderr for a person, and inside every JSON object for a script."""
    warning = msg("store.demo_warning")
    if not any(w.get("code") == warning.code for w in ctx.warnings):
        ctx.warnings.append(warning.to_dict())
    ctx.warn(warning)


def read_pin(ctx: CliContext, who: str, env_var: str) -> str:
    """A PIN from the environment (scripts), the terminal (a person), or one
    line of standard input (a pipe). Never echoed, never logged."""
    if ctx.read_pin is not None:
        return ctx.read_pin(who)
    value = os.environ.get(env_var)
    if value:
        return value
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"PIN for {who}: ")
    return sys.stdin.readline().strip()
