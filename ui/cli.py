"""`pos app`, registered through the `pos.commands` entry point."""

from __future__ import annotations

import argparse

from pos.cli.context import CliContext
from pos.messages import env_lang, lang_of


def lang_for(args: argparse.Namespace) -> str:
    """The command's --lang, else `pos --lang`, else POS_LANG / the locale, else zh_CN."""
    chosen = args.lang or getattr(args, "message_lang", None)
    return lang_of(chosen) if chosen else env_lang()


def _app(args: argparse.Namespace, ctx: CliContext) -> int:
    from ui.app import run_terminal
    from ui.boundary import ErrorBoundary

    with ErrorBoundary(ctx.data_dir / "logs" / "pos-app.log"):
        return run_terminal(ctx.data_dir, lang_for(args), args.kiosk)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    app = sub.add_parser("app", help="clihelp.ui.app")
    app.add_argument("--kiosk", action="store_true", help="clihelp.ui.kiosk")
    app.add_argument("--lang", choices=["zh_CN", "en"], help="clihelp.ui.lang")
    app.set_defaults(func=_app)
