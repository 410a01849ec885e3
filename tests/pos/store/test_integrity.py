"""Whole-file checks, anchors and seals on a till with real sales: damage,
rollback and edits outside the program are named, exit 5 or 6, never a
traceback, and nothing is sold on a store that went backwards."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.clock import SystemClock
from pos.services.terminal_services import TerminalServices
from pos.store.anchor import ANCHOR_FILE
from pos.store.errors import StoreDamaged, StoreRolledBack
from pos.store.integrity import scan_wal
from pos.store.terminal import DB_FILE, open_terminal
from tests.pos.store.store_files import snapshot
from tests.pos.store.till_store import (
    MANAGER_PIN,
    build,
    copy_till,
    flip_byte,
    raw_connection,
    run_pos,
    sell,
)

PAGE = 4096


@pytest.fixture(scope="module")
def till(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("till") / "till"
    build(data_dir, 12)
    return data_dir


@pytest.fixture
def work(till: Path, tmp_path: Path) -> Path:
    return copy_till(till, tmp_path / "work")


def _open_orders(data_dir: Path) -> int:
    conn = raw_connection(data_dir)
    try:
        return int(conn.execute("SELECT count(*) FROM orders WHERE state = 'open'").fetchone()[0])
    finally:
        conn.close()


def test_a_flipped_byte_in_any_page_is_named_and_refused(till: Path, tmp_path: Path) -> None:
    pages = (till / DB_FILE).stat().st_size // PAGE
    codes = []
    for page in range(pages):
        work = copy_till(till, tmp_path / "flip")
        flip_byte(work / DB_FILE, page * PAGE + 1500)
        result = run_pos(work, "journal", "verify")
        assert result.traceback == "", result.traceback
        codes.append(result.code)
        if page:  # page 1 holds the salt: a damaged one looks like a wrong key (exit 5)
            assert result.code == 6 and "damaged" in result.err, (page, result)
    assert set(codes) <= {5, 6}


def test_a_damaged_catalog_page_stops_a_sale_before_it_opens_an_order(work: Path) -> None:
    conn = raw_connection(work)
    try:
        rootpage = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'products'"
        ).fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    flip_byte(work / DB_FILE, (rootpage - 1) * PAGE + 2000)
    before = snapshot(work / DB_FILE)
    search = run_pos(work, "catalog", "search", "水")
    sale = run_pos(work, "sale", "--cashier", "c1", "--item", "DRK-001", "--pay", "cash")
    for result in (search, sale):
        assert result.traceback == "" and result.code == 6, result
        assert "backup" in result.err
    assert snapshot(work / DB_FILE) == before  # no order was opened, nothing written


@pytest.fixture
def crashed(till: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy taken while the till is open with recent sales in its WAL: what a
    crash (or a pulled plug after the last commit) leaves behind."""
    live = copy_till(till, tmp_path / "live")
    services = TerminalServices.open(live, SystemClock())
    try:
        services.terminal.db.connection().execute("PRAGMA wal_autocheckpoint = 0")
        sell(services, 6, seed=7)
        yield copy_till(live, tmp_path / "crashed")
    finally:
        services.close()


def _frames(wal: Path) -> int:
    return (wal.stat().st_size - 32) // (24 + PAGE)


