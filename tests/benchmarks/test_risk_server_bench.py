"""The server's chain-wide risk work, measured against what it rides on.

1. Analysis throughput: batches of journal entries from 20 terminals in 10
   stores go through ingest (`ingest.store_batch`, the baseline: storing
   them) and then through the analysis hook; the analysis must keep up with
   at least 10,000 entries/s. Two mixes: a realistic journal (one
   `risk.decision` in five entries) and the worst case (every entry a card
   payment decision).
2. Backtest of a new velocity rule over 1,000,000 stored sale entries, within
   30 s; the baseline is reading the same rows (the scan alone).

SQLite by default; PostgreSQL too when scripts/pg-test.sh runs one.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert, select, text

from pos.clock import FakeClock
from pos.store.journal_format import GENESIS_HASH
from sync.schemas import WireEntry
from sync.server import db, ingest, keys
from sync.server import models as m
from sync.server.db import bulk_insert
from sync.server.risk import RiskHook
from sync.server.risk.backtest import run_backtest
from sync.server.risk.facts import FACT_COLUMNS

ENTRIES = int(os.environ.get("RISK_SERVER_BENCH_ENTRIES", "100000"))
BACKTEST_ROWS = int(os.environ.get("RISK_BACKTEST_ROWS", "1000000"))
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
TERMINALS, STORES, BATCH = 20, 10, 1000


def _urls(tmp_path: Path) -> list[str]:
    urls = [f"sqlite:///{tmp_path / 'bench.db'}"]
    base = os.environ.get("POS_TEST_PG_URL")
    if base:
        name = f"risk_bench_{os.getpid()}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        urls.append(base.rsplit("/", 1)[0] + "/" + name)
    return urls


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[list[Engine]]:
    made = [db.make_engine(u) for u in _urls(tmp_path)]
    for e in made:
        db.upgrade(e)
    yield made
    for e in made:
        e.dispose()


def _payload(rng: random.Random, i: int, worst: bool) -> tuple[str, str]:
    if not worst and i % 5:
        return "item.added", json.dumps({"line": i, "sku": f"sku-{rng.randrange(5000)}"})
    card = f"tok-{rng.randrange(200_000)}" if worst or rng.random() < 0.6 else ""
    return "risk.decision", json.dumps({
        "kind": "refund" if rng.random() < 0.03 else "sale",
        "outcome": "approved" if rng.random() < 0.97 else "declined",
        "amount_minor": int(rng.lognormvariate(8.5, 0.9)), "currency": "CNY",
        "channel": "card" if card else "alipay", "card_token": card,
        "account": "" if card else f"2088{rng.randrange(100_000)}",
        "cashier_id": f"c{rng.randrange(60)}", "action": "allow",
        "refund_no_receipt": False, "context": {},
    })  # fmt: skip


def _batches(worst: bool) -> list[tuple[str, str, list[WireEntry]]]:
    """(terminal, store, entries) in upload order, each terminal's chain linked."""
    rng = random.Random(7)
    out = []
    last = {f"T{t:02d}": GENESIS_HASH for t in range(TERMINALS)}
    seqs = dict.fromkeys(last, 0)
    per = ENTRIES // TERMINALS
    for start in range(0, per, BATCH):
        for t in range(TERMINALS):
            tid = f"T{t:02d}"
            entries = []
            for k in range(min(BATCH, per - start)):
                seqs[tid] += 1
                at = T0 + timedelta(seconds=(start + k) * 3 + t)
                etype, payload = _payload(rng, start + k, worst)
                h = hashlib.sha256(f"{tid}{seqs[tid]}".encode()).hexdigest()
                entries.append(WireEntry.model_construct(
                    seq=seqs[tid], time=at.isoformat(), type=etype, payload=payload,
                    prev_hash=last[tid], hash=h, signature="00" * 64))  # fmt: skip
                last[tid] = h
            out.append((tid, f"S{t % STORES:03d}", entries))
    return out


def _enrol(engine: Engine) -> None:
    with engine.begin() as conn:
        for s in range(STORES):
            conn.execute(insert(m.stores).values(id=f"S{s:03d}", name="", created_at=""))
            conn.execute(insert(m.store_places).values(
                store_id=f"S{s:03d}", lat=22 + s * 2.0, lon=113 + s, city="", tz="Asia/Shanghai"))  # fmt: skip
        for t in range(TERMINALS):
            conn.execute(insert(m.terminals).values(
                id=f"T{t:02d}", store_id=f"S{t % STORES:03d}", public_key="00" * 32,
                enrolled_at="", hwm=0, last_hash=GENESIS_HASH))  # fmt: skip


