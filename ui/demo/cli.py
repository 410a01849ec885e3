"""`pos demo`, registered through the `pos.commands` entry point: the app on a
fresh demo terminal with its sandboxes."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from pos.cli.context import CliContext
from ui.cli import lang_for


def _demo(args: argparse.Namespace, ctx: CliContext) -> int:
    from ui.boundary import ErrorBoundary
    from ui.demo import run_demo

    data_dir = Path(args.data_dir) if args.data_dir else None
    shots = Path(args.screenshots) if args.screenshots else None
    logs = (data_dir or Path(tempfile.gettempdir())) / "logs" / "pos-app.log"
    with ErrorBoundary(logs):
        return run_demo(data_dir, args.kiosk, args.headless, shots, lang_for(args), ctx.warn)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = sub.add_parser("demo", help="clihelp.demo.demo")
    demo.add_argument("--kiosk", action="store_true", help="clihelp.demo.kiosk")
    demo.add_argument("--headless", action="store_true", help="clihelp.demo.headless")
    demo.add_argument("--screenshots", metavar="DIR", help="clihelp.demo.screenshots")
    demo.add_argument("--lang", choices=["zh_CN", "en"], help="clihelp.ui.lang")
    demo.set_defaults(func=_demo)
