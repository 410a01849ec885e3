"""The server over real HTTP, on SQLite and on PostgreSQL: every entry stored
once keyed by (terminal, seq); gaps, forks and bad entries refused and
raised as alerts; unsigned, stale, replayed, wrong-terminal and revoked
requests refused."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pos.clock import FakeClock, SystemClock, iso
from pos.store.journal_format import GENESIS_HASH, JournalRecord, make_record, public_key_hex
from sync.protocol import RequestSigner
from sync.schemas import EnrolRequest, WireEntry
from sync.server import audit, enrolment
from sync.server import models as m
from sync.transport import Link, ServerRefused
from tests.sync.device import Device


@pytest.fixture
def srv(db_url: str, tmp_path: Path, server_on: Callable[..., Any]) -> Iterator[Any]:
    yield server_on(db_url, tmp_path)


def _count(server: Any, table: Any, **where: Any) -> int:
    q = select(func.count()).select_from(table)
    for k, v in where.items():
        q = q.where(table.c[k] == v)
    with server.engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


def _alerts(server: Any) -> list[tuple[str, int]]:
    with server.engine.connect() as conn:
        return [(r.kind, r.seq) for r in conn.execute(select(m.alerts).order_by(m.alerts.c.id))]


def test_entries_are_stored_once_and_the_high_water_mark_acknowledged(srv: Any) -> None:
    d = Device(srv)
    first = d.make(5)
    ack = d.upload(first)
    assert (ack.hwm, ack.stored, ack.duplicates, ack.last_hash) == (5, 5, 0, first[-1].hash)
    again = d.upload(first + d.make(3))
    assert (again.hwm, again.stored, again.duplicates) == (8, 3, 5)
    assert d.upload(first[1:3]).hwm == 8
    assert _count(srv, m.entries, terminal_id="T-1") == 8
    assert _alerts(srv) == []


def test_a_gap_is_refused_stores_nothing_and_raises_an_alert(srv: Any) -> None:
    d = Device(srv)
    d.upload(d.make(3))
    d.make(2)
    with pytest.raises(ServerRefused) as exc:
        d.upload(d.chain[4:])
    assert (exc.value.status, exc.value.error, exc.value.hwm) == (409, "gap", 3)
    assert _count(srv, m.entries) == 3
    assert _alerts(srv) == [("gap", 5)]


def test_a_fork_at_an_acknowledged_sequence_is_refused_and_raises_an_alert(srv: Any) -> None:
    d = Device(srv)
    d.upload(d.make(4))
    other = make_record(
        d.key, d.id, 3, d.chain[2].time, "tender.taken", {"order_id": "X"}, d.chain[1].hash
    )
    with pytest.raises(ServerRefused) as exc:
        d.upload([other])
    assert (exc.value.status, exc.value.error) == (409, "fork")
    assert _alerts(srv) == [("fork", 3)]
    with srv.engine.connect() as conn:
        kept = conn.execute(select(m.entries.c.hash).where(m.entries.c.seq == 3)).scalar_one()
    assert kept == d.chain[2].hash


def test_an_entry_that_does_not_link_to_the_stored_chain_is_refused(srv: Any) -> None:
    d = Device(srv)
    d.upload(d.make(2))
    stray = make_record(
        d.key, d.id, 3, d.chain[1].time, "tender.taken", {"order_id": "Y"}, "ab" * 32
    )
    with pytest.raises(ServerRefused) as exc:
        d.upload([stray])
    assert exc.value.error == "chain"
    assert _alerts(srv) == [("chain", 3)]


def _resigned(rec: JournalRecord) -> JournalRecord:
    """The same entry (same hash) with its signature bytes replaced by another key's."""
    other = Ed25519PrivateKey.generate()
    return JournalRecord(
        **{**rec.to_dict(), "signature": other.sign(bytes.fromhex(rec.hash)).hex()}
    )


