"""Entry point of `pos`. Command groups are modules with `register(subparsers)`;
the core's own are listed here, layers above the core (drivers, sync, ui) add
theirs through the `pos.commands` entry-point group, so the core imports none
of them."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import re
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from pos.cli.context import CliContext, default_data_dir
from pos.errors import PosError
from pos.failures import describe
from pos.messages import env_lang, lang_of, msg

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
    """The command line's one error boundary: every failure becomes a catalogue
    message in the reader's language (--lang, else POS_LANG / the locale) and
    an exit code; a traceback only ever reaches the log."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    _add_boundary_options(parser)
    _speak_usage_errors(parser, _lang_in(words), as_json="--json" in words)
    args = parser.parse_args(words)
    lang = lang_of(args.message_lang) if args.message_lang else env_lang()
    ctx = CliContext(
        data_dir=default_data_dir() if args.data_dir is None else Path(args.data_dir),
        as_json=args.json,
    )
    try:
        code = args.func(args, ctx)
    except (Exception, KeyboardInterrupt) as exc:
        return _report_failure(exc, ctx, lang)
    return int(code or 0)


def _add_boundary_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        dest="message_lang",
        choices=("zh_CN", "en"),
        help="language of messages (env POS_LANG; default zh_CN)",
    )


def _lang_in(words: list[str]) -> str:
    """The language asked for before the words are parsed (usage errors are
    said while parsing)."""
    for i, word in enumerate(words):
        if word == "--lang" and i + 1 < len(words):
            return lang_of(words[i + 1])
        if word.startswith("--lang="):
            return lang_of(word.partition("=")[2])
    return env_lang()


# argparse's own sentences (Python 3.11+), said again from the catalogue.
_USAGE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"the following arguments are required: (?P<names>.+)"), "cli.args.required"),
    (re.compile(r"unrecognized arguments: (?P<words>.+)"), "cli.args.unrecognized"),
    (
        re.compile(
            r"argument (?P<option>\S+): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)"
        ),
        "cli.args.choice",
    ),
    (re.compile(r"argument (?P<option>\S+): expected one argument"), "cli.args.expected_one"),
    (
        re.compile(r"argument (?P<option>\S+): invalid \w+ value: (?P<value>.+)"),
        "cli.args.invalid_value",
    ),
)


def _speak_usage_errors(parser: argparse.ArgumentParser, lang: str, as_json: bool) -> None:
    """Bad command words (exit 2) said in the reader's language, on every
    parser and subparser."""

    def error(p: argparse.ArgumentParser, text: str) -> NoReturn:
        message = msg("cli.args.other", detail=text)
        for pattern, code in _USAGE_ERRORS:
            found = pattern.fullmatch(text)
            if found:
                message = msg(code, **found.groupdict())
                break
        if as_json:
            print(json.dumps({**message.to_dict(), "exit_code": 2}, ensure_ascii=False))
        else:
            p.print_usage(sys.stderr)
            print(msg("common.error_prefix", text=message).render(lang), file=sys.stderr)
        raise SystemExit(2)

    todo = [parser]
    while todo:
        p = todo.pop()
        setattr(p, "error", lambda text, p=p: error(p, text))  # noqa: B010 (a method of the instance)
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())


def _report_failure(exc: BaseException, ctx: CliContext, lang: str) -> int:
    log_path = ""
    if not isinstance(exc, (PosError, KeyboardInterrupt)):
        log_path = _log_exception(exc, ctx.data_dir)
    failure = describe(exc, log_path)
    if ctx.as_json:
        ctx.emit(failure.to_dict(lang), "")
    elif failure.message is not None:
        ctx.warn(msg("common.error_prefix", text=failure.message).render(lang))
    else:
        ctx.warn(msg("common.error_prefix", text=failure.legacy_text).render(lang))
        if failure.remedy:
            ctx.warn(failure.remedy)
    return failure.exit_code


def _log_exception(exc: BaseException, data_dir: Path) -> str:
    """Write the traceback where support can find it: the data directory's
    log, else the temporary folder when the data directory cannot be written.
    Returns the file's path ("" when nowhere could be written)."""
    text = "".join(traceback.format_exception(exc))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for folder in (data_dir / "logs", Path(tempfile.gettempdir())):
        path = folder / "pos-cli.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(f"{stamp} {' '.join(sys.argv)}\n{text}\n")
        except OSError:
            continue
        logging.getLogger("pos.cli").debug("fault logged to %s", path)
        return str(path)
    return ""


if __name__ == "__main__":
    sys.exit(main())
