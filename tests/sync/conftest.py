"""Sync test parts, shared through fixtures (tests are imported by path): a
real server (uvicorn on 127.0.0.1 port 0, in a thread
or as its own process), terminals that sell through the real checkout, and
PostgreSQL when scripts/pg-test.sh has started one (POS_TEST_PG_URL)."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine, create_engine, text

from pos.catalog import Product, parse_catalog_csv
from pos.clock import Clock, SystemClock
from pos.money import Money
from pos.services.catalog_import import import_products
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision
from sync.server import db, enrolment
from sync.server.app import ServerState, create_app
from sync.server.identity import SECRET_ENV, DatabaseIdentity

ROOT = Path(__file__).resolve().parents[2]
# The key-encryption secret every test server on one database shares.
TEST_KEY_SECRET = b"test-only-key-secret-0123456789abcdef"


def demo_products() -> list[Product]:
    return parse_catalog_csv((ROOT / "assets" / "demo_catalog.csv").read_text("utf-8"), "CNY")


class ThreadServer:
    """The ASGI app on uvicorn in a thread: real HTTP on loopback, with an
    injectable clock for freshness tests."""

    def __init__(
        self,
        engine: Engine,
        key_path: Path,
        clock: Clock,
        admin_token: str | None = None,
        port: int = 0,
    ):
        db.upgrade(engine)
        self.engine = engine
        self.clock = clock
        identity = DatabaseIdentity.load_or_create(engine, TEST_KEY_SECRET, clock)
        self.state = ServerState(
            engine=engine, identity=identity, clock=clock, admin_token=admin_token
        )
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.key_path = key_path
        config = uvicorn.Config(create_app(self.state), log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        while not self.server.started:
            self.thread.join(0.01)

    def code(self, store_id: str = "S001") -> str:
        return enrolment.create_code(self.engine, SystemClock(), store_id)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.should_exit = True
            self.thread.join(10)
            self.sock.close()

    def restart(self) -> ThreadServer:
        """The same server (database, key, port) started again."""
        self.stop()
        return ThreadServer(
            self.engine, self.key_path, self.clock, self.state.admin_token, self.port
        )


class ServerProcess:
    """`pos-server serve` as its own process, killable and restartable on its port."""

    def __init__(
        self,
        data_dir: Path,
        db_url: str,
        extra: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.env = {**os.environ, SECRET_ENV: TEST_KEY_SECRET.decode(), **(env or {})}
        self.data_dir = data_dir
        self.db_url = db_url
        self.extra = extra
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.kills = 0
        self.engine = db.make_engine(db_url)
        db.upgrade(self.engine)

    def start(self) -> ServerProcess:
        cmd = [
            sys.executable,
            "-m",
            "sync.server.main",
            "--db",
            self.db_url,
            "--data-dir",
            str(self.data_dir),
            "serve",
            "--port",
            str(self.port),
            "--no-migrate",
            *self.extra,
        ]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Killed outright, its worker pool's tracker complains on stderr: keep that aside.
        err = open(self.data_dir / "server.err", "a")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=err, text=True, cwd=ROOT, env=self.env
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        m = re.search(r"listening on (http\S+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r}")
        self.url = m.group(1)
        self.port = int(self.url.rsplit(":", 1)[1])
        wait_port(self.port)
        return self

    def kill_and_restart(self) -> None:
        """SIGKILL, whatever it is doing, then start again on the same port."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.kills += 1
        self.start()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
        self.engine.dispose()


