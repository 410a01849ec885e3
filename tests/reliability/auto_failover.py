"""A PostgreSQL primary with a synchronous standby and automatic failover on
this machine, by Debian's pg_auto_failover (`pg_autoctl`): a monitor and two
nodes, each its own process group (so a node can be killed outright), run as
the postgres user (PostgreSQL refuses root), on ports from port 0.

The monitor's health checks are tightened (1 s period, 3 s to unhealthy)
so a failover takes seconds, not the default half minute."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), Path("/nonexistent"))

MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": "'1s'",
    "pgautofailover.health_check_timeout": "'1s'",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "'1s'",
    "pgautofailover.node_considered_unhealthy_timeout": "'3s'",
    "pgautofailover.primary_demote_timeout": "'5s'",
}


def missing() -> str | None:
    """Why the cluster cannot run here, or None."""
    if shutil.which("pg_autoctl") is None:
        return (
            "pg_auto_failover is not installed (scripts/install.sh installs pg-auto-failover-cli)"
        )
    if not (PG_BIN / "postgres").exists():
        return "PostgreSQL is not installed (scripts/install.sh installs postgresql)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AutoFailoverCluster:
    def __init__(self, dbname: str = "pos") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pos-pgaf-"))
        self.root = os.geteuid() == 0
        if self.root:
            shutil.chown(self.dir, "postgres", "postgres")
        self.dbname = dbname
        self.ports = {"monitor": _free_port(), "n1": _free_port(), "n2": _free_port()}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **os.environ,
            "PATH": f"{PG_BIN}:{os.environ['PATH']}",
            "XDG_CONFIG_HOME": str(self.dir / "config"),
            "XDG_DATA_HOME": str(self.dir / "share"),
            "HOME": str(self.dir),
        }

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if self.root else list(args)

    def _autoctl(self, *args: str, timeout: float = 120) -> str:
        out = subprocess.run(
            self._cmd("pg_autoctl", *args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.dir,
        )
        if out.returncode != 0:
            raise RuntimeError(f"pg_autoctl {' '.join(args)}: {out.stderr[-2000:]}")
        return out.stdout

    def psql(self, port: int, sql: str, db: str | None = None) -> str:
        out = subprocess.run(
            self._cmd(
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-d",
                db or self.dbname,
                "-AtX",
                "-c",
                sql,
            ),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip())
        return out.stdout.strip()

    def _run(self, name: str) -> None:
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(
            self._cmd("pg_autoctl", "run", "--pgdata", str(self.dir / name)),
            env=self.env,
            stdout=log,
            stderr=log,
            cwd=self.dir,
            start_new_session=True,  # its own group: a kill takes Postgres with it
        )

    @property
    def monitor_uri(self) -> str:
        port = self.ports["monitor"]
        return f"postgres://autoctl_node@127.0.0.1:{port}/pg_auto_failover?sslmode=disable"

    def start(self, timeout: float = 90) -> None:
        self._autoctl(
            "create", "monitor", "--pgdata", str(self.dir / "monitor"),
            "--pgport", str(self.ports["monitor"]), "--hostname", "127.0.0.1",
            "--auth", "trust", "--no-ssl",
        )  # fmt: skip
        self._run("monitor")
        self._wait(lambda: self.psql(self.ports["monitor"], "select 1", "pg_auto_failover"), 30)
        for key, value in MONITOR_SETTINGS.items():
            self.psql(
                self.ports["monitor"], f"ALTER SYSTEM SET {key} = {value}", "pg_auto_failover"
            )
        self.psql(self.ports["monitor"], "SELECT pg_reload_conf()", "pg_auto_failover")
        for name in ("n1", "n2"):
            self._autoctl(
                "create", "postgres", "--pgdata", str(self.dir / name),
                "--pgport", str(self.ports[name]), "--hostname", "127.0.0.1",
                "--monitor", self.monitor_uri, "--auth", "trust", "--no-ssl",
                "--dbname", self.dbname, "--name", name,
            )  # fmt: skip
            self._run(name)
            self._wait(
                lambda node=name: self._states().get(node) in ("single", "secondary"), timeout
            )
        self._wait(self.synchronous, timeout)

    def _states(self) -> dict[str, str]:
        """Each node's reported state, from the monitor."""
        try:
            text = self.psql(
                self.ports["monitor"],
                "SELECT nodename, reportedstate FROM pgautofailover.node",
                "pg_auto_failover",
            )
        except (RuntimeError, subprocess.TimeoutExpired):
            return {}
        return dict(line.split("|", 1) for line in text.splitlines() if "|" in line)

    def primary(self) -> str | None:
        for name in ("n1", "n2"):
            if name not in self.procs or self.procs[name].poll() is not None:
                continue
            try:
                if self.psql(self.ports[name], "SELECT pg_is_in_recovery()") == "f":
                    return name
            except (RuntimeError, subprocess.TimeoutExpired):
                continue
        return None

    def synchronous(self) -> bool:
        """A primary and a standby it waits for at commit."""
        states = self._states()
        primary = self.primary()
        if primary is None or sorted(states.values()) != ["primary", "secondary"]:
            return False
        names = self.psql(self.ports[primary], "SHOW synchronous_standby_names")
        return names.startswith("ANY 1") or names.startswith("FIRST") or names == "*"

    def url(self, driver: str = "postgresql+psycopg") -> str:
        """A multi-host URL that finds whichever node is the primary."""
        hosts = "&".join(f"host=127.0.0.1:{self.ports[n]}" for n in ("n1", "n2"))
        return f"{driver}://postgres@/{self.dbname}?{hosts}&target_session_attrs=read-write"

    def kill(self, name: str) -> None:
        """The node's keeper and its Postgres, SIGKILLed at once (a machine lost)."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        pid_file = self.dir / name / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)

    def wait_promoted(self, old: str, timeout: float = 60) -> str:
        def promoted() -> str | None:
            now = self.primary()
            return now if now and now != old else None

        return self._wait(promoted, timeout)

    @staticmethod
    def _wait(check, timeout: float):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                found = check()
                if found:
                    return found
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                last = exc
            time.sleep(0.3)
        raise TimeoutError(f"pg_auto_failover: {check} did not happen in {timeout} s ({last})")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        # Postgres processes outlive a killed keeper's group only if they were
        # re-parented; their pid files say who is left.
        for name in ("monitor", "n1", "n2"):
            pid_file = self.dir / name / "postmaster.pid"
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError, ValueError, OSError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
