"""When the whole-file page pass runs at open: after the files changed
outside the till (or a crash), always; after a clean close, not (SQLCipher
still checks each page read); in the app, off the UI thread with sales held
until it passes. Damage is said in catalogue words, never SQLCipher's."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.app.till import TillOptions, open_till
from pos.clock import SystemClock
from pos.money import Money
from pos.services.terminal_services import TerminalServices
from pos.store import integrity, keys
from pos.store.anchor import AnchorKeeper
from pos.store.errors import StoreDamaged, StoreRolledBack
from pos.store.integrity import FileState
from pos.store.migrate import Migration, Migrations
from pos.store.terminal import DB_FILE, Terminal, open_terminal, provision
from tests.pos.store.till_store import build, copy_till, flip_byte, raw_connection, run_pos

PAGE = 4096


@pytest.fixture(scope="module")
def till(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("till") / "till"
    build(data_dir, 6)
    return data_dir


@pytest.fixture
def work(till: Path, tmp_path: Path) -> Path:
    """A copy (a new file: the first open checks every page), opened and
    closed once so the anchor records the files as checked."""
    data_dir = copy_till(till, tmp_path / "work")
    with open_terminal(data_dir, SystemClock()) as terminal:
        assert terminal.files_check == "full"
    return data_dir


def _products_page(data_dir: Path) -> int:
    """A page the open never reads: the products table's root."""
    conn = raw_connection(data_dir)
    try:
        row = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'products'").fetchone()
        return int(row[0])
    finally:
        conn.close()


def _keeper(data_dir: Path) -> AnchorKeeper:
    store = keys.DemoKeyStore(data_dir)
    seed = store.get(keys.SIGNING_KEY)
    assert seed is not None
    return AnchorKeeper(data_dir, store, seed, SystemClock())


def _sale(terminal: Terminal) -> str | None:
    services = TerminalServices.wrap(terminal)
    order = services.checkout.new_order("c1")
    services.checkout.add_item(order.order_id, "DRK-001", 1)
    return services.checkout.pay_cash(order.order_id, Money(100_00)).receipt_no


def test_a_clean_reopen_skips_the_page_pass(work: Path) -> None:
    with open_terminal(work, SystemClock()) as terminal:
        assert terminal.files_check == "unchanged"
        assert _sale(terminal) is not None
    with open_terminal(work, SystemClock()) as terminal:  # the sale's close recorded it too
        assert terminal.files_check == "unchanged"


def test_a_commit_drops_the_record_so_a_till_killed_after_it_is_checked_in_full(
    work: Path,
) -> None:
    assert _keeper(work).read_checked() == FileState.of(work / DB_FILE)
    with open_terminal(work, SystemClock()) as terminal:
        _sale(terminal)
        assert _keeper(work).read_checked() is None
    assert _keeper(work).read_checked() == FileState.of(work / DB_FILE)


def test_a_store_changed_outside_the_till_is_fully_checked_at_next_open(work: Path) -> None:
    page = _products_page(work)
    # The same bytes written back: nothing is damaged, but someone wrote.
    flip_byte(work / DB_FILE, (page - 1) * PAGE + 2000)
    flip_byte(work / DB_FILE, (page - 1) * PAGE + 2000)
    with open_terminal(work, SystemClock()) as terminal:
        assert terminal.files_check == "full"
    flip_byte(work / DB_FILE, (page - 1) * PAGE + 2000)
    with pytest.raises(StoreDamaged, match=f"page {page}"):
        open_terminal(work, SystemClock())


def test_a_write_that_puts_the_old_times_back_is_still_caught(work: Path) -> None:
    db = work / DB_FILE
    before = os.stat(db)
    flip_byte(db, (_products_page(work) - 1) * PAGE + 2000)
    os.utime(db, ns=(before.st_atime_ns, before.st_mtime_ns))  # the change time moves on
    with pytest.raises(StoreDamaged):
        open_terminal(work, SystemClock())


