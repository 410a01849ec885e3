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
import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from pos.cli.context import CliContext, default_data_dir
from pos.errors import NotAllowed, PosError
from pos.messages import env_lang, lang_of, msg
from pos.messages.helptext import coded, lang_in, speak_help

# command -> (module that registers it, what it does); a module may register
# several commands.
CORE_COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("pos.cli.store", "clihelp.store.init"),
    "journal": ("pos.cli.store", "clihelp.store.journal"),
    "backup": ("pos.cli.store", "clihelp.store.backup"),
    "catalog": ("pos.cli.catalog", "clihelp.catalog.catalog"),
    "user": ("pos.cli.users", "clihelp.users.user"),
    "sale": ("pos.cli.checkout", "clihelp.checkout.sale"),
    "refund": ("pos.cli.checkout", "clihelp.checkout.refund"),
    "void": ("pos.cli.checkout", "clihelp.checkout.void"),
    "order": ("pos.cli.checkout", "clihelp.checkout.order"),
    "payment": ("pos.cli.payments", "clihelp.main.payment"),
    "sandbox": ("pos.cli.sandbox", "clihelp.sandbox.sandbox"),
    "risk": ("pos.cli.risk", "clihelp.risk.risk"),
    "report": ("pos.cli.report", "clihelp.report.report"),
    "reconcile": ("pos.cli.report", "clihelp.main.reconcile"),
}
CORE_COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(m for m, _ in CORE_COMMANDS.values()))
COMMANDS_GROUP = "pos.commands"


def _commands() -> dict[str, tuple[str, str]]:
    """Every command, core and plugged in, with its module; nothing imported."""
    # Scanning the installed distributions' entry points costs ~20 ms: only
    # `--help` and the commands of other layers need it.
    from importlib.metadata import entry_points

    commands = dict(CORE_COMMANDS)
    for ep in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        commands.setdefault(ep.name, (ep.value, coded("clihelp.main.see_help", name=ep.name)))
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
    parser = argparse.ArgumentParser(prog="pos", description="clihelp.main.prog_description")
    parser.add_argument("--data-dir", help="clihelp.main.data_dir")
    parser.add_argument("--json", action="store_true", help="clihelp.main.json")
    # Before the command word is looked for: `--lang en` takes a value.
    _add_boundary_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    missing: dict[str, str] = {}
    if argv is None:
        commands = _commands()
        modules = _command_modules(None, commands, missing)
    else:
        wanted = _command_word(parser, argv)
        # A core command's words need no other command's name.
        commands = dict(CORE_COMMANDS) if wanted in CORE_COMMANDS else _commands()
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
    """The command line's one error boundary: every failure becomes a catalogue
    message in the reader's language (--lang, else POS_LANG / the locale) and
    an exit code; a traceback only ever reaches the log."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    _speak_usage_errors(parser, _lang_in(words), as_json="--json" in words)
    speak_help(parser, _lang_in(words))
    args = parser.parse_args(words)
    lang = lang_of(args.message_lang) if args.message_lang else env_lang()
    ctx = CliContext(
        data_dir=default_data_dir() if args.data_dir is None else Path(args.data_dir),
        as_json=args.json,
        lang=lang,
    )
    _log_to_file(ctx.data_dir)
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
        help="clihelp.main.lang",
    )


def _lang_in(words: list[str]) -> str:
    """The language asked for before the words are parsed (usage errors and
    help are said while parsing)."""
    return lang_in(words)


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
    from pos.failures import describe  # the failure path alone needs it

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


def _log_to_file(data_dir: Path) -> None:
    """Log records (English, technical) go to the data directory's log, never
    to the reader's terminal, where Python would print warnings by default."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, _LogFile):
            handler.data_dir = data_dir
            return
    root.addHandler(_LogFile(data_dir))


class _LogFile(logging.Handler):
    """Appends warnings and errors to DATA_DIR/logs/pos.log (else the
    temporary folder's), opened only when a record comes."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(logging.WARNING)
        self.data_dir = data_dir
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        import tempfile

        text = self.format(record) + "\n"
        for folder in (self.data_dir / "logs", Path(tempfile.gettempdir())):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with (folder / "pos.log").open("a", encoding="utf-8") as fh:
                    fh.write(text)
                return
            except OSError:
                continue


def _log_exception(exc: BaseException, data_dir: Path) -> str:
    """Write the traceback where support can find it: the data directory's
    log, else the temporary folder when the data directory cannot be written.
    Returns the file's path ("" when nowhere could be written)."""
    import logging
    import tempfile
    import traceback
    from datetime import UTC, datetime

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
