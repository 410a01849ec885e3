"""`pos demo` and `pos app`, registered through the `pos.commands` entry point."""

from __future__ import annotations

import argparse
from pathlib import Path

from pos.cli.context import CliContext
from pos.messages import env_lang, lang_of


def _lang(args: argparse.Namespace) -> str:
    """The command's --lang, else `pos --lang`, else POS_LANG / the locale, else zh_CN."""
    chosen = args.lang or getattr(args, "message_lang", None)
    return lang_of(chosen) if chosen else env_lang()


def _demo(args: argparse.Namespace, ctx: CliContext) -> int:
    import tempfile

    from ui.boundary import ErrorBoundary
    from ui.demo import run_demo

    data_dir = Path(args.data_dir) if args.data_dir else None
    shots = Path(args.screenshots) if args.screenshots else None
    logs = (data_dir or Path(tempfile.gettempdir())) / "logs" / "pos-app.log"
    with ErrorBoundary(logs):
        return run_demo(data_dir, args.kiosk, args.headless, shots, _lang(args), ctx.warn)


def _app(args: argparse.Namespace, ctx: CliContext) -> int:
    from ui.app import run_terminal
    from ui.boundary import ErrorBoundary

    with ErrorBoundary(ctx.data_dir / "logs" / "pos-app.log"):
        return run_terminal(ctx.data_dir, _lang(args), args.kiosk)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = sub.add_parser("demo", help="start the app on a fresh demo terminal")
    demo.add_argument("--kiosk", action="store_true", help="self-service kiosk mode")
    demo.add_argument("--headless", action="store_true", help="no window: scripted sale")
    demo.add_argument("--screenshots", metavar="DIR", help="where the headless run saves PNGs")
    demo.add_argument("--lang", choices=["zh_CN", "en"], help="default: POS_LANG, else zh_CN")
    demo.set_defaults(func=_demo)
    app = sub.add_parser("app", help="start the checkout app on this terminal")
    app.add_argument("--kiosk", action="store_true", help="self-service kiosk, full screen")
    app.add_argument("--lang", choices=["zh_CN", "en"], help="default: POS_LANG, else zh_CN")
    app.set_defaults(func=_app)