def test_a_clean_reopen_still_catches_a_flipped_byte_in_a_page_it_reads(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file anchor forged to match a damaged file (as if a change left every
    time as it was): the open skips the pass, SQLCipher refuses the page when a
    command reads it, and that open records nothing, so the next one checks all."""
    page = _products_page(work)
    flip_byte(work / DB_FILE, (page - 1) * PAGE + 2000)
    state = FileState.of(work / DB_FILE)
    assert state is not None
    _keeper(work).record_checked(state)
    with open_terminal(work, SystemClock()) as terminal:
        assert terminal.files_check == "unchanged"  # and its close records the files again
    monkeypatch.setenv("POS_CASHIER_PIN", "2580")
    sale = run_pos(work, "sale", "--cashier", "c1", "--item", "DRK-001", "--pay", "cash")
    assert sale.traceback == "" and sale.code == 6 and "damaged" in sale.err, sale
    assert _keeper(work).read_checked() is None
    with pytest.raises(StoreDamaged):
        open_terminal(work, SystemClock())


def test_damage_is_said_in_the_readers_words_and_the_detail_goes_to_the_log(
    work: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page = _products_page(work)
    flip_byte(work / DB_FILE, (page - 1) * PAGE + 2000)
    with pytest.raises(StoreDamaged) as caught:
        open_terminal(work, SystemClock())
    assert caught.value.msg is not None
    zh = caught.value.msg.render("zh_CN")
    assert f"第 {page} 页" in zh
    for english in ("HMAC", "verification", "failed", "malformed"):
        assert english not in zh
    assert "HMAC" in caplog.text  # SQLCipher's own words, for support


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The background page pass waits for the test to let it run."""
    release = threading.Event()
    real = integrity.check_pages

    def held(conn: integrity.Connection) -> integrity.Damage:
        release.wait(30)
        return real(conn)

    monkeypatch.setattr(integrity, "check_pages", held)
    yield release
    release.set()


def test_the_app_holds_sales_until_the_background_check_passes(
    work: Path, gate: threading.Event
) -> None:
    flip_byte(work / DB_FILE, 2 * PAGE + 100)  # the same bytes again, but a new write
    flip_byte(work / DB_FILE, 2 * PAGE + 100)
    with open_till(work, TillOptions(background=True)) as till:
        terminal = till.terminal
        assert terminal.files_check == "background"
        check = terminal.store_check
        assert check is not None and check.state == "checking"
        till.users.login("c1", "2580")  # signing in works meanwhile
        with pytest.raises(StoreRolledBack) as held:
            _sale(terminal)
        assert held.value.msg is not None and held.value.msg.code == "store.check.checking"
        gate.set()
        assert check.wait(30) and check.state == "ok"
        assert _sale(terminal) is not None
    with open_terminal(work, SystemClock()) as terminal:
        assert terminal.files_check == "unchanged"


def test_the_background_check_keeps_a_damaged_store_held(work: Path, gate: threading.Event) -> None:
    flip_byte(work / DB_FILE, (_products_page(work) - 1) * PAGE + 2000)
    gate.set()
    with open_terminal(work, SystemClock(), pages="background") as terminal:
        check = terminal.store_check
        assert check is not None and check.wait(30)
        assert check.state == "damaged"
        with pytest.raises(StoreRolledBack) as held:
            terminal.journal.require_open()
        assert held.value.msg is not None and held.value.msg.code == "store.check.damaged"
    with pytest.raises(StoreDamaged):  # nothing recorded as checked
        open_terminal(work, SystemClock())


def test_journal_verify_checks_every_page_even_after_a_clean_close(work: Path) -> None:
    page = _products_page(work)
    flip_byte(work / DB_FILE, (page - 1) * PAGE + 2000)
    state = FileState.of(work / DB_FILE)
    assert state is not None
    _keeper(work).record_checked(state)
    result = run_pos(work, "journal", "verify")
    assert result.traceback == "" and result.code == 6, result


def test_a_migration_due_checks_every_page_before_it_writes(tmp_path: Path) -> None:
    bundled = Migrations.bundled()
    newer = Migrations([*bundled.items, Migration(bundled.latest + 1, "later", "SELECT 1;")])
    data_dir = tmp_path / "older"
    provision(data_dir, "demo", "S001", "T01", SystemClock()).close()
    with open_terminal(data_dir, SystemClock()) as terminal:
        assert terminal.files_check == "unchanged"
    flip_byte(data_dir / DB_FILE, 2 * PAGE + 100)
    state = FileState.of(data_dir / DB_FILE)
    assert state is not None
    _keeper(data_dir).record_checked(state)  # as if the change kept every time
    with pytest.raises(StoreDamaged):
        open_terminal(
            data_dir, SystemClock(), migrations=newer
        )  # a release that migrates: pages first


def test_a_command_that_writes_nothing_leaves_the_files_times_alone(work: Path) -> None:
    """An unchanged store keeps its times (a backup tool comparing them copies
    nothing) and its record."""
    before = os.stat(work / DB_FILE).st_mtime_ns
    with open_terminal(work, SystemClock()) as terminal:
        assert terminal.files_check == "unchanged"
    assert os.stat(work / DB_FILE).st_mtime_ns == before
    with open_terminal(work, SystemClock()) as terminal:
        assert terminal.files_check == "unchanged"


def test_the_app_sells_at_once_on_an_unchanged_store_while_it_reads_every_page(
    work: Path, gate: threading.Event
) -> None:
    with open_till(work, TillOptions(background=True)) as till:
        terminal = till.terminal
        assert terminal.files_check == "unchanged"
        check = terminal.store_check
        assert check is not None and check.state == "checking"
        assert _sale(terminal) is not None  # not held
        gate.set()
        assert check.wait(30) and check.state == "ok"


def test_the_app_finds_damage_that_changed_no_file_time(work: Path, gate: threading.Event) -> None:
    """Bit rot leaves every time as it was (here: the record forged to match):
    the app's pass finds it and holds the till; nothing is recorded as checked."""
    flip_byte(work / DB_FILE, (_products_page(work) - 1) * PAGE + 2000)
    state = FileState.of(work / DB_FILE)
    assert state is not None
    _keeper(work).record_checked(state)
    gate.set()
    with open_terminal(work, SystemClock(), pages="background") as terminal:
        assert terminal.files_check == "unchanged"
        check = terminal.store_check
        assert check is not None and check.wait(30) and check.state == "damaged"
        with pytest.raises(StoreRolledBack):
            terminal.journal.require_open()
    with pytest.raises(StoreDamaged):
        open_terminal(work, SystemClock())
