"""The upload body (sync.schemas.UploadRequest) written and read without a
model object per entry: a catch-up moves hundreds of thousands of entries,
and building and validating one pydantic object for each cost more than the
server's database insert of it. `read_upload` accepts exactly what
UploadRequest accepts, apart from the lax conversions the client never
sends (a number as a string, a float with no fraction): those are refused
(tests/sync/test_wire.py holds the two in step)."""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import orjson

from sync.schemas import HEX64, HEX128, ID

MAX_ENTRIES = 10_000
FIELDS = ("seq", "time", "type", "payload", "prev_hash", "hash", "signature")
_FIELD_SET = frozenset(FIELDS)
_ID = re.compile(ID)
_HEX64 = re.compile(HEX64)
_HEX128 = re.compile(HEX128)


class Entry(NamedTuple):
    """One journal entry as sent: the fields of sync.schemas.WireEntry, in
    the order verify.Row holds them."""

    seq: int
    time: str
    type: str
    payload: str
    prev_hash: str
    hash: str
    signature: str


def as_entries(rows: Sequence[Row]) -> list[Entry]:
    """Rows as Entry tuples (named fields), without a Python call per row."""
    return list(map(_AS_ENTRY, rows))


_AS_ENTRY = functools.partial(tuple.__new__, Entry)


class Malformed(ValueError):
    pass


def upload_body(terminal_id: str, rows: Iterable[Sequence[Any]]) -> bytes:
    """The JSON body of an upload of `rows` (values in FIELDS order)."""
    return orjson.dumps(
        {"terminal_id": terminal_id, "entries": [dict(zip(FIELDS, r, strict=True)) for r in rows]}
    )


def read_upload(body: bytes) -> tuple[str, list[Row]]:
    """The terminal id and entries (values in FIELDS order) of an upload
    body; Malformed otherwise."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Malformed(f"the body is not JSON: {exc}") from exc
    if type(doc) is not dict or doc.keys() != {"terminal_id", "entries"}:
        raise Malformed("the body must hold exactly terminal_id and entries")
    terminal_id, items = doc["terminal_id"], doc["entries"]
    if type(terminal_id) is not str or not _ID.fullmatch(terminal_id):
        raise Malformed("terminal_id is not a terminal id")
    if type(items) is not list or not 1 <= len(items) <= MAX_ENTRIES:
        raise Malformed(f"entries must be a list of 1 to {MAX_ENTRIES} entries")
    try:
        rows: list[Row] = list(map(_VALUES, items))
    except (TypeError, KeyError):
        rows = []
    if not (rows and _all_sound(items, rows)):
        # Column by column above; entry by entry to say which one is wrong.
        for i, item in enumerate(items):
            _check_entry(i, item)
    return terminal_id, rows


Row = tuple[int, str, str, str, str, str, str]
_VALUES = operator.itemgetter(*FIELDS)
_HEX_DIGITS = b"0123456789abcdef"


def _all_sound(items: list[Any], rows: list[Row]) -> bool:
    """Every entry as _check_entry wants it, checked a column at a time."""
    if set(map(len, items)) != {len(FIELDS)}:  # the fields read above and no others
        return False
    seqs, times, types, payloads, prevs, hashes, signatures = zip(*rows, strict=True)
    if set(map(type, seqs)) != {int} or min(seqs) < 1:
        return False
    for texts in (times, types, payloads, prevs, hashes, signatures):
        if set(map(type, texts)) != {str}:
            return False
    if max(map(len, times)) > 32 or max(map(len, types)) > 64:
        return False
    if set(map(len, prevs)) != {64} or set(map(len, hashes)) != {64}:
        return False
    if set(map(len, signatures)) != {128}:
        return False
    hex_text = "".join(prevs) + "".join(hashes) + "".join(signatures)
    return hex_text.isascii() and not hex_text.encode().translate(None, _HEX_DIGITS)


def _check_entry(i: int, item: Any) -> None:
    if type(item) is not dict or item.keys() != _FIELD_SET:
        raise Malformed(f"entries.{i} must hold exactly {', '.join(FIELDS)}")
    e = Entry(**item)
    if type(e.seq) is not int or e.seq < 1:
        raise Malformed(f"entries.{i}.seq must be a whole number from 1")
    if not (type(e.time) is str and type(e.type) is str and type(e.payload) is str):
        raise Malformed(f"entries.{i}: time, type and payload must be text")
    if len(e.time) > 32 or len(e.type) > 64:
        raise Malformed(f"entries.{i}: time or type is too long")
    if not (
        type(e.prev_hash) is str
        and type(e.hash) is str
        and type(e.signature) is str
        and _HEX64.fullmatch(e.prev_hash)
        and _HEX64.fullmatch(e.hash)
        and _HEX128.fullmatch(e.signature)
    ):
        raise Malformed(f"entries.{i}: hashes and signature must be lower-case hex")
