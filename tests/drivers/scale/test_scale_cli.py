"""`pos scale emulate` in its own process and `pos scale read` against it, as
a person would run them in two terminals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.cli.main import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def emulator() -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pos.cli.main", "--json", "scale", "emulate", "--grams", "1250",
         "--interactive"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "POS_LANG": "en"},
    )  # fmt: skip
    assert proc.stdout is not None
    lines = []
    while not lines or lines[-1].strip() != "}":
        lines.append(proc.stdout.readline())
        assert lines[-1], "the emulator ended before printing its port"
    port = json.loads("".join(lines))["port"]
    yield proc, port
    proc.kill()
    proc.wait(timeout=5)


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The assertions read the English texts."""
    monkeypatch.setenv("POS_LANG", "en")


def _read(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--json", "--lang", "en", "scale", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_pos_scale_read_prints_the_emulated_weight_in_grams(
    emulator: tuple[subprocess.Popen[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, port = emulator
    code, out, _ = _read(capsys, "read", "--port", port)
    assert code == 0
    assert json.loads(out) == {"grams": 1250, "kg": "1.250", "state": "stable", "stable": True}


def _type(proc: subprocess.Popen[str], line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def test_overload_exits_with_the_instruction_and_a_new_weight_is_read_once_it_settles(
    emulator: tuple[subprocess.Popen[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    proc, port = emulator
    _type(proc, "over")
    code, out, _ = _read(capsys, "read", "--port", port, "--now")
    assert code == 0 and json.loads(out)["state"] == "overload"
    code, out, _ = _read(capsys, "read", "--port", port)
    assert code == 1
    assert "over its capacity" in json.loads(out)["error"]
    _type(proc, "2345")  # placed in motion: read waits for it to settle
    code, out, _ = _read(capsys, "read", "--port", port)
    assert code == 0 and json.loads(out)["grams"] == 2345


def test_read_without_a_port_says_how_to_name_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POS_SCALE", raising=False)
    code, out, _ = _read(capsys, "read")
    assert code == 2
    assert "--port" in json.loads(out)["error"]


def test_zero_with_a_load_exits_1_saying_to_empty_the_platter(
    emulator: tuple[subprocess.Popen[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, port = emulator
    code, out, _ = _read(capsys, "zero", "--port", port)
    assert code == 1
    assert json.loads(out)["at_zero"] is False
    assert "Take everything off" in json.loads(out)["error"]
