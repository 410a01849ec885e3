"""Sync throughput, each figure against a baseline measured in the same run.

1. Catching up a 100,000-entry backlog: one terminal pushes its whole
   journal to a real server process (SQLite), over the signed protocol on
   loopback; every entry's hash, link and form are checked, each batch
   head's signature too, and the settlement lines are stored with the
   entries. Goal >= 10,000 entries/s and >= half the rate of the database's
   own bulk insert of the same rows into the same table (SQLAlchemy Core's
   executemany, as the goal was set), measured right after each push. The
   median of POS_BENCH_ROUNDS rounds (each to a fresh server database) is
   asserted; the ratio to a raw executemany of the same rows is recorded too.
   The signature audit of every entry is timed separately, afterwards.
2. 200 simulated terminals uploading at once to PostgreSQL (server with two
   worker processes), 600 entries each: above verify.PARALLEL_FROM, so every
   batch goes through the verification pool. POS_BENCH_ROUNDS rounds, each
   to a fresh database, median reported. Goal >= 5,000 entries/s on 2 cores;
   compared with PostgreSQL's COPY of the same rows.

The 1-minute load average is recorded with each figure: the machine may be
shared.

Run: bash scripts/bench.sh tests/benchmarks/test_sync_bench.py (it starts
PostgreSQL, pcscd and a keyring session).
Sizes: POS_BENCH_BACKLOG (100000), POS_BENCH_TERMINALS (200),
POS_BENCH_PER_TERMINAL (600), POS_BENCH_ROUNDS (3).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert, select, text

from pos.clock import SystemClock, iso
from pos.store.journal_format import GENESIS_HASH, make_record, public_key_hex
from pos.store.terminal import Terminal, provision
from sync.client import SyncClient, signing_key
from sync.protocol import RequestSigner
from sync.schemas import WireEntry
from sync.server import audit, db, enrolment
from sync.server import models as m
from sync.transport import Link

ROOT = Path(__file__).resolve().parents[2]
BACKLOG = int(os.environ.get("POS_BENCH_BACKLOG", "100000"))
TERMINALS = int(os.environ.get("POS_BENCH_TERMINALS", "200"))
PER_TERMINAL = int(os.environ.get("POS_BENCH_PER_TERMINAL", "600"))
ROUNDS = int(os.environ.get("POS_BENCH_ROUNDS", "3"))


def _load() -> float:
    return round(os.getloadavg()[0], 2)


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


def _enrolled(engine: Engine, terminal_id: str, public_key: str) -> None:
    code = enrolment.create_code(engine, SystemClock(), "S001")
    enrolment.enrol(engine, SystemClock(), code, terminal_id, "S001", public_key)


def _push_round(terminal: Terminal, data_dir: Path) -> tuple[float, Engine]:
    """One catch-up of the whole journal to a fresh server: seconds, and its engine."""
    data_dir.mkdir(parents=True)
    url = f"sqlite:///{data_dir / 'server.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    _enrolled(engine, terminal.terminal_id, terminal.public_key)
    with terminal.db.transaction() as conn:  # the backlog unsent again
        conn.execute("UPDATE outbox SET sent_at = NULL")
        conn.execute("DELETE FROM outbox_ack")
    proc, base = _serve(data_dir / "srv", url)
    try:
        signer = RequestSigner(terminal.terminal_id, signing_key(terminal), terminal.clock)
        client = SyncClient(terminal, Link(base, signer, timeout=120), terminal.public_key)
        client.sizer.size = client.sizer.largest
        started = time.perf_counter()
        pushed = client.push()
        seconds = time.perf_counter() - started
        client.close()
    finally:
        proc.terminate()
        proc.wait(10)
    assert pushed.hwm == BACKLOG
    return seconds, engine


def _bulk_rates(rows: list[dict[str, Any]], data_dir: Path) -> tuple[float, float]:
    """The same rows into fresh server databases in one transaction each: with
    SQLAlchemy Core's executemany (the goal's baseline), and with the raw
    prepared executemany the server itself uses (db.bulk_insert)."""
    core = db.make_engine(f"sqlite:///{data_dir / 'core.db'}")
    db.upgrade(core)
    started = time.perf_counter()
    with core.begin() as conn:
        conn.execute(insert(m.entries), rows)
    core_rate = len(rows) / (time.perf_counter() - started)
    raw = db.make_engine(f"sqlite:///{data_dir / 'raw.db'}")
    db.upgrade(raw)
    columns = [c.name for c in m.entries.columns]
    values = [tuple(r[c] for c in columns) for r in rows]
    started = time.perf_counter()
    with raw.begin() as conn:
        db.bulk_insert(conn, m.entries, columns, values)
    raw_rate = len(rows) / (time.perf_counter() - started)
    core.dispose()
    raw.dispose()
    return core_rate, raw_rate


def test_catching_up_a_100k_backlog_against_the_databases_own_bulk_insert(
    tmp_path: Path, record: Any
) -> None:
    terminal = provision(tmp_path / "T-1", "demo", "S001", "T-1", SystemClock())
    per_tx = 5000
    # With the provisioning entry and the pinned server the journal holds BACKLOG.
    for start in range(0, BACKLOG - 1, per_tx):
        with terminal.db.transaction() as conn:
            for i in range(start, min(start + per_tx, BACKLOG - 1)):
                terminal.journal.append(conn, "tender.taken", _payload(i))
    rounds: list[dict[str, float]] = []
    engine: Engine | None = None
    for n in range(ROUNDS):
        load = _load()
        push_s, engine = _push_round(terminal, tmp_path / f"round-{n}")
        with engine.connect() as conn:
            rows = [
                dict(r._mapping) for r in conn.execute(text("SELECT * FROM entries ORDER BY seq"))
            ]
        core_rate, raw_rate = _bulk_rates(rows, tmp_path / f"round-{n}")
        rate = BACKLOG / push_s
        rounds.append(
            {
                "entries_per_s": rate,
                "ratio": rate / core_rate,
                "ratio_raw": rate / raw_rate,
                "core": core_rate,
                "raw": raw_rate,
                "load": load,
            }
        )
        print(
            f"\nround {n + 1}: {rate:,.0f} entries/s; Core insert {core_rate:,.0f} rows/s "
            f"(ratio {rate / core_rate:.2f}); raw executemany {raw_rate:,.0f} rows/s "
            f"(ratio {rate / raw_rate:.2f}); load {load}"
        )
    assert engine is not None
    # The signatures the upload left to the audit, checked afterwards (its cost, not hidden).
    started = time.perf_counter()
    audited = audit.audit_once(engine, SystemClock())
    audit_s = time.perf_counter() - started
    assert (audited.checked, audited.bad) == (BACKLOG, [])
    terminal.close()

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    rate, ratio = median("entries_per_s"), median("ratio")
    record(
        "sync_catch_up",
        {
            "entries": BACKLOG,
            "rounds": ROUNDS,
            "entries_per_s": round(rate),
            "bulk_insert_rows_per_s": round(median("core")),
            "ratio": round(ratio, 3),
            "raw_executemany_rows_per_s": round(median("raw")),
            "ratio_to_raw_executemany": round(median("ratio_raw"), 3),
            "ratios": [round(r["ratio"], 3) for r in rounds],
            "audit_entries_per_s": round(BACKLOG / audit_s),
            "load_1min": [r["load"] for r in rounds] + [_load()],
        },
    )
    print(
        f"\ncatch-up of {BACKLOG} entries, median of {ROUNDS}: {rate:,.0f} entries/s; "
        f"ratio to the bulk insert of the same rows {ratio:.2f} (goals: >= 10,000/s and "
        f">= 0.50); signature audit afterwards: {BACKLOG / audit_s:,.0f} entries/s; "
        f"load {_load()}"
    )
    assert rate >= 10_000
    assert ratio >= 0.5


class _Sim:
    """A terminal's key and its signed journal of `n` entries."""

    def __init__(self, n: int, tid: str) -> None:
        self.id = tid
        self.key = Ed25519PrivateKey.generate()
        prev, now, self.entries = GENESIS_HASH, iso(SystemClock().now()), []
        for seq in range(1, n + 1):
            r = make_record(self.key, tid, seq, now, "tender.taken", _payload(seq), prev)
            self.entries.append(WireEntry.of(r))
            prev = r.hash


