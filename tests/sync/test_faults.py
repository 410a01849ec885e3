"""Exactly once under faults: 5 terminals x 2,000 sales, each terminal its
own process syncing through mitmproxy (Debian's `mitmdump`, driven by
faults_addon.py) that drops connections before and after the server
commits, delays, answers 5xx, truncates answers, duplicates and reorders
deliveries; the server is killed (SIGKILL) and restarted mid-batch, and
terminals are killed mid-push and started again. Afterwards the server's
entries and totals equal the terminals' exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pos.clock import SystemClock
from pos.store.journal import records
from pos.store.terminal import open_terminal
from sync.client import enroll
from sync.server import enrolment
from sync.server import models as m

HERE = Path(__file__).resolve().parent
TERMINALS = int(os.environ.get("POS_FAULT_TERMINALS", "5"))
SALES = int(os.environ.get("POS_FAULT_SALES", "2000"))

# A few minutes on 2 busy cores: more than the suite's per-test default.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def _provision(base: Path, n: int, proxy_url: str, server: Any) -> list[Path]:
    from pos.catalog import parse_catalog_csv
    from pos.services.catalog_import import import_products
    from pos.store.terminal import provision

    products = parse_catalog_csv(
        (HERE.parents[1] / "assets" / "demo_catalog.csv").read_text(), "CNY"
    )
    dirs = []
    for i in range(n):
        d = base / f"T-{i + 1}"
        t = provision(d, "demo", "S001", f"T-{i + 1}", SystemClock())
        import_products(t.db, t.journal, t.clock, products, replace=True, source="demo")
        code = enrolment.create_code(server.engine, SystemClock(), "S001")
        enroll(t, proxy_url, code)
        t.close()
        dirs.append(d)
    return dirs


def _terminal_proc(d: Path, seed: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "fault_terminal.py"), str(d), str(SALES), str(seed)],
        stdout=subprocess.PIPE,
        stderr=open(log, "a"),
        cwd=HERE.parents[1],
    )


def _terminal_truth(d: Path) -> tuple[list[tuple[int, str]], dict[str, int], int]:
    t = open_terminal(d, SystemClock())
    try:
        with t.db.read() as conn:
            chain = [(r.seq, r.hash) for r in records(conn)]
            sums = {
                row[0]: int(row[1])
                for row in conn.execute(
                    "SELECT channel, sum(CASE kind WHEN 'payment' THEN amount_minor "
                    "ELSE -amount_minor END) FROM tenders GROUP BY channel"
                )
            }
            paid = int(
                conn.execute("SELECT count(*) FROM orders WHERE state = 'paid'").fetchone()[0]
            )
    finally:
        t.close()
    return chain, sums, paid


def _server_truth(server: Any, terminal_id: str) -> tuple[list[tuple[int, str]], dict[str, int]]:
    with server.engine.connect() as conn:
        e = m.entries
        chain = [
            tuple(r)
            for r in conn.execute(
                select(e.c.seq, e.c.hash).where(e.c.terminal_id == terminal_id).order_by(e.c.seq)
            )
        ]
        s = m.settlement_lines
        sums = {
            r[0]: int(r[1])
            for r in conn.execute(
                select(s.c.channel, func.sum(s.c.amount_minor))
                .where(s.c.terminal_id == terminal_id)
                .group_by(s.c.channel)
            )
        }
    return chain, sums  # type: ignore[return-value]


def test_faults_leave_the_servers_entries_and_totals_equal_to_the_terminals(
    db_url: str, tmp_path: Path, server_process: Any, fault_proxy: Any
) -> None:
    rng = random.Random(6)
    server = server_process(tmp_path / "server", db_url)
    proxy = fault_proxy(server.port, tmp_path, rng.randrange(1 << 30))
    procs: dict[Path, subprocess.Popen[bytes]] = {}
    terminal_kills = 0
    try:
        dirs = _provision(tmp_path, TERMINALS, proxy.url, server)
        procs = {d: _terminal_proc(d, i, tmp_path / "terminals.err") for i, d in enumerate(dirs)}
        done: set[Path] = set()
        next_server_kill = time.monotonic() + 6
        deadline = time.monotonic() + 900
        while len(done) < len(dirs):
            assert time.monotonic() < deadline, "terminals did not finish"
            time.sleep(rng.uniform(0.5, 2.0))
            for d, p in procs.items():
                if d not in done and p.poll() is not None:
                    out = p.stdout.read() if p.stdout else b""
                    assert p.returncode == 0 and b"DONE" in out, (
                        tmp_path / "terminals.err"
                    ).read_text()[-3000:]
                    done.add(d)
            running = [d for d in dirs if d not in done]
            if running and rng.random() < 0.5:
                victim = rng.choice(running)
                procs[victim].kill()
                procs[victim].wait()
                terminal_kills += 1
                procs[victim] = _terminal_proc(
                    victim, rng.randrange(1000), tmp_path / "terminals.err"
                )
            if time.monotonic() > next_server_kill:
                server.kill_and_restart()
                next_server_kill = time.monotonic() + rng.uniform(4, 9)
        faults = proxy.counts()
        for d in dirs:
            chain, sums, paid = _terminal_truth(d)
            server_chain, server_sums = _server_truth(server, d.name)
            assert paid >= SALES
            missing = set(chain) - set(server_chain)
            unexpected = set(server_chain) - set(chain)
            assert (len(missing), len(unexpected)) == (0, 0), d.name
            assert server_chain == chain, d.name  # same entries, same order, none twice
            assert server_sums == sums, d.name
        with server.engine.connect() as conn:
            alerts = conn.execute(select(func.count()).select_from(m.alerts)).scalar_one()
        assert alerts == 0
        if SALES >= 1000:  # enough requests that every kind of fault occurs
            assert set(faults) == proxy.kinds(), faults
        assert server.kills >= 1 and terminal_kills >= 1
        print(
            f"\nfaults injected: {dict(faults)}; server killed {server.kills}x; "
            f"terminals killed {terminal_kills}x"
        )
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
