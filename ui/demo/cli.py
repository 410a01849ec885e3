"""`pos demo`, registered through the `pos.commands` entry point: the app on a
fresh demo terminal with its sandboxes."""

from __future__ import annotations

import argparse
from pathlib import Path

from pos.cli.context import CliContext


def _demo(args: argparse.Namespace, ctx: CliContext) -> int:
    from ui.demo import run_demo

    data_dir = Path(args.data_dir) if args.data_dir else None
    shots = Path(args.screenshots) if args.screenshots else None
    return run_demo(data_dir, args.kiosk, args.headless, shots, args.lang, ctx.warn)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = sub.add_parser("demo", help="start the app on a fresh demo terminal")
    demo.add_argument("--kiosk", action="store_true", help="self-service kiosk mode")
    demo.add_argument("--headless", action="store_true", help="no window: scripted sale")
    demo.add_argument("--screenshots", metavar="DIR", help="where the headless run saves PNGs")
    demo.add_argument("--lang", default="zh_CN", choices=["zh_CN", "en"])
    demo.set_defaults(func=_demo)
