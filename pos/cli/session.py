"""Opening the terminal for a command, and asking people for PINs."""

from __future__ import annotations

import getpass
import os
import sys

from pos.cli.context import CliContext
from pos.cli.store import demo_warning
from pos.services.terminal_services import TerminalServices


def open_services(ctx: CliContext) -> TerminalServices:
    services = TerminalServices.open(ctx.data_dir)
    if services.terminal.demo_keystore:
        demo_warning(ctx)
    return services


def read_pin(ctx: CliContext, who: str, env_var: str) -> str:
    """A PIN from the environment (scripts), the terminal (a person), or one
    line of standard input (a pipe). Never echoed, never logged."""
    if ctx.read_pin is not None:
        return ctx.read_pin(who)
    value = os.environ.get(env_var)
    if value:
        return value
    if sys.stdin.isatty():
        return getpass.getpass(f"PIN for {who}: ")
    return sys.stdin.readline().strip()
