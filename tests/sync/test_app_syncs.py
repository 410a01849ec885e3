"""`pos app` on an enrolled terminal pushes its journal by itself: the till
starts the sync worker, whose first push runs as the app opens."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pos.clock import SystemClock
from pos.store import outbox
from pos.store.terminal import open_terminal
from sync.client import enroll
from sync.server import enrolment
from tests.sync.conftest import ROOT, make_terminal, sell

pytest.importorskip("PySide6")


def _backlog(data_dir: Path) -> int:
    with open_terminal(data_dir, SystemClock()) as t, t.db.read() as conn:
        return outbox.backlog(conn)


def test_pos_app_on_an_enrolled_terminal_pushes_its_backlog_within_ten_seconds(
    tmp_path: Path, server_process: Any
) -> None:
    server = server_process(tmp_path / "server", f"sqlite:///{tmp_path / 'server.db'}")
    services = make_terminal(tmp_path)
    data_dir = services.terminal.data_dir
    enroll(
        services.terminal,
        server.url,
        enrolment.create_code(server.engine, SystemClock(), "S001"),
    )
    sell(services, 8)
    services.close()
    assert _backlog(data_dir) >= 16
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "POS_LANG": "en"}
    started = time.monotonic()
    app = subprocess.Popen(
        [sys.executable, "-m", "pos.cli.main", "--data-dir", str(data_dir), "app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        left = _backlog(data_dir)
        while left and time.monotonic() - started < 10:
            assert app.poll() is None, app.stderr.read() if app.stderr else ""
            time.sleep(0.2)
            left = _backlog(data_dir)
        assert left == 0, f"{left} entries still to push after 10 s"
    finally:
        app.terminate()
        app.wait(10)
