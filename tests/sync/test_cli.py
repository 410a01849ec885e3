"""`pos enroll`, `pos sync --once` and `pos sync status`, as a manager types them."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from pos.cli.context import CliContext
from pos.errors import PosError
from pos.services.terminal_services import TerminalServices
from sync import cli


def run(data_dir: Path, *argv: str) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="pos")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    args = parser.parse_args(list(argv))
    out = io.StringIO()
    ctx = CliContext(data_dir=data_dir, as_json=True, out=out, err=io.StringIO())
    assert args.func(args, ctx) == 0
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def test_enrol_sync_once_and_status_from_the_command_line(
    shop: TerminalServices, server: Any, ring_up: Any
) -> None:
    data_dir = shop.terminal.data_dir
    ring_up(shop, 4)
    enrolled = run(data_dir, "enroll", "--server", server.url, "--code", server.code())
    assert enrolled["terminal_id"] == "T-1" and len(enrolled["server_key"]) == 64
    before = run(data_dir, "sync", "status")
    assert before["enrolled"] and before["backlog"] > 0
    synced = run(data_dir, "sync", "--once")
    assert synced["sent"] == before["backlog"]
    after = run(data_dir, "sync", "status")
    assert after["backlog"] == 0 and after["online"]
    assert after["server_hwm"] == synced["acknowledged_up_to"]


def test_sync_once_against_a_dead_server_says_nothing_is_lost(
    shop: TerminalServices, server: Any
) -> None:
    run(shop.terminal.data_dir, "enroll", "--server", server.url, "--code", server.code())
    server.stop()
    with pytest.raises(PosError) as exc:
        run(shop.terminal.data_dir, "sync", "--once", "--timeout", "2")
    assert "nothing is lost" in exc.value.remedy
