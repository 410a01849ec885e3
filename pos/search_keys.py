"""What a product is found by: its names and SKU, the pinyin spellings of its
Chinese name and their initials. Computed once when a product is written (and
for existing products by the migration that added pinyin), never per query.

Keys are compared as `query_form` text: NFKC, case-folded, whitespace
collapsed. Pinyin keys are written without spaces or tones ("可口可乐 330ml"
-> "kekoukele330ml" and "kkkl330ml"), with 'v' for 'ü' as pinyin keyboards
type it. A polyphonic character that pypinyin's phrase dictionary cannot
settle gives a few extra readings, never every combination.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Kinds of key, in the order the search ranks them after exact matches.
NAME = 1  # a whole name or the SKU
PINYIN = 2  # a pinyin spelling or initials of the Chinese name
WORD = 3  # a later word of a name ("Coca-Cola 330ml" -> "cola 330ml")

MAX_READINGS = 4  # spellings kept per name, the dictionary's reading first
MAX_WORDS = 6
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD_START = re.compile(r"(?<=[\s\-/(（·_])(?=[^\W\d_])")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def query_form(text: str) -> str:
    """The form both keys and queries are compared in."""
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.casefold().split())


def pinyin_query(text: str) -> str:
    """A query as a pinyin key ("Ke Kou" -> "kekou", "xi'an" -> "xian"), or ""
    when it holds anything but Latin letters, digits, spaces and apostrophes."""
    q = query_form(text)
    if not q or not re.fullmatch(r"[0-9a-z' ]+", q):
        return ""
    return _NOT_ALNUM.sub("", q)


@lru_cache(maxsize=65536)
def _run_readings(run: str) -> tuple[tuple[str, ...], ...]:
    """Each character's readings for one run of Han characters, the phrase
    dictionary's choice first (imported lazily: opening a store needs none)."""
    from pypinyin import Style, pinyin

    out: list[tuple[str, ...]] = []
    for readings in pinyin(run, style=Style.NORMAL, heteronym=True, errors="ignore"):
        kept = tuple(dict.fromkeys(r.replace("ü", "v") for r in readings if r.isalpha()))
        if kept:
            out.append(kept)
    return tuple(out)


def _segments(text: str) -> list[tuple[tuple[str, ...], bool]]:
    """The name (in query form) as pieces, each with its possible spellings
    and whether it is a Han character (its initial is its first letter) or a
    run of other letters and digits (kept whole in the initials too)."""
    pieces: list[tuple[tuple[str, ...], bool]] = []
    pos = 0
    for m in _HAN_RUN.finditer(text):
        other = _NOT_ALNUM.sub("", text[pos : m.start()])
        if other:
            pieces.append(((other,), False))
        pieces.extend((readings, True) for readings in _run_readings(m.group()))
        pos = m.end()
    tail = _NOT_ALNUM.sub("", text[pos:])
    if tail:
        pieces.append(((tail,), False))
    return pieces


def pinyin_spellings(name_zh: str) -> tuple[list[str], list[str]]:
    """Full spellings and initials of a name with Chinese in it: the
    dictionary's reading first, then one other reading at a time, up to
    MAX_READINGS spellings; ([], []) without Chinese."""
    if not _HAN_RUN.search(name_zh):
        return [], []
    pieces = _segments(query_form(name_zh))
    full = [readings[0] for readings, _ in pieces]
    initial = [readings[0][0] if han else readings[0] for readings, han in pieces]
    fulls = {"".join(full): None}
    initials = {"".join(initial): None}
    alternates = ((i, alt) for i, (readings, _) in enumerate(pieces) for alt in readings[1:])
    for i, alt in alternates:
        if len(fulls) >= MAX_READINGS:
            break
        other = full.copy()
        other[i] = alt
        fulls["".join(other)] = None
        other = initial.copy()
        other[i] = alt[0]
        initials["".join(other)] = None
    return [k for k in fulls if k], [k for k in initials if k]


def _later_words(text: str) -> list[str]:
    return [text[m.start() :] for m in _WORD_START.finditer(text)][:MAX_WORDS]


@dataclass(frozen=True, slots=True)
class SearchEntry:
    """What the index holds for one product: its (kind, key) pairs for the
    key table and its text for the substring index."""

    keys: list[tuple[int, str]]
    text: str


def search_entry(sku: str, name_zh: str, name_en: str, barcodes: Iterable[str]) -> SearchEntry:
    full, initials = pinyin_spellings(name_zh)
    names = (query_form(name_zh), query_form(name_en))
    keys: dict[tuple[int, str], None] = {(NAME, query_form(sku)): None}
    for name in names:
        keys[(NAME, name)] = None
    for key in full + initials:
        keys[(PINYIN, key)] = None
    for name in names:
        for word in _later_words(name):
            if (NAME, word) not in keys:
                keys[(WORD, word)] = None
    # The substring index takes the dictionary's reading only: the other
    # readings are for the prefix keys, where they cost one row each.
    text = " ".join([sku, name_zh, name_en, *barcodes, *full[:1], *initials[:1]])
    return SearchEntry([k for k in keys if k[1]], text)


def register_sql_functions(conn: Any) -> None:
    """The same computation as an SQL function, for migrations that index
    products already in the store: pos_search_entry(sku, name_zh, name_en,
    barcodes separated by spaces) -> {"keys": [[kind, key], ...], "text": ...}."""

    def entry(sku: str, zh: str, en: str, codes: str | None) -> str:
        e = search_entry(sku, zh, en, (codes or "").split())
        return json.dumps({"keys": e.keys, "text": e.text}, ensure_ascii=False)

    conn.create_function("pos_search_entry", 4, entry, deterministic=True)