# 600: large enough to be checked by the worker processes.
@pytest.mark.parametrize("size", [7, 600])
def test_an_edited_middle_entry_is_refused_with_its_sequence(srv: Any, size: int) -> None:
    d = Device(srv)
    batch = d.make(size)
    rec = batch[size // 2]
    batch[size // 2] = JournalRecord(**{**rec.to_dict(), "payload": rec.payload.replace("O", "Q")})
    with pytest.raises(ServerRefused) as exc:
        d.upload(batch)
    assert (exc.value.status, exc.value.error) == (422, "bad-entry")
    assert f"entry {rec.seq}:" in exc.value.detail
    assert _count(srv, m.entries) == 0
    assert _alerts(srv) == [("bad-entry", rec.seq)]


@pytest.mark.parametrize("size", [1, 7, 600])
def test_a_batch_whose_head_signature_is_bad_is_refused(srv: Any, size: int) -> None:
    d = Device(srv)
    d.upload(d.make(2))
    batch = d.make(size)
    batch[-1] = _resigned(batch[-1])
    with pytest.raises(ServerRefused) as exc:
        d.upload(batch)
    assert (exc.value.status, exc.value.error, exc.value.hwm) == (422, "bad-entry", 2)
    assert f"entry {batch[-1].seq}: signature" in exc.value.detail
    assert _count(srv, m.entries) == 2
    assert _alerts(srv) == [("bad-entry", batch[-1].seq)]


@pytest.mark.parametrize("size", [7, 600])
def test_a_middle_signature_replaced_alone_is_stored_then_flagged_by_the_audit(
    srv: Any, size: int
) -> None:
    d = Device(srv)
    batch = d.make(size)
    bad = batch[size // 2]
    batch[size // 2] = _resigned(bad)
    assert d.upload(batch).hwm == size
    assert _alerts(srv) == []
    found = audit.audit_once(srv.engine, SystemClock())
    assert (found.checked, found.bad) == (size, [("T-1", bad.seq)])
    assert _alerts(srv) == [(audit.ALERT_KIND, bad.seq)]
    # Audited entries are not checked (nor reported) again; new ones are.
    d.upload(d.make(3))
    again = audit.audit_once(srv.engine, SystemClock())
    assert (again.checked, again.bad) == (3, [])
    assert _alerts(srv) == [(audit.ALERT_KIND, bad.seq)]


def test_two_audits_at_once_report_a_bad_signature_once(srv: Any) -> None:
    d = Device(srv)
    batch = d.make(40)
    batch[10] = _resigned(batch[10])
    d.upload(batch)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: audit.audit_once(srv.engine, SystemClock()), range(2)))
    assert sorted(len(r.bad) for r in runs) == [0, 1]
    assert _alerts(srv) == [(audit.ALERT_KIND, 11)]


def test_the_server_audits_in_the_background_and_pos_server_audit_reports_it(
    db_url: str, tmp_path: Path, server_process: Callable[..., Any]
) -> None:
    srv = server_process(tmp_path / "srv", db_url, "--audit-every", "0.1")
    d = Device(srv)
    batch = d.make(5)
    batch[1] = _resigned(batch[1])
    d.upload(batch)
    for _ in range(400):
        if _alerts(srv):
            break
        time.sleep(0.025)
    assert _alerts(srv) == [(audit.ALERT_KIND, 2)]
    # The command line reports over any range, spans the server audited before included,
    # without raising the alert again.
    cli = [sys.executable, "-m", "sync.server.main", "--db", db_url, "--data-dir", str(tmp_path)]
    whole = subprocess.run([*cli, "audit"], capture_output=True, text=True, timeout=60)
    assert whole.returncode == 6
    assert whole.stdout.strip().splitlines() == [
        "terminal T-1 entry 2: signature is not the terminal's",
        "checked 5 entry signatures; 1 bad",
    ]
    later = subprocess.run(
        [*cli, "audit", "--terminal", "T-1", "--from", "3", "--to", "99"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (later.returncode, later.stdout.strip()) == (0, "checked 3 entry signatures; 0 bad")
    assert _alerts(srv) == [(audit.ALERT_KIND, 2)]
    srv.stop()
    quiet_srv = server_process(tmp_path / "srv", db_url, "--audit-every", "0")
    d.link = Link(quiet_srv.url, RequestSigner(d.id, d.key, d.clock))
    more = d.make(3)
    more[0] = _resigned(more[0])
    d.upload(more)
    found = subprocess.run([*cli, "audit"], capture_output=True, text=True, timeout=60)
    assert found.returncode == 6
    assert "terminal T-1 entry 6:" in found.stdout
    assert _alerts(srv) == [(audit.ALERT_KIND, 2), (audit.ALERT_KIND, 6)]


def test_terminals_chains_are_kept_apart(srv: Any) -> None:
    a, b = Device(srv, "T-A"), Device(srv, "T-B")
    a.upload(a.make(3))
    b.upload(b.make(2))
    assert _count(srv, m.entries, terminal_id="T-A") == 3
    assert _count(srv, m.entries, terminal_id="T-B") == 2


def _raw(
    server: Any,
    d: Device,
    body: bytes,
    clock: Any = None,
    method: str = "POST",
    path: str = "/v1/journal",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    url = server.url + path
    h = (
        headers
        if headers is not None
        else RequestSigner(d.id, d.key, clock or SystemClock()).headers(method, url, body)
    )
    return httpx.request(
        method, url, content=body, headers={**h, "Content-Type": "application/json"}
    )


def _body(d: Device, records: list[JournalRecord], terminal_id: str | None = None) -> bytes:
    entries = [WireEntry.of(r).model_dump() for r in records]
    import json

    return json.dumps({"terminal_id": terminal_id or d.id, "entries": entries}).encode()


def test_unsigned_badly_signed_stale_replayed_and_wrong_terminal_requests_are_refused(
    srv: Any,
) -> None:
    d, other = Device(srv, "T-1"), Device(srv, "T-2")
    body = _body(d, d.make(1))
    assert _raw(srv, d, body, headers={}).json()["error"] == "unsigned"
    signed = RequestSigner(d.id, d.key, SystemClock()).headers(
        "POST", srv.url + "/v1/journal", body
    )
    tampered = body.replace(b"tender", b"tendex")
    assert _raw(srv, d, tampered, headers=signed).json()["error"] == "bad-signature"
    # An unknown terminal gets the same answer as a bad signature, word for word.
    stranger = RequestSigner("T-NOBODY", Ed25519PrivateKey.generate(), SystemClock())
    unknown = _raw(srv, d, body, headers=stranger.headers("POST", srv.url + "/v1/journal", body))
    assert unknown.status_code == 401
    assert unknown.json() == _raw(srv, d, tampered, headers=signed).json()
    old = FakeClock(SystemClock().now())
    old.advance(-400)
    assert _raw(srv, d, body, clock=old).json()["error"] == "stale"
    ok = _raw(srv, d, body, headers=signed)
    assert ok.status_code == 200
    replay = _raw(srv, d, body, headers=signed)
    assert (replay.status_code, replay.json()["error"]) == (401, "replay")
    as_other = _raw(srv, other, _body(other, d.chain, terminal_id="T-1"))
    assert (as_other.status_code, as_other.json()["error"]) == (403, "wrong-terminal")
    assert _count(srv, m.entries) == 1


def test_a_revoked_terminal_is_refused(srv: Any) -> None:
    d = Device(srv)
    d.upload(d.make(1))
    assert enrolment.revoke(srv.engine, SystemClock(), d.id)
    with pytest.raises(ServerRefused) as exc:
        d.upload(d.make(1))
    assert (exc.value.status, exc.value.error) == (403, "revoked")


def test_malformed_bodies_get_a_clear_refusal(srv: Any) -> None:
    d = Device(srv)
    for body in (
        b"{",
        b'{"terminal_id":"T-1","entries":[]}',
        b'{"terminal_id":"T-1","entries":[{"seq":1}]}',
    ):
        r = _raw(srv, d, body)
        assert r.status_code == 400
        assert r.json()["error"] == "malformed"
    recs = d.make(3)
    r = _raw(srv, d, _body(d, [recs[0], recs[2], recs[1]]))
    assert (r.status_code, r.json()["error"]) == (400, "malformed")


def test_an_enrolment_code_works_once_and_only_for_its_store(srv: Any) -> None:
    code = enrolment.create_code(srv.engine, SystemClock(), "S001")
    key = Ed25519PrivateKey.generate()
    link = Link(srv.url, RequestSigner("T-9", key, SystemClock()))
    wrong = EnrolRequest(
        code=code, terminal_id="T-9", store_id="S002", public_key=public_key_hex(key)
    )
    with pytest.raises(ServerRefused) as exc:
        link.enroll(wrong)
    assert exc.value.error == "wrong-store"
    right = wrong.model_copy(update={"store_id": "S001"})
    first = link.enroll(right)
    assert first.hwm == 0 and len(first.server_key) == 64
    assert link.enroll(right).server_key == first.server_key  # a lost answer, asked again
    thief_key = Ed25519PrivateKey.generate()
    thief = Link(srv.url, RequestSigner("T-10", thief_key, SystemClock()))
    with pytest.raises(ServerRefused) as exc:
        thief.enroll(
            EnrolRequest(
                code=code, terminal_id="T-10", store_id="S001", public_key=public_key_hex(thief_key)
            )
        )
    assert exc.value.error == "code-used"
    with pytest.raises(ServerRefused) as exc:
        link.enroll(right.model_copy(update={"code": "NOPE-NOPE-NOPE"}))
    assert exc.value.error == "bad-code"


def test_enrolment_must_be_signed_by_the_key_being_registered(srv: Any) -> None:
    code = enrolment.create_code(srv.engine, SystemClock(), "S001")
    registered, signer = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    link = Link(srv.url, RequestSigner("T-9", signer, SystemClock()))
    with pytest.raises(ServerRefused) as exc:
        link.enroll(
            EnrolRequest(
                code=code, terminal_id="T-9", store_id="S001", public_key=public_key_hex(registered)
            )
        )
    assert exc.value.status == 401


def test_the_openapi_description_is_published(srv: Any) -> None:
    doc = httpx.get(srv.url + "/openapi.json").json()
    assert {
        "/v1/enroll",
        "/v1/journal",
        "/v1/journal/state",
        "/v1/config",
        "/v1/reports/daily",
    } <= set(doc["paths"])
    body = doc["paths"]["/v1/journal"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert "entries" in body["properties"]


_json_leaf = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_tender = st.fixed_dictionaries(
    {},
    optional={
        "amount_minor": st.integers()
        | st.integers(2**62, 2**80).map(lambda n: n * (-1) ** n)
        | _json,
        "channel": st.text(max_size=40) | _json,
        "currency": st.text(max_size=5) | _json,
    },
)
_money_payload = st.fixed_dictionaries(
    {},
    optional={
        "tender": _tender | _json,
        "tenders": st.lists(_tender, max_size=3) | _json,
        "business_date": st.text(max_size=14) | _json,
        "order_id": st.text(max_size=80) | _json,
        "currency": st.text(max_size=5) | _json,
    },
)
_fuzzed_terminals = iter(range(10**6))


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    etype=st.sampled_from(["tender.taken", "refund.completed", "order.voided", "sale.paid"])
    | st.text(max_size=70),
    payload=_money_payload | _json,
)
def test_a_signed_entry_with_any_payload_is_stored_or_refused_never_a_server_error(
    srv: Any, etype: str, payload: Any
) -> None:
    """A payload the server cannot read is still stored (the journal is the
    record) and adds no settlement line; nothing a terminal signs makes the
    server fail, which would hold that terminal's sync up for good."""
    d = Device(srv, f"T-F{next(_fuzzed_terminals)}")
    rec = make_record(
        d.key,
        d.id,
        1,
        iso(d.clock.now()),
        etype,
        payload if isinstance(payload, dict) else {"v": payload},
        GENESIS_HASH,
    )
    d.chain.append(rec)
    try:
        ack = d.upload([rec])
    except ServerRefused as exc:
        assert 400 <= exc.status < 500, exc
        return
    assert ack.hwm == 1
    ack = d.upload(d.make(1))  # the chain goes on after it
    assert ack.hwm == 2


@pytest.mark.parametrize("amount", [2**63, -(2**63) - 1, 10**30])
def test_an_amount_beyond_the_database_integer_is_stored_without_a_settlement_line(
    srv: Any, amount: int
) -> None:
    d = Device(srv)
    rec = make_record(
        d.key,
        d.id,
        1,
        iso(d.clock.now()),
        "tender.taken",
        {"order_id": "O1", "tender": {"channel": "cash", "amount_minor": amount}},
        GENESIS_HASH,
    )
    d.chain.append(rec)
    assert d.upload([rec]).hwm == 1
    assert _count(srv, m.settlement_lines) == 0
    d.upload(d.make(1))
    assert _count(srv, m.settlement_lines) == 1


def test_nul_characters_in_a_payload_are_stored_as_sent(srv: Any) -> None:
    """PostgreSQL's text holds no NUL: the line's texts are cleaned, the entry's
    payload is kept as the JSON the terminal signed (where NUL is escaped)."""
    d = Device(srv)
    payload = {
        "order_id": "O\x001",
        "business_date": "2026-11-24",
        "tender": {"channel": "ca\x00sh", "amount_minor": 100, "currency": "CNY"},
        "note\x00": "a\x00b",
    }
    rec = make_record(d.key, d.id, 1, iso(d.clock.now()), "tender.taken", payload, GENESIS_HASH)
    d.chain.append(rec)
    assert d.upload([rec]).hwm == 1
    with srv.engine.connect() as conn:
        stored = conn.execute(select(m.entries.c.payload)).scalar_one()
    assert stored == rec.payload
    with srv.engine.connect() as conn:
        line = conn.execute(select(m.settlement_lines)).one()
    assert (line.channel, line.order_id, line.amount_minor) == ("ca\ufffdsh", "O\ufffd1", 100)
    assert d.upload(d.make(1)).hwm == 2
    odd = make_record(d.key, d.id, 3, iso(d.clock.now()), "tender\x00taken", {}, d.chain[-1].hash)
    with pytest.raises(ServerRefused) as exc:
        d.upload([odd])
    assert (exc.value.status, exc.value.error) == (422, "bad-entry")
    assert _count(srv, m.entries) == 2
    assert _alerts(srv) == [("bad-entry", 3)]


def test_a_config_request_after_a_version_beyond_the_version_column_is_refused(
    srv: Any,
) -> None:
    d = Device(srv)
    for after in (2**31, 2**63, 10**30):
        r = _raw(srv, d, b"", method="GET", path=f"/v1/config?after={after}")
        assert r.status_code == 422, r.text
    r = _raw(srv, d, b"", method="GET", path=f"/v1/config?after={2**31 - 1}")
    assert (r.status_code, r.json()["versions"]) == (200, [])
