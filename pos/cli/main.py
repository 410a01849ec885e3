"""Entry point of `pos`. Command groups are modules with `register(subparsers)`;
the core's own are listed here, layers above the core (drivers, sync, ui) add
theirs through the `pos.commands` entry-point group (one entry per command
name), so the core imports none of them.

A command imports only what it uses: the parser registers the module of the
command being run and names the others without importing them, so `pos
--help` and a sale do not load the printer, the sync server or the app."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from types import ModuleType

from pos.cli.context import CliContext, default_data_dir
from pos.errors import NotAllowed, PosError
from pos.messages import msg

# command -> (module that registers it, what it does); a module may register
# several commands.
CORE_COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("pos.cli.store", "provision this terminal: keys, encrypted store, ids"),
    "journal": ("pos.cli.store", "the signed journal"),
    "backup": ("pos.cli.store", "encrypted online backups"),
    "catalog": ("pos.cli.catalog", "the product catalog"),
    "user": ("pos.cli.users", "cashier and manager accounts"),
    "sale": ("pos.cli.checkout", "ring up and pay a sale"),
    "refund": ("pos.cli.checkout", "refund a paid order to its tenders (needs a manager)"),
    "void": ("pos.cli.checkout", "void an order (after payment: a manager, money back)"),
    "order": ("pos.cli.checkout", "list, show and pay orders"),
    "payment": ("pos.cli.payments", "payment attempts: query, recover, bills"),
    "sandbox": ("pos.cli.sandbox", "loopback Alipay / WeChat Pay gateways for demo and tests"),
    "risk": ("pos.cli.risk", "offline risk control"),
    "report": ("pos.cli.report", "settlement reports: X, Z (close the day), daily"),
    "reconcile": ("pos.cli.report", "match the channels' daily bills against this terminal"),
}
CORE_COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(m for m, _ in CORE_COMMANDS.values()))
COMMANDS_GROUP = "pos.commands"


def _commands() -> dict[str, tuple[str, str]]:
    """Every command, core and plugged in, with its module; nothing imported."""
    commands = dict(CORE_COMMANDS)
    for ep in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        commands.setdefault(ep.name, (ep.value, f"see `pos {ep.name} --help`"))
    return commands


def _load(module: str, missing: dict[str, str]) -> ModuleType | None:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if module in CORE_COMMAND_MODULES:
            raise
        # A layer whose libraries are not installed (no PySide6, no pyscard)
        # simply does not offer its commands.
        missing[module] = str(exc)
        print(f"note: '{module}' commands unavailable: {exc}", file=sys.stderr)
        return None


def _unavailable(command: str, why: str) -> Callable[[argparse.Namespace, CliContext], int]:
    def refuse(args: argparse.Namespace, ctx: CliContext) -> int:
        raise NotAllowed(msg("till.command_unavailable", command=command, why=why))

    return refuse


def _command_modules(
    wanted: str | None = None,
    commands: dict[str, tuple[str, str]] | None = None,
    missing: dict[str, str] | None = None,
) -> list[ModuleType]:
    """The modules to register: the one of the `wanted` command, or all."""
    commands = _commands() if commands is None else commands
    if wanted is not None:
        names = [commands[wanted][0]] if wanted in commands else []
    else:
        names = list(dict.fromkeys(m for m, _ in commands.values()))
    missing = {} if missing is None else missing
    return [mod for mod in (_load(n, missing) for n in names) if mod is not None]


def _command_word(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str | None:
    """The command `argv` runs: its first word that is not a global option."""
    takes_value = {opt for a in parser._actions if a.nargs != 0 for opt in a.option_strings}
    words = iter(argv)
    for word in words:
        if word == "--":
            return next(words, None)
        if word.startswith("-"):
            if word in takes_value:
                next(words, None)
            continue
        return word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given the command line, only its command's module is
    imported and the other commands are named for `--help`."""
    parser = argparse.ArgumentParser(prog="pos", description="Store checkout terminal")
    parser.add_argument("--data-dir", help="terminal data directory (env POS_DATA_DIR)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    commands = _commands()
    missing: dict[str, str] = {}
    if argv is None:
        modules = _command_modules(None, commands, missing)
    else:
        wanted = _command_word(parser, argv)
        modules = _command_modules(wanted, commands, missing) if wanted is not None else []
    for mod in modules:
        mod.register(sub)
    registered = set(sub.choices)
    for name, (module, help_text) in commands.items():
        if name not in registered and (argv is not None or module in missing):
            stub = sub.add_parser(name, help=help_text, add_help=False)
            if module in missing:
                stub.set_defaults(func=_unavailable(name, missing[module]))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    ctx = CliContext(
        data_dir=default_data_dir()
        if args.data_dir is None
        else __import__("pathlib").Path(args.data_dir),
        as_json=args.json,
    )
    try:
        code = args.func(args, ctx)
    except PosError as exc:
        if ctx.as_json:
            ctx.emit({"error": exc.message, "remedy": exc.remedy, "kind": type(exc).__name__}, "")
        else:
            ctx.warn(f"error: {exc.message}")
            if exc.remedy:
                ctx.warn(exc.remedy)
        return exc.exit_code
    except KeyboardInterrupt:
        ctx.warn("interrupted")
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