class FaultProxy:
    """Debian's mitmproxy (`mitmdump`) as a reverse proxy in front of `upstream_port`,
    injecting the faults of faults_addon.py."""

    ADDON = Path(__file__).with_name("faults_addon.py")

    def __init__(self, upstream_port: int, workdir: Path, seed: int) -> None:
        exe = shutil.which("mitmdump")
        assert exe is not None
        self.port = free_port()
        self.log = workdir / "faults.jsonl"
        cmd = [
            exe,
            "--mode",
            f"reverse:http://127.0.0.1:{upstream_port}",
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(self.port),
            "--set",
            f"confdir={workdir / 'mitm'}",
            "-s",
            str(self.ADDON),
            "--set",
            f"fault_seed={seed}",
            "--set",
            f"fault_log={self.log}",
            "-q",
        ]
        err = open(workdir / "mitm.err", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        wait_port(self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    @classmethod
    def kinds(cls) -> set[str]:
        """The fault kinds the addon knows (read from its source: it imports mitmproxy)."""
        tree = ast.parse(cls.ADDON.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "KINDS":
                return set(ast.literal_eval(node.value))
        raise AssertionError("faults_addon.py has no KINDS")

    def counts(self) -> Counter[str]:
        if not self.log.exists():
            return Counter()
        return Counter(json.loads(line)["fault"] for line in self.log.read_text().splitlines())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int) -> None:
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server port never opened")


def pg_url() -> str | None:
    return os.environ.get("POS_TEST_PG_URL")


def fresh_pg_database() -> str:
    """A new, empty database on the test cluster; its URL."""
    base = pg_url()
    assert base is not None
    name = f"pos_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def make_terminal(base: Path, terminal_id: str = "T-1", store_id: str = "S001") -> TerminalServices:
    terminal = provision(base / terminal_id, "demo", store_id, terminal_id, SystemClock())
    services = TerminalServices.wrap(terminal)
    import_products(
        terminal.db, terminal.journal, terminal.clock, demo_products(), replace=True, source="demo"
    )
    return services


def sell(services: TerminalServices, n: int, seed: int = 0) -> int:
    """Ring up `n` cash sales of one to three items; the money taken, in minor units."""
    import random

    rng = random.Random(seed)
    products = [p for p in demo_products() if not p.sold_by_weight and p.active]
    taken = 0
    for _ in range(n):
        order = services.checkout.new_order("cashier-1")
        for p in rng.sample(products, rng.randint(1, 3)):
            services.checkout.scan(order.order_id, p.barcodes[0])
        due = services.checkout.get(order.order_id).order.remaining
        services.checkout.pay_cash(order.order_id, due + Money(rng.choice([0, 50, 1000])))
        taken += due.minor
    return taken


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.db'}"
    if not pg_url():
        if os.environ.get("CI"):
            pytest.fail("POS_TEST_PG_URL is not set: scripts/test.sh starts PostgreSQL for CI")
        pytest.skip("no PostgreSQL: run through scripts/test.sh (scripts/pg-test.sh starts one)")
    return fresh_pg_database()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadServer]:
    s = ThreadServer(
        db.make_engine(f"sqlite:///{tmp_path / 'server.db'}"),
        tmp_path / "key.pem",
        SystemClock(),
        admin_token="admin-secret",
    )
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[TerminalServices]:
    services = make_terminal(tmp_path)
    try:
        yield services
    finally:
        services.close()


@pytest.fixture
def new_shop(tmp_path: Path) -> Iterator[Callable[..., TerminalServices]]:
    """A factory of terminals with the demo catalog, closed afterwards."""
    made: list[TerminalServices] = []

    def make(terminal_id: str = "T-1", store_id: str = "S001") -> TerminalServices:
        made.append(make_terminal(tmp_path, terminal_id, store_id))
        return made[-1]

    yield make
    for s in made:
        s.close()


@pytest.fixture
def ring_up() -> Callable[[TerminalServices, int], int]:
    return sell


@pytest.fixture
def server_on() -> Iterator[Callable[[str, Path], ThreadServer]]:
    """A factory of in-thread servers on a given database URL."""
    made: list[ThreadServer] = []

    def make(url: str, key_dir: Path, clock: Clock | None = None) -> ThreadServer:
        made.append(
            ThreadServer(
                db.make_engine(url), key_dir / "key.pem", clock or SystemClock(), "admin-secret"
            )
        )
        return made[-1]

    yield make
    for s in made:
        s.stop()


@pytest.fixture
def server_process() -> Iterator[Callable[[Path, str], ServerProcess]]:
    made: list[ServerProcess] = []

    def make(data_dir: Path, url: str, *extra: str) -> ServerProcess:
        made.append(ServerProcess(data_dir, url, extra).start())
        return made[-1]

    yield make
    for s in made:
        s.stop()


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[int, Path, int], FaultProxy]]:
    made: list[FaultProxy] = []

    def make(upstream_port: int, workdir: Path, seed: int) -> FaultProxy:
        if shutil.which("mitmdump") is None:
            if os.environ.get("CI"):
                pytest.fail("mitmdump is missing: scripts/install.sh installs Debian's mitmproxy")
            pytest.skip("needs Debian's mitmproxy (mitmdump)")
        made.append(FaultProxy(upstream_port, workdir, seed))
        return made[-1]

    yield make
    for p in made:
        p.stop()
