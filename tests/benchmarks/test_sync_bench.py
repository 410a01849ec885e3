"""Sync throughput, each figure against a baseline measured in the same run.

1. Catching up a 100,000-entry backlog: one terminal pushes its whole
   journal to a real server process (SQLite). Goal >= 10,000 entries/s and
   >= half the rate of the server database's own bulk insert of the same rows.
   The upload checks each batch head's signature; the signature audit of
   every entry is timed separately, afterwards.
2. 200 simulated terminals uploading at once to PostgreSQL (server with two
   worker processes), 600 entries each: above verify.PARALLEL_FROM, so every
   batch goes through the verification pool, and about ten seconds of load.
   Goal >= 5,000 entries/s on 2 cores; compared with PostgreSQL's COPY of
   the same rows.

Run: bash scripts/bench.sh tests/benchmarks/test_sync_bench.py (it starts
PostgreSQL, pcscd and a keyring session).
Sizes: POS_BENCH_BACKLOG (100000), POS_BENCH_TERMINALS (200), POS_BENCH_PER_TERMINAL (600).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, text

from pos.clock import SystemClock, iso
from pos.store.journal_format import GENESIS_HASH, make_record, public_key_hex
from pos.store.terminal import provision
from sync.client import SyncClient, enroll
from sync.protocol import RequestSigner
from sync.schemas import EnrolRequest, WireEntry
from sync.server import audit, db, enrolment
from sync.server import models as m
from sync.transport import Link

ROOT = Path(__file__).resolve().parents[2]
BACKLOG = int(os.environ.get("POS_BENCH_BACKLOG", "100000"))
TERMINALS = int(os.environ.get("POS_BENCH_TERMINALS", "200"))
PER_TERMINAL = int(os.environ.get("POS_BENCH_PER_TERMINAL", "600"))


def _payload(i: int) -> dict[str, Any]:
    return {
        "order_id": f"T-1-{i:012d}",
        "tender_row_id": f"TR-{i}",
        "tender": {
            "channel": "cash",
            "amount_minor": 1000 + i % 5000,
            "tendered_minor": None,
            "change_minor": 0,
            "reference": None,
            "tender_id": f"t{i}",
        },
        "intent_id": None,
        "masked_pan": None,
    }


def _serve(data_dir: Path, url: str, workers: int = 1) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync.server.main",
            "--db",
            url,
            "--data-dir",
            str(data_dir),
            "serve",
            "--port",
            "0",
            "--workers",
            str(workers),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    found = re.search(r"(http\S+)", proc.stdout.readline())
    assert found, "server did not start"
    base = found.group(1)
    for _ in range(200):
        try:
            httpx.get(base + "/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return proc, base


def test_catching_up_a_100k_backlog_against_the_databases_own_bulk_insert(
    tmp_path: Path, record: Any
) -> None:
    terminal = provision(tmp_path / "T-1", "demo", "S001", "T-1", SystemClock())
    per_tx = 5000
    # With the provisioning and enrolment entries the journal holds BACKLOG.
    for start in range(0, BACKLOG - 2, per_tx):
        with terminal.db.transaction() as conn:
            for i in range(start, min(start + per_tx, BACKLOG - 2)):
                terminal.journal.append(conn, "tender.taken", _payload(i))
    url = f"sqlite:///{tmp_path / 'server.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    proc, base = _serve(tmp_path / "srv", url)
    try:
        enroll(terminal, base, enrolment.create_code(engine, SystemClock(), "S001"))
        client = SyncClient.for_terminal(terminal, {}, timeout=120)
        client.sizer.size = client.sizer.largest
        started = time.perf_counter()
        pushed = client.push()
        push_s = time.perf_counter() - started
        client.close()
    finally:
        proc.terminate()
        proc.wait(10)
    assert pushed.hwm == BACKLOG
    # The signatures the upload left to the audit, checked afterwards (its cost, not hidden).
    started = time.perf_counter()
    audited = audit.audit_once(engine, SystemClock())
    audit_s = time.perf_counter() - started
    assert (audited.checked, audited.bad) == (BACKLOG, [])

    # Baseline: the same rows into a fresh server database in one bulk insert.
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM entries ORDER BY seq"))]
    bulk_engine = db.make_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    db.upgrade(bulk_engine)
    started = time.perf_counter()
    with bulk_engine.begin() as conn:
        conn.execute(insert(m.entries), rows)
    bulk_s = time.perf_counter() - started
    rate, bulk_rate = BACKLOG / push_s, BACKLOG / bulk_s
    record(
        "sync_catch_up",
        {
            "entries": BACKLOG,
            "entries_per_s": round(rate),
            "bulk_insert_rows_per_s": round(bulk_rate),
            "ratio": round(rate / bulk_rate, 3),
            "audit_entries_per_s": round(BACKLOG / audit_s),
        },
    )
    print(
        f"\ncatch-up of {BACKLOG} entries: {push_s:.1f} s = {rate:,.0f} entries/s; "
        f"bulk insert of the same rows: {bulk_rate:,.0f} rows/s; ratio {rate / bulk_rate:.2f} "
        f"(goals: >= 10,000/s and >= 0.50); signature audit afterwards: "
        f"{BACKLOG / audit_s:,.0f} entries/s"
    )
    terminal.close()


class _Sim:
    def __init__(self, base: str, engine: Any, n: int, tid: str) -> None:
        self.id = tid
        self.key = Ed25519PrivateKey.generate()
        self.link = Link(base, RequestSigner(tid, self.key, SystemClock()), timeout=300)
        code = enrolment.create_code(engine, SystemClock(), "S001")
        self.link.enroll(
            EnrolRequest(
                code=code, terminal_id=tid, store_id="S001", public_key=public_key_hex(self.key)
            )
        )
        prev, now, self.entries = GENESIS_HASH, iso(SystemClock().now()), []
        for seq in range(1, n + 1):
            r = make_record(self.key, tid, seq, now, "tender.taken", _payload(seq), prev)
            self.entries.append(WireEntry.of(r))
            prev = r.hash


def test_200_terminals_uploading_at_once_to_postgresql(tmp_path: Path, record: Any) -> None:
    base_url = os.environ.get("POS_TEST_PG_URL")
    if not base_url:
        pytest.skip('needs PostgreSQL: eval "$(bash scripts/pg-test.sh start)"')
    name = f"pos_bench_{os.getpid()}"
    admin = db.make_engine(base_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base_url.rsplit("/", 1)[0] + "/" + name
    engine = db.make_engine(url)
    db.upgrade(engine)
    proc, base = _serve(tmp_path / "srv", url, workers=2)
    try:
        sims = [_Sim(base, engine, PER_TERMINAL, f"T-{i:03d}") for i in range(TERMINALS)]
        gate = threading.Barrier(TERMINALS + 1)
        acks: list[int] = []

        errors: list[str] = []

        def upload(sim: _Sim) -> None:
            # A fresh client (it connects on first use: the enrolment's connection has
            # idled past the server's keep-alive), made before the clock starts: building
            # one loads the CA bundle (about 30 ms), which is the client's cost, not the
            # server's.
            link = Link(
                sim.link.base_url, RequestSigner(sim.id, sim.key, SystemClock()), timeout=300
            )
            gate.wait()
            try:
                acks.append(link.upload(sim.id, sim.entries).hwm)
            except Exception as exc:  # reported below with the figures
                errors.append(f"{sim.id}: {exc}")

        threads = [threading.Thread(target=upload, args=(s,)) for s in sims]
        for t in threads:
            t.start()
        gate.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(10)
    total = TERMINALS * PER_TERMINAL
    assert not errors, errors[:5]
    assert sorted(acks) == [PER_TERMINAL] * TERMINALS
    # Baseline: PostgreSQL's own bulk load (COPY) of the same rows, in one transaction.
    columns = [c.name for c in m.entries.columns]
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(*m.entries.columns))]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM settlement_lines"))
        conn.execute(text("DELETE FROM entries"))
    started = time.perf_counter()
    with engine.begin() as conn:
        db.bulk_insert(conn, m.entries, columns, rows)
    bulk_rate = total / (time.perf_counter() - started)
    engine.dispose()
    rate = total / wall
    record(
        "sync_simultaneous_postgresql",
        {
            "terminals": TERMINALS,
            "entries_each": PER_TERMINAL,
            "seconds": round(wall, 1),
            "entries_per_s": round(rate),
            "copy_rows_per_s": round(bulk_rate),
            "ratio": round(rate / bulk_rate, 3),
        },
    )
    print(
        f"\n{TERMINALS} terminals x {PER_TERMINAL} entries at once to PostgreSQL: {wall:.1f} s "
        f"= {rate:,.0f} entries/s (goal >= 5,000/s); PostgreSQL's COPY of the same "
        f"rows {bulk_rate:,.0f} rows/s; ratio {rate / bulk_rate:.2f}"
    )
