"""Approvals that cannot be guessed, input that cannot slip through, an
identity that cannot be edited, and a demo keystore that takes no real money."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pos.auth import validate_name, validate_user_id
from pos.catalog import CatalogImportError, parse_catalog_csv
from pos.clock import FakeClock
from pos.errors import InvalidInput, NotAllowed
from pos.money import Money
from pos.order.limits import ascii_count, check_cash_pays, not_negative
from pos.payments.registry import load_channels
from pos.services.catalog_import import read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.services.users import failed_approvals
from pos.store.errors import IdentityMismatch
from pos.store.terminal import TERMINAL_FILE, Terminal, open_terminal, provision
from tests.pos.store.till_store import run_pos


@pytest.fixture
def services(tmp_terminal: Terminal) -> TerminalServices:
    s = TerminalServices.wrap(tmp_terminal)
    s.users.add("boss", "Li Na", "manager", "7391")
    s.users.add("c1", "Zhang Wei", "cashier", "2580")
    return s


def test_approvals_lock_after_five_wrong_pins_in_ten_minutes(services: TerminalServices) -> None:
    clock = services.terminal.clock
    assert isinstance(clock, FakeClock)
    guesses = 0
    with pytest.raises(NotAllowed, match="locked"):
        for guess in range(1000, 10000):
            if f"{guess:04d}" == "7391":
                continue
            try:
                services.users.approval("boss", f"{guess:04d}", "void an order", requested_by="c1")
            except NotAllowed as exc:
                if "locked" in exc.message:
                    raise
            guesses += 1
    assert guesses == 5
    with pytest.raises(NotAllowed, match="locked"):  # even the right PIN, until the window ends
        services.users.approval("boss", "7391", "void an order")
    with services.terminal.db.read() as conn:
        assert failed_approvals(conn, "2026-01-01T00:00:00.000000Z", requested_by="c1") == 5
    clock.advance(601)
    assert services.users.approval("boss", "7391", "void an order").user_id == "boss"


def test_approval_by_pin_alone_locks_too(services: TerminalServices) -> None:
    for pin in ("1111", "2222", "3333", "4444", "5555"):
        with pytest.raises(NotAllowed):
            services.users.approval_by_pin(pin, "refund")
    with pytest.raises(NotAllowed, match="locked"):
        services.users.approval_by_pin("7391", "refund")


@pytest.mark.parametrize("text", ["１２", "٣", "²", "12a", "", "1" * 12])
def test_counts_are_ascii_digits(text: str) -> None:
    with pytest.raises(InvalidInput):
        ascii_count(text, "quantity")


def test_negative_counted_cash_and_float_are_refused() -> None:
    with pytest.raises(InvalidInput, match="below zero"):
        not_negative(Money.parse("-5", "CNY"), "counted cash")
    assert not_negative(Money(0, "CNY"), "counted cash").minor == 0


def test_cash_far_above_the_amount_due_needs_confirmation() -> None:
    due = Money(5_00, "CNY")
    check_cash_pays([("cash", Money(100_00, "CNY"))], due, confirmed=False)  # one note: fine
    with pytest.raises(NotAllowed, match="--confirm-cash"):
        check_cash_pays([("cash", Money(100_000_00, "CNY"))], due, confirmed=False)
    check_cash_pays([("cash", Money(100_000_00, "CNY"))], due, confirmed=True)
    with pytest.raises(InvalidInput, match="nothing to pay"):
        check_cash_pays([("cash", None)], Money(0, "CNY"), confirmed=False)


@pytest.mark.parametrize("user_id", ["", "a b", "x\x07y", "x" * 33, "-lead", "名字"])
def test_bad_user_ids_are_refused(user_id: str) -> None:
    with pytest.raises(InvalidInput):
        validate_user_id(user_id)


@pytest.mark.parametrize("name", ["", "   ", "a\x1bb", "tab\tname", "n" * 65])
def test_bad_user_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        validate_name(name)


def test_good_ids_and_names_pass() -> None:
    validate_user_id("c.wang-2")
    validate_name("王芳 (早班)")


def test_a_catalog_file_that_never_ends_is_refused_at_the_limit() -> None:
    with pytest.raises(InvalidInput, match="larger than"):
        read_catalog_file(Path("/dev/zero"), "CNY", limit=1024 * 1024)


def test_an_unreadable_csv_row_is_reported_on_its_own_line() -> None:
    head = "sku,barcodes,name_zh,name_en,price,tax_class,active,sold_by_weight\n"
    text = head + "A,,甲,A,1.00,standard,1,0\n" + '"abc"x,1\n'
    with pytest.raises(CatalogImportError) as err:
        parse_catalog_csv(text)
    assert err.value.problems[-1][0] == 3


def test_an_edited_terminal_json_is_refused_at_open(tmp_terminal: Terminal) -> None:
    data_dir = tmp_terminal.data_dir
    tmp_terminal.close()
    path = data_dir / TERMINAL_FILE
    doc = json.loads(path.read_text())
    doc["store_id"] = "S999"
    path.write_text(json.dumps(doc))
    with pytest.raises(IdentityMismatch, match="S001"):
        open_terminal(data_dir, FakeClock())
    assert run_pos(data_dir, "journal", "verify").code == 6


def test_a_refused_init_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "new"
    with pytest.raises(InvalidInput):
        provision(target, "demo", "S 1", None, FakeClock())
    result = run_pos(target, "init", "--store-id", "S001", "--terminal-id", "bad id")
    assert result.code == 2
    assert not target.exists()


def test_a_demo_terminal_starts_no_channel_with_a_real_endpoint(tmp_terminal: Terminal) -> None:
    (tmp_terminal.data_dir / "payments.json").write_text(
        json.dumps(
            {
                "alipay": {"gateway": "https://openapi.alipay.com/gateway.do", "app_id": "1"},
                "wechat": {"base_url": "http://127.0.0.1:9/v3", "mchid": "1"},
            }
        )
    )
    channels, problems = load_channels(tmp_terminal.data_dir, tmp_terminal.clock)
    assert "alipay" not in channels
    assert "DEMO" in problems["alipay"] and "openapi.alipay.com" in problems["alipay"]
    assert "DEMO" not in problems.get("wechat", "")


def test_json_output_carries_the_demo_warning(tmp_terminal: Terminal) -> None:
    data_dir = tmp_terminal.data_dir
    tmp_terminal.close()
    result = run_pos(data_dir, "--json", "journal", "verify")
    assert result.code == 0
    doc = json.loads(result.out)
    assert doc["ok"] and doc["warnings"][0]["code"] == "store.demo_warning"


def test_installing_the_rule_set_in_force_again_is_not_journaled_again(
    tmp_terminal: Terminal,
) -> None:
    data_dir = tmp_terminal.data_dir
    tmp_terminal.close()
    rules = Path(__file__).resolve().parents[3] / "assets" / "risk" / "default_rules.toml"
    assert run_pos(data_dir, "risk", "rules", "install", str(rules)).code == 0
    again = run_pos(data_dir, "risk", "rules", "install", str(rules))
    assert again.code == 0 and "already installed" in again.out
    with open_terminal(data_dir, FakeClock()) as terminal, terminal.db.read() as conn:
        installs = conn.execute(
            "SELECT count(*) FROM journal WHERE type = 'risk.ruleset_installed'"
        ).fetchone()[0]
        assert installs == 1
        assert terminal.verify_journal().ok