def _fresh_database(base_url: str, name: str) -> tuple[str, Engine]:
    admin = db.make_engine(base_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base_url.rsplit("/", 1)[0] + "/" + name
    engine = db.make_engine(url)
    db.upgrade(engine)
    return url, engine


def _simultaneous_round(sims: list[_Sim], url: str, engine: Engine, data_dir: Path) -> float:
    """All terminals upload their journal at once: the seconds it took."""
    for sim in sims:
        _enrolled(engine, sim.id, public_key_hex(sim.key))
    proc, base = _serve(data_dir, url, workers=2)
    try:
        gate = threading.Barrier(len(sims) + 1)
        acks: list[int] = []
        errors: list[str] = []

        def upload(sim: _Sim) -> None:
            # A client made before the clock starts: building one loads the CA
            # bundle (about 30 ms), which is the client's cost, not the server's.
            link = Link(base, RequestSigner(sim.id, sim.key, SystemClock()), timeout=300)
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
    assert not errors, errors[:5]
    assert sorted(acks) == [PER_TERMINAL] * len(sims)
    return wall


def _copy_rate(engine: Engine) -> float:
    """PostgreSQL's own bulk load (COPY) of the rows just uploaded, in one
    transaction, into the same table emptied."""
    columns = [c.name for c in m.entries.columns]
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(*m.entries.columns))]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM settlement_lines"))
        conn.execute(text("DELETE FROM entries"))
    started = time.perf_counter()
    with engine.begin() as conn:
        db.bulk_insert(conn, m.entries, columns, rows)
    return len(rows) / (time.perf_counter() - started)


