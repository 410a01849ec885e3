"""The demo's central server: the sync server (ASGI on uvicorn) on 127.0.0.1,
in a thread, with its own SQLite database in the demo data dir; the terminal
enrols with a one-time code, so the till starts its sync worker (as on any
enrolled terminal), which pushes the journal and pulls configuration while
the demo runs."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pos.clock import SystemClock
from pos.flows.text import Said
from pos.messages import msg
from pos.store.terminal import Terminal

log = logging.getLogger(__name__)


@dataclass
class SyncDemo:
    url: str = ""
    why_not: Said | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)


def start_sync_demo(terminal: Terminal, data_dir: Path) -> SyncDemo:
    try:
        import uvicorn

        from sync.client import enroll, enrolment
        from sync.server import db, keys
        from sync.server import enrolment as codes
        from sync.server.app import ServerState, create_app
    except ImportError as exc:
        return SyncDemo(why_not=msg("demo.sync_not_installed", error=str(exc)))
    server_dir = data_dir / "central-server"
    server_dir.mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(f"sqlite:///{server_dir / 'server.db'}")
    db.upgrade(engine)
    state = ServerState(engine=engine, key=keys.load_or_create(server_dir / "server.key"))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(state), log_level="warning"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="central-server"
    )
    thread.start()
    while not server.started and thread.is_alive():
        thread.join(0.01)

    def stop_server() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()
        engine.dispose()

    if enrolment(terminal) is None:
        enroll(terminal, url, codes.create_code(engine, SystemClock(), terminal.store_id))

    return SyncDemo(url, None, [stop_server])
