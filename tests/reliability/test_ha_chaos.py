"""Redundancy, on this machine: 3 terminals selling, 2 server processes on a
PostgreSQL primary with a synchronous standby (pg_auto_failover: monitor and
two nodes). A server process is SIGKILLed while terminals upload, then the
primary database node (keeper and Postgres at once) while they upload: the
standby is promoted, the servers reconnect through their multi-host URL,
the terminals keep selling and fail over to the other server, and at the end
the server holds each terminal's journal exactly (lost 0, duplicated 0,
unexpected 0), every entry acknowledged before the failover included."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pos.catalog import parse_catalog_csv
from pos.clock import SystemClock
from pos.services.catalog_import import import_products
from pos.store.terminal import provision
from sync.client import enroll
from sync.server import enrolment
from sync.server import models as m
from tests.reliability import auto_failover
from tests.sync.conftest import ServerProcess
from tests.sync.test_faults import _server_truth, _terminal_truth

ROOT = Path(__file__).resolve().parents[2]
# Each terminal sells at least this many, and on until the run has seen both failovers.
SALES = int(os.environ.get("POS_HA_SALES", "100"))
TERMINALS = 3

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(400)]


@pytest.fixture
def cluster() -> Iterator[auto_failover.AutoFailoverCluster]:
    why = auto_failover.missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    c = auto_failover.AutoFailoverCluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()


def _provision(base: Path, urls: list[str], server: ServerProcess) -> list[Path]:
    products = parse_catalog_csv((ROOT / "assets" / "demo_catalog.csv").read_text(), "CNY")
    dirs = []
    for i in range(TERMINALS):
        d = base / f"T-{i + 1}"
        t = provision(d, "demo", "S001", f"T-{i + 1}", SystemClock())
        import_products(t.db, t.journal, t.clock, products, replace=True, source="demo")
        enroll(t, urls, enrolment.create_code(server.engine, SystemClock(), "S001"))
        t.close()
        dirs.append(d)
    return dirs


def _acked(d: Path) -> int:
    try:
        return int((d / "acked").read_text() or 0)
    except (OSError, ValueError):
        return 0


def _wait(check: Callable[[], bool], what: str, procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 200  # a loaded 2-core machine is slow to catch up
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        assert all(p.poll() in (None, 0) for p in procs), "a terminal process failed"
        time.sleep(0.1)


def test_terminals_keep_selling_through_a_lost_server_and_a_lost_primary_and_nothing_is_lost(
    tmp_path: Path, cluster: auto_failover.AutoFailoverCluster
) -> None:
    started = time.monotonic()
    url = cluster.url()
    a = ServerProcess(tmp_path / "a", url).start()
    b = ServerProcess(tmp_path / "b", url).start()
    procs: list[subprocess.Popen[str]] = []
    try:
        dirs = _provision(tmp_path, [a.url, b.url], a)
        err = open(tmp_path / "terminals.err", "a")  # noqa: SIM115
        procs = [
            subprocess.Popen(
                [sys.executable, str(ROOT / "tests/reliability/ha_terminal.py"), str(d), str(SALES), str(i)],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                cwd=ROOT,
            )
            for i, d in enumerate(dirs)
        ]  # fmt: skip
        _wait(lambda: all(_acked(d) >= 40 for d in dirs), "every terminal synced", procs)

        # A server process lost while terminals upload to it.
        assert a.proc is not None
        a.proc.kill()
        a.proc.wait(10)
        at_kill = {d: _acked(d) for d in dirs}
        _wait(
            lambda: all(_acked(d) >= at_kill[d] + 40 for d in dirs),
            "every terminal synced through the other server",
            procs,
        )

        # The primary database node lost while terminals upload.
        before = {d: _acked(d) for d in dirs}
        old = cluster.primary()
        assert old is not None
        cluster.kill(old)
        new = cluster.wait_promoted(old)
        promoted_at = time.monotonic()
        _wait(
            lambda: all(_acked(d) >= before[d] + 40 for d in dirs),
            "every terminal synced through the new primary",
            procs,
        )
        for d in dirs:
            (d / "stop").touch()
        _wait(lambda: all(p.poll() is not None for p in procs), "every terminal finished", procs)
        outs = [p.communicate()[0] for p in procs]
        assert all(p.returncode == 0 for p in procs), (tmp_path / "terminals.err").read_text()[
            -3000:
        ]
        assert all(o.strip().endswith(f"DONE {b.url}") for o in outs), outs

        lost = duplicated = unexpected = 0
        for d in dirs:
            chain, sums, paid = _terminal_truth(d)
            server_chain, server_sums = _server_truth(b, d.name)
            assert paid >= SALES
            lost += len(set(chain) - set(server_chain))
            unexpected += len(set(server_chain) - set(chain))
            duplicated += len(server_chain) - len(set(server_chain))
            assert server_chain == chain, d.name
            assert server_sums == sums, d.name
            # what the server acknowledged before the failover is on the new primary
            assert [e for e in server_chain if e[0] <= before[d]] == chain[: before[d]]
            assert before[d] > at_kill[d] >= 40
        assert (lost, duplicated, unexpected) == (0, 0, 0)
        with b.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(m.alerts)).scalar_one() == 0
        print(
            f"\nHA run: {TERMINALS} terminals, {sum(_terminal_truth(d)[2] for d in dirs)} sales; "
            f"server killed, primary {old} "
            f"killed, {new} promoted; finished {time.monotonic() - promoted_at:.1f} s after the "
            f"promotion, {time.monotonic() - started:.0f} s in all; lost 0, duplicated 0, "
            "unexpected 0"
        )
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        a.stop()
        b.stop()