def test_200_terminals_uploading_at_once_to_postgresql(tmp_path: Path, record: Any) -> None:
    base_url = os.environ.get("POS_TEST_PG_URL")
    if not base_url:
        pytest.skip('needs PostgreSQL: eval "$(bash scripts/pg-test.sh start)"')
    sims = [_Sim(PER_TERMINAL, f"T-{i:03d}") for i in range(TERMINALS)]
    total = TERMINALS * PER_TERMINAL
    rounds: list[dict[str, float]] = []
    for n in range(ROUNDS):
        load = _load()
        url, engine = _fresh_database(base_url, f"pos_bench_{os.getpid()}_{n}")
        wall = _simultaneous_round(sims, url, engine, tmp_path / f"srv-{n}")
        copy_rate = _copy_rate(engine)
        engine.dispose()
        rate = total / wall
        rounds.append(
            {
                "seconds": wall,
                "rate": rate,
                "copy": copy_rate,
                "ratio": rate / copy_rate,
                "load": load,
            }
        )
        print(
            f"\nround {n + 1}: {wall:.1f} s = {rate:,.0f} entries/s; COPY {copy_rate:,.0f} "
            f"rows/s; ratio {rate / copy_rate:.2f}; load {load}"
        )

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    rate = median("rate")
    record(
        "sync_simultaneous_postgresql",
        {
            "terminals": TERMINALS,
            "entries_each": PER_TERMINAL,
            "rounds": ROUNDS,
            "seconds": round(median("seconds"), 1),
            "entries_per_s": round(rate),
            "copy_rows_per_s": round(median("copy")),
            "ratio": round(median("ratio"), 3),
            "load_1min": [r["load"] for r in rounds] + [_load()],
        },
    )
    print(
        f"\n{TERMINALS} terminals x {PER_TERMINAL} entries at once to PostgreSQL, median of "
        f"{ROUNDS}: {median('seconds'):.1f} s = {rate:,.0f} entries/s (goal >= 5,000/s); "
        f"PostgreSQL's COPY of the same rows {median('copy'):,.0f} rows/s; ratio "
        f"{median('ratio'):.2f}; load {_load()}"
    )
    assert rate >= 5_000
