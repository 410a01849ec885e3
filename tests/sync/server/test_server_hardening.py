"""The server against abuse and breakage, as a real process: an oversized
body is refused while it is read (memory stays flat), a refused request
spends its nonce, and a killed verification worker costs no upload."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pos.clock import SystemClock
from sync.protocol import RequestSigner
from sync.server import models as m
from sync.server.verify import PARALLEL_FROM
from sync.transport import ServerRefused
from tests.sync.device import Device

GIB = 1024 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)


def _rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _post_gib(port: int, chunked: bool) -> tuple[bytes, int]:
    """Streams 1 GiB of body that no terminal signed to /v1/journal; the
    server's answer and how many bytes went out before it stopped reading.
    Chunked, the body's size is unknown until read, and it carries signature
    headers (made up), so the server must read it to judge it."""
    sock = socket.create_connection(("127.0.0.1", port), 10)
    head = "POST /v1/journal HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    if chunked:
        head += 'Signature-Input: pos=("@method");keyid="T-1"\r\nSignature: pos=:AAAA:\r\n'
        head += "Transfer-Encoding: chunked\r\n\r\n"
    else:
        head += f"Content-Length: {GIB}\r\n\r\n"
    sent = 0

    def stream() -> None:
        nonlocal sent
        try:
            sock.sendall(head.encode())
            while sent < GIB:
                if chunked:
                    sock.sendall(b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n")
                else:
                    sock.sendall(CHUNK)
                sent += len(CHUNK)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection after answering: expected

    sender = threading.Thread(target=stream, daemon=True)
    sender.start()
    answer = b""
    sock.settimeout(60)
    try:
        while b"\r\n\r\n" not in answer:
            part = sock.recv(65536)
            if not part:
                break
            answer += part
        answer += sock.recv(65536)
    except OSError:
        pass  # reset after the answer: what was read is judged below
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        sender.join(30)
    return answer, sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_gigabyte_post_is_refused_413_while_read_without_the_server_growing(
    tmp_path: Path, server_process: Callable[..., Any], chunked: bool
) -> None:
    srv = server_process(tmp_path / "srv", f"sqlite:///{tmp_path / 'server.db'}")
    assert srv.proc is not None
    pid = srv.proc.pid
    before = _rss_kib(pid)
    answer, sent = _post_gib(srv.port, chunked)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"too-large"' in answer
    assert sent < GIB  # the server stopped reading long before the end
    grown_mib = (_rss_kib(pid, "VmHWM") - before) / 1024
    assert grown_mib < 50, f"the server grew {grown_mib:.0f} MiB"
    # and it still serves
    d = Device(srv)
    assert d.upload(d.make(3)).hwm == 3


def test_a_refused_request_sent_again_is_a_replay_not_another_alert(
    tmp_path: Path, server_on: Callable[..., Any]
) -> None:
    srv = server_on(f"sqlite:///{tmp_path / 'server.db'}", tmp_path)
    d = Device(srv)
    d.upload(d.make(2))
    d.make(1)  # seq 3 is never sent: a batch of 4.. leaves a gap
    gap = d.make(2)
    import json

    from sync.schemas import WireEntry

    body = json.dumps(
        {"terminal_id": d.id, "entries": [WireEntry.of(r).model_dump() for r in gap]}
    ).encode()
    url = srv.url + "/v1/journal"
    headers = RequestSigner(d.id, d.key, SystemClock()).headers("POST", url, body)
    import httpx

    answers = [
        httpx.post(url, content=body, headers={**headers, "Content-Type": "application/json"})
        for _ in range(20)
    ]
    assert (answers[0].status_code, answers[0].json()["error"]) == (409, "gap")
    assert {(a.status_code, a.json()["error"]) for a in answers[1:]} == {(401, "replay")}
    with srv.engine.connect() as conn:
        kinds = [r.kind for r in conn.execute(select(m.alerts))]
    assert kinds == ["gap"]


def _pool_workers(server_pid: int) -> list[int]:
    """The server's verification workers: its children running multiprocessing's spawn."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == server_pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the pool is used with two cores or more")
def test_a_killed_verification_worker_costs_no_upload(
    tmp_path: Path, server_process: Callable[..., Any]
) -> None:
    srv = server_process(tmp_path / "srv", f"sqlite:///{tmp_path / 'server.db'}")
    assert srv.proc is not None
    d = Device(srv)
    assert d.upload(d.make(PARALLEL_FROM + 100)).hwm == PARALLEL_FROM + 100
    workers = _pool_workers(srv.proc.pid)
    assert workers, "the server runs no verification workers"
    os.kill(workers[0], signal.SIGKILL)
    time.sleep(0.2)
    for round_ in range(3):
        try:
            ack = d.upload(d.make(PARALLEL_FROM + 100))
        except ServerRefused as exc:  # pragma: no cover - the failure being tested for
            pytest.fail(f"upload {round_} after a worker was killed: {exc}")
        assert ack.hwm == (round_ + 2) * (PARALLEL_FROM + 100)
    # the pool was replaced, not abandoned: large batches are checked in workers again
    assert _pool_workers(srv.proc.pid)
