"""The upload's batch check says what the terminal's own ChainChecker says,
for every kind of damage, except that only the batch head's signature is
checked (the rest go to the audit)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from pos import canonical
from pos.store import journal_format as jf
from sync.schemas import WireEntry
from sync.server.settlement import line_rows
from sync.server.verify import CHUNK_AT_LEAST, BatchVerifier, Row, canonical_object, check_rows

KEY = Ed25519PrivateKey.generate()
TID = "T-1"


def _chain(n: int) -> list[jf.JournalRecord]:
    out, prev = [], jf.GENESIS_HASH
    for seq in range(1, n + 1):
        payload = {
            "order_id": f"O{seq}",
            "name": "矿泉水",
            "tender": {"amount_minor": seq, "channel": "cash"},
        }
        rec = jf.make_record(
            KEY, TID, seq, "2026-01-05T09:00:00.000000Z", "tender.taken", payload, prev
        )
        out.append(rec)
        prev = rec.hash
    return out


def _rows(records: list[jf.JournalRecord]) -> list[Row]:
    return [(r.seq, r.time, r.type, r.payload, r.prev_hash, r.hash, r.signature) for r in records]


def _terminal_says(records: list[jf.JournalRecord]) -> tuple[int, str] | None:
    checker = jf.ChainChecker(KEY.public_key(), TID, records[0].seq, records[0].prev_hash)
    for r in records:
        problem = checker.check(r)
        if problem is not None:
            return problem.seq, problem.reason
    return None


def _rehashed(r: jf.JournalRecord, **change: Any) -> jf.JournalRecord:
    """An entry changed and given a correct hash and signature for its new content."""
    r = replace(r, **change)
    h = jf.record_hash(r)
    return replace(r, hash=h, signature=jf.sign_hash(KEY, h))


DAMAGE: dict[str, Callable[[jf.JournalRecord], jf.JournalRecord]] = {
    "edited payload": lambda r: replace(r, payload=r.payload.replace("O", "Q")),
    "edited time": lambda r: replace(r, time="2026-01-05T09:00:01.000000Z"),
    "bad type": lambda r: _rehashed(r, type="Tender Taken"),
    "bad time": lambda r: _rehashed(r, time="2026-01-05 09:00:00"),
    "upper-case hash": lambda r: replace(r, hash=r.hash.upper()),
    "spaces in payload": lambda r: _rehashed(r, payload=r.payload.replace(":", ": ")),
    "unsorted payload": lambda r: _rehashed(
        r, payload='{"tender":{"amount_minor":1},"order_id":"O"}'
    ),
    "escaped non-ASCII": lambda r: _rehashed(r, payload=json.dumps(json.loads(r.payload))),
    "float in payload": lambda r: _rehashed(r, payload='{"amount":1.5}'),
    "NaN in payload": lambda r: _rehashed(r, payload='{"amount":NaN}'),
    "payload not an object": lambda r: _rehashed(r, payload="[1,2]"),
    "duplicate key": lambda r: _rehashed(r, payload='{"a":1,"a":2}'),
    "not linked": lambda r: _rehashed(r, prev_hash="ab" * 32),
    "signature not hex": lambda r: replace(r, signature="zz" * 64),
    "signature short": lambda r: replace(r, signature=r.signature[:-2]),
}


@pytest.mark.parametrize("where", [0, 3, 7])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damage_is_reported_as_the_terminal_reports_it(damage: str, where: int) -> None:
    records = _chain(8)
    records[where] = DAMAGE[damage](records[where])
    expected = _terminal_says(records)
    assert expected is not None
    assert check_rows(TID, jf.public_key_hex(KEY), _rows(records), records[-1].hash).bad == expected


def test_only_the_heads_signature_is_checked() -> None:
    records = _chain(8)
    other = Ed25519PrivateKey.generate()
    forged = [replace(r, signature=jf.sign_hash(other, r.hash)) for r in records]
    key = jf.public_key_hex(KEY)
    middle = [*records[:4], forged[4], *records[5:]]
    assert check_rows(TID, key, _rows(middle), records[-1].hash).bad is None
    head = [*records[:7], forged[7]]
    assert check_rows(TID, key, _rows(head), records[-1].hash).bad == _terminal_says(head)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(
    ("where", "damage"),
    [(900, "edited payload"), (512, "not linked"), (512, "bad type"), (511, "edited payload")],
)
def test_the_pool_reports_what_the_terminal_reports(workers: int, where: int, damage: str) -> None:
    # 1,200 entries in chunks of 256 (CHUNK_AT_LEAST): 512 is the first entry of the third.
    records = _chain(1200)
    records[where] = DAMAGE[damage](records[where])
    verifier = BatchVerifier(workers)
    try:
        found = verifier.check(TID, jf.public_key_hex(KEY), [WireEntry.of(r) for r in records])
    finally:
        verifier.close()
    assert (found.bad, found.lines) == (_terminal_says(records), [])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_sound_batch_comes_back_with_its_settlement_lines(workers: int) -> None:
    records = _chain(1200)
    verifier = BatchVerifier(workers)
    try:
        found = verifier.check(TID, jf.public_key_hex(KEY), [WireEntry.of(r) for r in records])
    finally:
        verifier.close()
    assert found.bad is None
    expected = [
        tuple(row) for r in records for row in line_rows(r.seq, r.type, r.payload_data(), r.time)
    ]
    assert found.lines == expected
    assert [line[0] for line in found.lines] == list(range(1, 1201))


def _canonical_by_the_terminal(text: str) -> bool:
    try:
        data = canonical.loads(text)
        return isinstance(data, dict) and canonical.dumps(data).decode("utf-8") == text
    except (ValueError, canonical.CanonicalError):
        return False


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(value=JSON, sort=st.booleans(), ascii_only=st.booleans(), spaced=st.booleans())
def test_the_fast_canonical_check_agrees_with_canonical_dumps(
    value: Any, sort: bool, ascii_only: bool, spaced: bool
) -> None:
    text = json.dumps(
        value,
        sort_keys=sort,
        ensure_ascii=ascii_only,
        separators=(", ", ": ") if spaced else (",", ":"),
    )
    assert (canonical_object(text) is not None) == _canonical_by_the_terminal(text)


@pytest.mark.parametrize(
    "text", ["", "{", "{}", "null", '{"a":Infinity}', '{"a":-Infinity}', "[" * 5000, '{"a":1e3}']
)
def test_the_fast_canonical_check_agrees_on_odd_documents(text: str) -> None:
    try:
        expected = _canonical_by_the_terminal(text)
    except RecursionError:
        expected = False
    assert (canonical_object(text) is not None) == expected


def test_a_large_batch_is_checked_in_chunks_whose_verdicts_come_in_order() -> None:
    records = _chain(3000)
    verifier = BatchVerifier(2)
    try:
        parts = list(verifier.start(TID, jf.public_key_hex(KEY), _rows(records)).parts())
    finally:
        verifier.close()
    chunks = [c for c, _part in parts]
    assert len(chunks) > 2 and len(chunks[0]) == CHUNK_AT_LEAST
    assert [r[0] for c in chunks for r in c] == list(range(1, 3001))
    assert all(part.bad is None and len(part.lines) == len(c) for c, part in parts)


@pytest.mark.parametrize(
    "text",
    [
        canonical.dumps({"a": 2**64}).decode(),
        canonical.dumps({"a": [-(2**80), {"b": 2**63}]}).decode(),
        '{"a":1e16}',
        '{"a":1E2}',
        '{"a":-0}',
        '{"a":"\\u00e9"}',
        canonical.dumps({"a": "\x7f\u2028é"}).decode(),
    ],
)
def test_the_fast_canonical_check_agrees_on_numbers_and_escapes(text: str) -> None:
    try:
        expected = json.loads(text)
        same = isinstance(expected, dict) and canonical.dumps(expected).decode() == text
    except (ValueError, canonical.CanonicalError):
        same = False
    assert canonical_object(text) == (expected if same else None)