def test_a_damaged_wal_frame_is_found_before_sqlite_drops_the_sales_behind_it(
    crashed: Path,
) -> None:
    wal = crashed / f"{DB_FILE}-wal"
    assert scan_wal(crashed / DB_FILE) == []
    frames = _frames(wal)
    assert frames > 10
    for frame in (0, frames // 2):
        work = copy_till(crashed, crashed.with_name(f"wal{frame}"))
        flip_byte(work / f"{DB_FILE}-wal", 32 + frame * (24 + PAGE) + 24 + 100)
        before = (work / f"{DB_FILE}-wal").read_bytes()
        with pytest.raises(StoreDamaged, match="write-ahead log"):
            open_terminal(work, SystemClock())
        assert (work / f"{DB_FILE}-wal").read_bytes() == before  # nothing folded in
        result = run_pos(work, "journal", "verify")
        assert result.code == 6 and result.traceback == ""


def test_a_damaged_last_transaction_is_caught_by_the_commit_anchor(crashed: Path) -> None:
    """The last frames look like a write a crash interrupted; the anchor knows
    that transaction had committed."""
    frames = _frames(crashed / f"{DB_FILE}-wal")
    flip_byte(crashed / f"{DB_FILE}-wal", 32 + (frames - 1) * (24 + PAGE) + 24 + 100)
    with open_terminal(crashed, SystemClock()) as terminal:
        assert [loss.kind for loss in terminal.losses][:1] in (["commits_lost"], ["rolled_back"])
    assert run_pos(crashed, "journal", "verify").code == 6


def test_a_truncated_wal_never_loses_sales_silently(crashed: Path) -> None:
    wal = crashed / f"{DB_FILE}-wal"
    size = wal.stat().st_size
    for i in range(1, 11):
        work = copy_till(crashed, crashed.with_name(f"cut{i}"))
        cut = size * i // 11
        with (work / f"{DB_FILE}-wal").open("r+b") as fh:
            fh.truncate(cut)
        result = run_pos(work, "journal", "verify")
        assert result.traceback == "" and result.code in (5, 6), (cut, result)


def test_an_older_copy_put_back_is_held_until_a_manager_acknowledges(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "old.db"
    shutil.copy(work / DB_FILE, old)
    with TerminalServices.open(work, SystemClock()) as services:
        issued = set(sell(services, 3, seed=3))
    shutil.copy(old, work / DB_FILE)
    verify = run_pos(work, "journal", "verify")
    assert verify.code == 6 and "went backwards" in verify.out
    monkeypatch.setenv("POS_CASHIER_PIN", "2580")
    sale = run_pos(work, "sale", "--cashier", "c1", "--item", "DRK-001", "--pay", "cash")
    assert sale.code == 6 and sale.traceback == "" and "acknowledge" in sale.err
    assert _open_orders(work) == 0
    monkeypatch.setenv("POS_APPROVER_PIN", "0000")
    wrong = run_pos(work, "journal", "acknowledge-loss", "--approver", "boss")
    assert wrong.code == 3
    monkeypatch.setenv("POS_APPROVER_PIN", MANAGER_PIN)
    ack = run_pos(work, "journal", "acknowledge-loss", "--approver", "boss")
    assert ack.code == 0, ack
    with TerminalServices.open(work, SystemClock()) as services:
        assert not services.terminal.losses
        again = set(sell(services, 3, seed=4))
        assert services.verify().ok
    assert not again & issued  # receipt numbers are never issued twice


def test_an_older_copy_with_its_anchor_file_is_caught_by_the_keyring_anchor(
    work: Path, tmp_path: Path
) -> None:
    for name in (DB_FILE, ANCHOR_FILE):
        shutil.copy(work / name, tmp_path / name)
    with TerminalServices.open(work, SystemClock()) as services:
        sell(services, 3, seed=5)  # the keyring anchor follows at close
    for name in (DB_FILE, ANCHOR_FILE):
        shutil.copy(tmp_path / name, work / name)
    with open_terminal(work, SystemClock()) as terminal:
        assert {loss.source for loss in terminal.losses} == {"keyring"}
        with pytest.raises(StoreRolledBack):
            terminal.journal.require_open()


def test_an_edited_anchor_file_holds_the_till(work: Path) -> None:
    path = work / ANCHOR_FILE
    path.write_text(path.read_text().replace('"seq":', '"seq":1'))
    with open_terminal(work, SystemClock()) as terminal:
        assert [loss.kind for loss in terminal.losses][:1] == ["anchor_edited"]


@pytest.mark.parametrize(
    ("sql", "table"),
    [
        ("UPDATE users SET role = 'manager' WHERE id = 'c1'", "users"),
        (
            "UPDATE users SET pin_hash = (SELECT pin_hash FROM users WHERE id = 'c1')"
            " WHERE id = 'boss'",
            "users",
        ),
        ("UPDATE users SET active = 0 WHERE id = 'boss'", "users"),
        ("UPDATE products SET unit_price_minor = 1 WHERE sku = 'DRK-001'", "products"),
        ("UPDATE products SET tax_class = 'exempt' WHERE sku = 'DRK-001'", "products"),
        (
            "DROP TRIGGER seal_products_update;"
            " UPDATE products SET unit_price_minor = 1 WHERE sku = 'DRK-001'",
            "products",
        ),
        (
            "DELETE FROM product_barcodes WHERE barcode = (SELECT min(barcode) FROM product_barcodes)",
            "product_barcodes",
        ),
        ("INSERT INTO settings (key, value, updated_at) VALUES ('x', '1', 't')", "settings"),
    ],
)
def test_money_tables_edited_outside_the_program_are_named(
    work: Path, sql: str, table: str
) -> None:
    conn = raw_connection(work)
    try:
        for statement in sql.split(";"):
            conn.execute(statement)
    finally:
        conn.close()
    result = run_pos(work, "journal", "verify")
    assert result.code == 6 and f"table {table}" in result.out, result


def test_changes_the_program_makes_are_sealed_and_verify(work: Path) -> None:
    with TerminalServices.open(work, SystemClock()) as services:
        services.users.add("c2", "Wang Fang", "cashier", "8642")
        assert services.verify().ok
    assert run_pos(work, "journal", "verify").code == 0
