"""Command-line help in the reader's language.

A parser is built for every command, but its help is printed only on
`--help`: so help texts are catalogue codes (`clihelp.…`) kept as the
argparse strings, and are rendered only when argparse formats help or
usage. Building the parser for a sale reads no catalogue file.
"""

from __future__ import annotations

import argparse
import os
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from pos.messages import env_lang, has, lang_of, msg

PREFIX = "clihelp."

# argparse's own words (its gettext strings), said from the catalogue.
_ARGPARSE_WORDS = {
    "usage: ": "clihelp.argparse.usage",
    "options": "clihelp.argparse.options",
    "optional arguments": "clihelp.argparse.options",
    "positional arguments": "clihelp.argparse.positional",
    "show this help message and exit": "clihelp.argparse.help",
}


# Chinese characters take two terminal columns: help is wrapped on what the
# reader sees, whole ASCII words kept together.
_WIDE = re.compile(r"[\u2e80-\uffff]")
_NO_LINE_START = set("，。、；：）」』！？…")
_UNITS = re.compile(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+|\s+")


class Coded(str):
    """A help code with values for its fields (the str is the code)."""

    params: dict[str, Any]


def coded(code: str, /, **params: Any) -> str:
    """A help text that names values (`{port}`), rendered when printed."""
    text = Coded(code)
    text.params = params
    return text


def say(text: str | None, lang: str) -> str | None:
    """A help code's text in `lang`; any other text (argparse's own) as is,
    or from the catalogue when it is one of argparse's headings."""
    if not text:
        return text
    code = _ARGPARSE_WORDS.get(text, text)
    if not code.startswith(PREFIX) or not has(code):
        return text
    return msg(code, **getattr(text, "params", {})).render(lang)


class CatalogueHelpFormatter(argparse.HelpFormatter):
    """Renders help codes, headings and the usage prefix in `lang`."""

    lang = "zh_CN"

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return say(action.help, self.lang)

    def _split_lines(self, text: str, width: int) -> list[str]:
        if not _WIDE.search(text):
            return super()._split_lines(text, width)
        lines: list[str] = []
        line, used = "", 0
        for unit in _UNITS.findall(" ".join(text.split())):
            size = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in unit)
            fits = used + size <= width or unit in _NO_LINE_START  # no line opens on a mark
            if not fits and line.strip():
                lines.append(line.rstrip())
                line, used = "", 0
                if unit.isspace():
                    continue
            line, used = line + unit, used + size
        if line.strip():
            lines.append(line.rstrip())
        return lines

    def add_text(self, text: str | None) -> None:
        super().add_text(say(text, self.lang))

    def start_section(self, heading: str | None) -> None:
        super().start_section(say(heading, self.lang))

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[Any],
        prefix: str | None = None,
    ) -> None:
        if prefix is None:
            prefix = say("usage: ", self.lang)
        super().add_usage(usage, actions, groups, prefix)


def speak_help(parser: argparse.ArgumentParser, lang: str) -> None:
    """Every parser and subparser formats its help and usage in `lang`."""
    spoken = lang_of(lang)

    class Formatter(CatalogueHelpFormatter):
        lang = spoken

    todo = [parser]
    while todo:
        p = todo.pop()
        p.formatter_class = Formatter
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())


def lang_in(words: Iterable[str], environ: dict[str, str] | None = None) -> str:
    """The language asked for on the command line (`--lang`) before the words
    are parsed, else POS_LANG / the locale."""
    words = list(words)
    for i, word in enumerate(words):
        if word == "--lang" and i + 1 < len(words):
            return lang_of(words[i + 1])
        if word.startswith("--lang="):
            return lang_of(word.partition("=")[2])
    return env_lang(os.environ if environ is None else environ)
