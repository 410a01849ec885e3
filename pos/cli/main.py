"""Entry point of `pos`. Command groups are modules with `register(subparsers)`;
the core's own are listed here, layers above the core (drivers, sync, ui) add
theirs through the `pos.commands` entry-point group, so the core imports none
of them."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from types import ModuleType

from pos.cli.context import CliContext, default_data_dir
from pos.errors import PosError

CORE_COMMAND_MODULES: tuple[str, ...] = (
    "pos.cli.store",
    "pos.cli.catalog",
    "pos.cli.users",
    "pos.cli.checkout",
    "pos.cli.payments",
    "pos.cli.risk",
    "pos.cli.report",
)


def _command_modules() -> list[ModuleType]:
    mods: list[ModuleType] = []
    for name in CORE_COMMAND_MODULES:
        mods.append(importlib.import_module(name))
    for ep in sorted(entry_points(group="pos.commands"), key=lambda e: e.name):
        try:
            mods.append(ep.load())
        except ImportError as exc:
            # A layer whose libraries are not installed (no PySide6, no pyscard)
            # simply does not offer its commands.
            print(f"note: '{ep.name}' commands unavailable: {exc}", file=sys.stderr)
    return mods


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pos", description="Store checkout terminal")
    parser.add_argument("--data-dir", help="terminal data directory (env POS_DATA_DIR)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in _command_modules():
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
