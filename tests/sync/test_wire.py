"""The upload body written and read without a model per entry (sync.wire)
says what sync.schemas.UploadRequest says: the same bodies accepted, with
the same values, and the same refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sync.schemas import UploadRequest
from sync.wire import FIELDS, Malformed, as_entries, read_upload, upload_body

GOOD = {
    "seq": 1,
    "time": "2026-01-05T09:00:00.000000Z",
    "type": "tender.taken",
    "payload": '{"a":1}',
    "prev_hash": "0" * 64,
    "hash": "ab" * 32,
    "signature": "cd" * 64,
}


def _pydantic_says(body: bytes) -> tuple[str, list[tuple[Any, ...]]] | None:
    try:
        req = UploadRequest.model_validate_json(body)
    except ValidationError:
        return None
    return req.terminal_id, [tuple(getattr(e, f) for f in FIELDS) for e in req.entries]


def _wire_says(body: bytes) -> tuple[str, list[tuple[Any, ...]]] | None:
    try:
        return read_upload(body)
    except Malformed:
        return None


def _body(entries: list[Any], terminal_id: Any = "T-1", **extra: Any) -> bytes:
    return json.dumps({"terminal_id": terminal_id, "entries": entries, **extra}).encode()


CASES = {
    "sound": [GOOD, {**GOOD, "seq": 2}],
    "seq zero": [{**GOOD, "seq": 0}],
    "missing field": [{k: v for k, v in GOOD.items() if k != "hash"}],
    "extra field": [{**GOOD, "x": 1}],
    "upper-case hash": [{**GOOD, "hash": "AB" * 32}],
    "short hash": [{**GOOD, "hash": "ab" * 31}],
    "long signature": [{**GOOD, "signature": "cd" * 65}],
    "non-hex signature": [{**GOOD, "signature": "zz" * 64}],
    "non-ASCII in hash": [{**GOOD, "prev_hash": "é" * 64}],
    "long time": [{**GOOD, "time": "2" * 33}],
    "long type": [{**GOOD, "type": "a" * 65}],
    "payload a number": [{**GOOD, "payload": 5}],
    "payload null": [{**GOOD, "payload": None}],
    "entry a list": [list(GOOD.values())],
    "no entries": [],
    "non-ASCII payload": [{**GOOD, "payload": '{"name":"矿泉水"}'}],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_wire_reader_agrees_with_the_schema(case: str) -> None:
    body = _body(CASES[case])
    assert _wire_says(body) == _pydantic_says(body)


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'{"terminal_id":"T 1","entries":[]}',
        _body([GOOD], terminal_id=5),
        _body([GOOD], terminal_id="T/1"),
        _body([GOOD], more=1),
        b'{"entries":[]}',
        json.dumps({"terminal_id": "T-1", "entries": GOOD}).encode(),
        _body([GOOD] * 10_001),
    ],
)
def test_bodies_the_schema_refuses_are_refused(body: bytes) -> None:
    assert _pydantic_says(body) is None
    assert _wire_says(body) is None


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(min_value=-3, max_value=2**40),
    time=st.text(max_size=40),
    type_=st.text(max_size=70),
    payload=st.text(max_size=30),
    hex_=st.text(alphabet="0123456789abcdefABX", min_size=62, max_size=66),
)
def test_any_entry_is_read_as_the_schema_reads_it(
    seq: int, time: str, type_: str, payload: str, hex_: str
) -> None:
    entry = {**GOOD, "seq": seq, "time": time, "type": type_, "payload": payload}
    entry["hash"] = hex_
    body = _body([entry])
    assert _wire_says(body) == _pydantic_says(body)


@pytest.mark.parametrize("seq", [True, "1", 1.0])
def test_the_lax_conversions_the_client_never_sends_are_refused(seq: Any) -> None:
    assert _wire_says(_body([{**GOOD, "seq": seq}])) is None


def test_a_written_body_reads_back_as_its_rows() -> None:
    rows = [tuple(GOOD[f] for f in FIELDS), tuple({**GOOD, "seq": 2}[f] for f in FIELDS)]
    assert read_upload(upload_body("T-1", rows)) == ("T-1", rows)
    assert _pydantic_says(upload_body("T-1", rows)) == ("T-1", rows)
    entry = as_entries(rows)[1]
    assert (entry.seq, entry.payload, tuple(entry)) == (2, GOOD["payload"], rows[1])
