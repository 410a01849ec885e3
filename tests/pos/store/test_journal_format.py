"""The byte format other implementations (the sync server) rely on."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from pos.store.journal_format import (
    GENESIS_HASH,
    ChainChecker,
    JournalFormatError,
    JournalRecord,
    load_public_key,
    make_record,
    public_key_hex,
)

SEED = bytes(range(32))


def _by_the_spec(
    terminal_id: str, seq: int, time: str, typ: str, payload: dict[str, Any], prev: str
) -> str:
    """docs/store.md, written out independently of the module under test."""
    header = json.dumps(
        {"prev_hash": prev, "seq": seq, "terminal_id": terminal_id, "time": time, "type": typ},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(b"pos-journal-entry-v1\n" + header + b"\n" + body).hexdigest()


def test_hash_and_signature_follow_the_documented_bytes() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    payload = {"order_id": "O-1", "total_minor": 1250, "name": "矿泉水"}
    rec = make_record(
        key, "T-1", 1, "2026-01-05T09:00:00.000000Z", "sale.paid", payload, GENESIS_HASH
    )
    assert rec.hash == _by_the_spec(
        "T-1", 1, "2026-01-05T09:00:00.000000Z", "sale.paid", payload, GENESIS_HASH
    )
    assert rec.payload == '{"name":"矿泉水","order_id":"O-1","total_minor":1250}'
    key.public_key().verify(bytes.fromhex(rec.signature), bytes.fromhex(rec.hash))


def _chain(key: Ed25519PrivateKey, n: int, terminal: str = "T-1") -> list[JournalRecord]:
    out: list[JournalRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        rec = make_record(
            key, terminal, seq, "2026-01-05T09:00:00.000000Z", "sale.paid", {"seq": seq}, prev
        )
        out.append(rec)
        prev = rec.hash
    return out


def test_checker_can_resume_after_the_last_accepted_entry() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    chain = _chain(key, 6)
    checker = ChainChecker(load_public_key(public_key_hex(key)), "T-1", 4, chain[2].hash)
    assert [checker.check(r) for r in chain[3:]] == [None, None, None]
    assert checker.checked == 3 and checker.next_seq == 7


def test_checker_stays_failed_after_the_first_problem() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    chain = _chain(key, 4)
    checker = ChainChecker(load_public_key(public_key_hex(key)), "T-1")
    checker.check(chain[0])
    first = checker.check(chain[2])
    assert first is not None and first.seq == 2 and first.kind == "missing"
    assert checker.check(chain[3]) is first


def test_record_round_trips_through_its_wire_form() -> None:
    rec = _chain(Ed25519PrivateKey.from_private_bytes(SEED), 1)[0]
    assert JournalRecord.from_dict(json.loads(json.dumps(rec.to_dict()))) == rec


def _wire(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"seq": 1, "terminal_id": "T", "time": "t", "type": "x"}
    body.update(payload="{}", prev_hash="0", hash="0", signature="0")
    body.update(changes)
    return body


@pytest.mark.parametrize(
    "body",
    [[], {"seq": "1"}, _wire(seq=True), _wire(seq=0), _wire(terminal_id=5), _wire(hash=None)],
    ids=["list", "seq-text", "seq-bool", "seq-zero", "terminal-int", "hash-null"],
)
def test_malformed_wire_records_are_refused_clearly(body: Any) -> None:
    with pytest.raises(JournalFormatError):
        JournalRecord.from_dict(body)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("signature", "zz"),
        ("hash", "not-hex"),
        ("time", "yesterday"),
        ("time", "2026-01-05T09:00:00.000000Z\n"),
        ("payload", "[1,2]"),
        ("payload", "{not json"),
    ],
)
def test_malformed_fields_in_a_chain_are_problems_not_crashes(field: str, value: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    rec = _chain(key, 1)[0].to_dict()
    rec[field] = value
    checker = ChainChecker(load_public_key(public_key_hex(key)), "T-1")
    problem = checker.check(JournalRecord.from_dict(rec))
    assert problem is not None and problem.seq == 1


def test_bad_public_key_text_is_refused() -> None:
    with pytest.raises(JournalFormatError):
        load_public_key("abc")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    payload=st.dictionaries(st.text(max_size=8), _json_values, max_size=5),
    position=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_any_payload_verifies_and_any_changed_byte_is_caught(
    payload: dict[str, Any], position: int, flip: int
) -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    public = load_public_key(public_key_hex(key))
    rec = make_record(
        key, "T-1", 1, "2026-01-05T09:00:00.000000Z", "sale.paid", payload, GENESIS_HASH
    )
    assert ChainChecker(public, "T-1").check(rec) is None
    raw = bytearray(rec.payload.encode("utf-8"))
    raw[position % len(raw)] ^= flip
    changed = raw.decode("utf-8", errors="replace")
    if changed == rec.payload:
        return
    tampered = JournalRecord.from_dict({**rec.to_dict(), "payload": changed})
    problem = ChainChecker(public, "T-1").check(tampered)
    assert problem is not None and problem.seq == 1
