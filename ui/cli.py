"""`pos app`, registered through the `pos.commands` entry point."""

from __future__ import annotations

import argparse

from pos.cli.context import CliContext


def _app(args: argparse.Namespace, ctx: CliContext) -> int:
    from ui.app import run_terminal

    return run_terminal(ctx.data_dir, args.lang, args.kiosk)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    app = sub.add_parser("app", help="start the checkout app on this terminal")
    app.add_argument("--kiosk", action="store_true", help="self-service kiosk, full screen")
    app.add_argument("--lang", default="zh_CN", choices=["zh_CN", "en"])
    app.set_defaults(func=_app)
