"""What a day at the counter writes besides cash sales, done through the
product's own command line (in-process, its real error boundary): sales paid
in cash, a refund and a void with a manager's approval, a wrong approval PIN,
a risk rule set installed and a list entry, the badge approval limit, the
day closed with a Z report, and a basket parked. The tamper matrix damages the rows these leave."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from pos.cli.main import main
from pos.clock import SystemClock
from pos.services.terminal_services import TerminalServices
from tests.pos.store.till_store import MANAGER_PIN, ROOT

CASHIER_PIN = "2580"


@contextlib.contextmanager
def _pins(cashier: str, approver: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("POS_CASHIER_PIN", "POS_APPROVER_PIN")}
    os.environ.update(POS_CASHIER_PIN=cashier, POS_APPROVER_PIN=approver)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def pos(data_dir: Path, *args: str, approver_pin: str = MANAGER_PIN) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    argv: Sequence[str] = ["--lang", "en", "--data-dir", str(data_dir), *args]
    with (
        _pins(CASHIER_PIN, approver_pin),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue() if "--json" in args else out.getvalue() + err.getvalue()


def _ok(data_dir: Path, *args: str, approver_pin: str = MANAGER_PIN) -> str:
    code, said = pos(data_dir, *args, approver_pin=approver_pin)
    assert code == 0, f"pos {' '.join(args)}: exit {code}: {said}"
    return said


def _sale(data_dir: Path, *items: str) -> str:
    said = _ok(
        data_dir,
        "--json",
        "sale",
        "--cashier",
        "c1",
        *(f"--item={i}" for i in items),
        "--pay",
        "cash:100",
    )
    doc = json.loads(said)
    return str(doc["receipt_no"])


def counter_day(data_dir: Path) -> None:
    """Everything but the Z report (the crash worker sells after this)."""
    refunded = _sale(data_dir, "DRK-001:2", "SNK-001")
    voided = _sale(data_dir, "DRK-002")
    _sale(data_dir, "SNK-010:2")
    _ok(
        data_dir,
        "refund",
        refunded,
        "--cashier",
        "c1",
        "--approver",
        "boss",
        "--item",
        "DRK-001:1",
        "--reason",
        "damaged",
    )
    code, _ = pos(
        data_dir, "void", voided, "--approver", "boss", "--reason", "x", approver_pin="0000"
    )
    assert code != 0  # a wrong PIN: refused, and journaled
    _ok(data_dir, "void", voided, "--approver", "boss", "--reason", "wrong item")
    _ok(data_dir, "risk", "rules", "install", str(ROOT / "assets" / "risk" / "default_rules.toml"))
    _ok(data_dir, "risk", "list", "add", "block", "bin", "622202", "--note", "test", "--by", "boss")
    _ok(data_dir, "badge", "limit", "500.00", "--approver", "boss")


def close_day(data_dir: Path) -> None:
    """The order a kill left open (perhaps part paid) is paid first: a day
    closes with none open."""
    for order in json.loads(_ok(data_dir, "--json", "order", "list", "--open"))["orders"]:
        oid = str(order["order_id"])
        code, _ = pos(data_dir, "order", "pay", oid, "--cashier", "c1", "--pay", "cash:1000")
        if code != 0:  # nothing rung up yet: nothing to pay
            _ok(data_dir, "void", oid, "--approver", "boss", "--reason", "left open")
    _ok(
        data_dir, "report", "z", "--counted", "100000.00", "--reason", "count", "--approver", "boss"
    )


def park_one(data_dir: Path) -> None:
    """A basket parked for later (the shopper went back for something)."""
    with TerminalServices.open(data_dir, SystemClock()) as services:
        co = services.checkout
        order = co.new_order("c1")
        co.add_item(order.order_id, "DRK-001", 1)
        co.park(order.order_id)