@pytest.mark.parametrize("mix", ["journal", "worst"])
def test_the_analysis_keeps_up_with_ingest(
    engines: list[Engine], tmp_path: Path, record: Any, mix: str
) -> None:
    batches = _batches(worst=mix == "worst")
    for engine in engines:
        with engine.begin() as conn:  # a fresh schema per mix
            for table in ("risk_events", "risk_cursor", "risk_store_hours", "risk_alerts",
                          "risk_hotlist", "config_versions", "settlement_lines", "entries",
                          "nonces", "terminals", "store_places", "stores"):  # fmt: skip
                conn.execute(text(f"DELETE FROM {table}"))
        _enrol(engine)
        clock = FakeClock(T0)
        hook = RiskHook(engine, clock, keys.load_or_create(tmp_path / "key.pem"))
        ingest_s = analysis_s = 0.0
        facts = alerts = 0
        for tid, store, entries in batches:
            t = time.perf_counter()
            ingest.store_batch(engine, clock, tid, entries, [], None)
            t2 = time.perf_counter()
            out = hook.after_upload(tid, store, entries)
            analysis_s += time.perf_counter() - t2
            ingest_s += t2 - t
            facts += out.facts
            alerts += len(out.alerts)
        total = sum(len(e) for _, _, e in batches)
        figures = {
            "database": engine.dialect.name,
            "mix": mix,
            "entries": total,
            "facts": facts,
            "alerts": alerts,
            "ingest_entries_per_s": round(total / ingest_s),
            "analysis_entries_per_s": round(total / analysis_s),
            "analysis_over_ingest_time": round(analysis_s / ingest_s, 2),
            "goal_entries_per_s": 10_000,
            "goal_met": total / analysis_s >= 10_000,
        }
        record(f"risk_analysis_{engine.dialect.name}_{mix}", figures)
        # Every fact analysed; the 10,000/s goal is reported (it moves 2-3x with
        # the other jobs on the shared machine, docs/risk.md), not asserted.
        assert facts > 0 and alerts > 0, figures


def _fill_events(engine: Engine, rows: int) -> None:
    rng = random.Random(3)
    t0 = int(T0.timestamp() * 1000) - 30 * 86_400_000
    ctx = '{"context":{}}'
    chunk: list[tuple[object, ...]] = []
    with engine.begin() as conn:
        for i in range(rows):
            tid = f"T{i % TERMINALS:02d}"
            card = f"tok-{rng.randrange(20 if rng.random() < 0.1 else 300_000)}"
            chunk.append((tid, i // TERMINALS + 1, f"S{i % TERMINALS % STORES:03d}",
                          t0 + i * 2_500, "sale", "approved", int(rng.lognormvariate(8.5, 0.9)),
                          "CNY", "card", card, "", f"c{rng.randrange(60)}", 0, "allow", ctx))  # fmt: skip
            if len(chunk) == 50_000:
                bulk_insert(conn, m.risk_events, FACT_COLUMNS, chunk)
                chunk.clear()
        bulk_insert(conn, m.risk_events, FACT_COLUMNS, chunk)


def test_a_backtest_over_a_million_stored_entries_takes_under_30_s(
    engines: list[Engine], record: Any
) -> None:
    rule = (
        '[[rule]]\nid = "card-burst"\n'
        "when = 'card.present && velocity.card.count_1h >= 3 && amount > 20000'\n"
        'action = "review"\nstep_up = "manager_pin"\npriority = 600\n'
        'reason_zh = "此卡一小时内多次付款"\nreason_en = "This card paid often within an hour"\n'
    )
    for engine in engines:
        _fill_events(engine, BACKTEST_ROWS)
        t = time.perf_counter()
        with engine.connect() as conn:
            scanned = sum(1 for _ in conn.execution_options(stream_results=True, yield_per=20_000)
                          .execute(select(m.risk_events).order_by(
                              m.risk_events.c.terminal_id, m.risk_events.c.at_ms,
                              m.risk_events.c.seq)))  # fmt: skip
        scan_s = time.perf_counter() - t
        report = run_backtest(engine, rule, "card-burst")
        figures = {
            "database": engine.dialect.name,
            "rows": scanned,
            "events_evaluated": report.events,
            "hits": report.hits,
            "changed": report.changed,
            "backtest_seconds": round(report.seconds, 1),
            "scan_only_seconds": round(scan_s, 1),
            "backtest_over_scan": round(report.seconds / scan_s, 1),
            "goal_seconds": 30,
            "goal_met": report.seconds <= 30,
            "workers": os.cpu_count(),
        }
        record(f"risk_backtest_{engine.dialect.name}", figures)
        # The 30 s goal is reported, not asserted: on the shared 2-core machine
        # the wall-clock figure moves 2-3x with the other jobs (docs/risk.md).
        assert report.events == BACKTEST_ROWS and report.hits > 0, figures
