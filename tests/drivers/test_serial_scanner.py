"""A serial scanner on a real serial line (a pseudo-terminal)."""

from __future__ import annotations

import contextlib
import os
import queue
import tty

import pytest

from drivers.scanner import LineSplitter, SerialScanner, decode_code
from pos.errors import InvalidInput


@pytest.fixture
def line():
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(slave)
    with contextlib.suppress(OSError):
        os.close(master)


def test_codes_come_through_whatever_the_line_ending_and_chunking(line) -> None:
    master, path = line
    scans: queue.Queue[str] = queue.Queue()
    ready: queue.Queue[str] = queue.Queue()
    with SerialScanner(path, scans.put, baudrate=115200, on_status=ready.put):
        assert ready.get(timeout=5) == "connected"  # opening a port flushes its input
        os.write(master, b"6901234000016\r")
        os.write(master, b"69012340")
        os.write(master, b"00023\r\n")
        os.write(master, b"POS-R:T01:RT01-20260302-0001\n\n")
        got = [scans.get(timeout=5) for _ in range(3)]
    assert got == ["6901234000016", "6901234000023", "POS-R:T01:RT01-20260302-0001"]


def test_a_garbled_read_is_reported_and_scanning_goes_on(line) -> None:
    master, path = line
    scans: queue.Queue[str] = queue.Queue()
    errors: queue.Queue[InvalidInput] = queue.Queue()
    ready: queue.Queue[str] = queue.Queue()
    with SerialScanner(path, scans.put, on_error=errors.put, on_status=ready.put):
        assert ready.get(timeout=5) == "connected"
        os.write(master, b"\xff\xfe\x01\r\n4006381333931\r\n")
        assert "unreadable bytes" in errors.get(timeout=5).message
        assert scans.get(timeout=5) == "4006381333931"


def test_a_missing_port_is_reported_and_retried(tmp_path) -> None:
    statuses: queue.Queue[str] = queue.Queue()
    with SerialScanner(
        str(tmp_path / "ttyUSB9"), print, on_status=statuses.put, retry_delays=(0.01,)
    ):
        first, second = statuses.get(timeout=5), statuses.get(timeout=5)
    assert first.startswith("disconnected") and second.startswith("disconnected")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [(b"\x1b[A", "control characters"), (b"9" * 600, "overlong"), (b"\xc3", "unreadable")],
)
def test_lines_that_are_not_codes_are_refused(raw: bytes, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        decode_code(raw)


def test_a_line_that_never_ends_is_handed_on_rather_than_kept() -> None:
    split = LineSplitter()
    assert split.feed(b"1" * 400) == []
    [long] = split.feed(b"1" * 200)
    assert len(long) == 600
