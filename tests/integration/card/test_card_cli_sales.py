"""`pos sale --pay card` end to end through the real command line: the card
channel from the `pos.payment_channels` entry point and payments.json, the
emulated card through pyscard -> pcscd -> vpcd, ISO 8583 to the sandbox
acquirer on loopback, the order and receipt in the encrypted store."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.virtualcard.card import EmvCard
from drivers.virtualcard.profiles import MASTERCARD, UNIONPAY, VISA, CardProfile
from drivers.virtualcard.vpcd import VirtualCardSlot
from pos.cli.context import CliContext
from pos.cli.main import build_parser
from pos.clock import SystemClock
from pos.errors import NotAllowed
from pos.payments.card.sandbox_service import SandboxAcquirerService
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision
from tests.integration.card.conftest import wait_slot_state
from tests.integration.card.pan_sweep import luhn_runs, sweep_database, sweep_files
from tests.pos.services.conftest import CASHIER_PIN, DEMO_CATALOG, MANAGER_PIN


@pytest.fixture
def till(
    tmp_path: Path, slot, card_channel_registered
) -> Iterator[tuple[Path, SandboxAcquirerService]]:  # type: ignore[no-untyped-def]
    data = tmp_path / "till"
    terminal = provision(data, "demo", "S001", "T01", SystemClock())
    services = TerminalServices.wrap(terminal)
    t = services.terminal
    import_products(
        t.db, t.journal, t.clock, read_catalog_file(DEMO_CATALOG, "CNY"), replace=True, source="t"
    )
    services.users.add("boss", "Wang Li", "manager", MANAGER_PIN)
    services.users.add("c1", "Zhang Wei", "cashier", CASHIER_PIN)
    services.close()
    service = SandboxAcquirerService(data, SystemClock()).start()
    yield data, service
    service.stop()


def run(data: Path, *argv: str, as_json: bool = True) -> tuple[int, dict]:
    out = io.StringIO()
    ctx = CliContext(data_dir=data, as_json=as_json, out=out, err=io.StringIO())
    ctx.read_pin = lambda who: MANAGER_PIN if who == "boss" else CASHIER_PIN
    args = build_parser().parse_args(list(argv))
    code = args.func(args, ctx)
    if not as_json:
        return code, {"text": out.getvalue()}
    return code, json.loads(out.getvalue()) if out.getvalue().strip() else {}


def insert(slot: VirtualCardSlot, profile: CardProfile) -> EmvCard:
    """The shopper's card goes into the reader before the cashier rings up."""
    wait_slot_state(False)
    card = EmvCard(profile)
    slot.insert(card)
    wait_slot_state(True)
    return card


def take_out(slot: VirtualCardSlot) -> None:
    slot.remove()
    wait_slot_state(False)


def sell(data: Path, *pays: str, item: str = "DRK-001:2") -> dict:
    argv = ["sale", "--cashier", "c1", "--item", item]
    for pay in pays:
        argv += ["--pay", pay]
    code, sale = run(data, *argv)
    assert code == 0, sale
    return sale


def test_card_sale_approved_online_shows_the_masked_card_and_auth_code(till, slot):
    data, service = till
    before = service.acquirer.balance(VISA.pan)
    insert(slot, VISA)
    sale = sell(data, "card")
    take_out(slot)

    assert sale["state"] == "paid" and sale["receipt_no"]
    [tender] = sale["tenders"]
    assert tender["channel"] == "card" and tender["amount"] == sale["total"]
    paid = round(float(sale["total"]) * 100)
    assert service.acquirer.balance(VISA.pan) == before - paid
    assert service.acquirer.state.messages == ["0100"]
    _, shown = run(data, "order", "show", sale["order_id"])
    [row] = shown["tender_rows"]
    assert row["card_masked_pan"] == "476173******" + VISA.pan[-4:]
    assert len(row["auth_code"]) == 6
    _, receipt = run(data, "order", "show", sale["order_id"], as_json=False)
    assert VISA.pan[-4:] in receipt["text"] and row["auth_code"] in receipt["text"]
    assert VISA.pan not in receipt["text"] and "476173" not in receipt["text"]


def test_declined_card_leaves_the_order_open_and_charges_nothing(till, slot):
    data, service = till
    service.acquirer.set_account(MASTERCARD.pan, balance_minor=1_00)
    insert(slot, MASTERCARD)
    with pytest.raises(NotAllowed, match="card") as err:
        sell(data, "card")
    take_out(slot)

    assert "stays open" in str(err.value)
    assert service.acquirer.balance(MASTERCARD.pan) == 1_00
    with TerminalServices.open(data) as services:
        [left] = services.checkout.open_orders()
        assert left.order.tenders == ()
        with services.terminal.db.read() as conn:
            row = conn.execute("SELECT state, response_code FROM card_payments").fetchone()
        assert tuple(row) == ("declined", "51")


def test_offline_approval_while_the_host_is_down_is_forwarded_by_pos_card_forward(till, slot):
    data, service = till
    before = service.acquirer.balance(UNIONPAY.pan)
    service.down()
    insert(slot, UNIONPAY)
    sale = sell(data, "card", item="SNK-001")
    take_out(slot)
    assert sale["state"] == "paid" and [t["channel"] for t in sale["tenders"]] == ["card"]
    assert service.acquirer.balance(UNIONPAY.pan) == before

    code, waiting = run(data, "card", "forward")
    assert code == 1 and waiting["still_pending"] == 1  # the host is still down

    service.up()
    code, report = run(data, "card", "forward")
    assert code == 0
    assert (report["accepted"], report["declined"], report["still_pending"]) == (1, 0, 0)
    assert service.acquirer.state.messages == ["0220"]
    paid = round(float(sale["total"]) * 100)
    assert service.acquirer.balance(UNIONPAY.pan) == before - paid
    code, again = run(data, "card", "forward")
    assert again["accepted"] == 0 and service.acquirer.state.messages == ["0220"]
    code, verified = run(data, "journal", "verify")
    assert code == 0, verified


def test_an_offline_approval_the_bank_declines_later_waits_for_a_manager(till, slot):
    data, service = till
    service.down()
    insert(slot, VISA)
    sale = sell(data, "card", item="SNK-001")
    take_out(slot)
    service.acquirer.set_account(VISA.pan, balance_minor=0)
    service.up()

    code, report = run(data, "card", "forward")
    assert report["declined"] == 1
    [decline] = report["unreviewed_declines"]
    assert decline["order_id"] == sale["order_id"] and decline["response_code"] == "51"
    assert decline["masked_pan"] == "476173******" + VISA.pan[-4:]
    _, listed = run(data, "card", "declines")
    assert [d["intent_id"] for d in listed["unreviewed_declines"]] == [decline["intent_id"]]

    with pytest.raises(NotAllowed):
        run(data, "card", "declines", "--review", decline["intent_id"], "--approver", "c1")
    code, done = run(
        data, "card", "declines", "--review", decline["intent_id"], "--approver", "boss",
        "--note", "shopper paid cash at the counter",
    )  # fmt: skip
    assert code == 0 and done["approved_by"] == "boss"
    _, listed = run(data, "card", "declines")
    assert listed["unreviewed_declines"] == []
    with TerminalServices.open(data) as services, services.terminal.db.read() as conn:
        [entry] = conn.execute(
            "SELECT payload FROM journal WHERE type = 'card.forward_decline_reviewed'"
        ).fetchall()
    payload = json.loads(entry[0])
    assert payload["manager"] == "boss" and payload["note"] == "shopper paid cash at the counter"


def test_split_tender_cash_then_card(till, slot):
    data, service = till
    insert(slot, VISA)
    sale = sell(data, "cash:10", "card", item="DLY-005")
    take_out(slot)
    assert sale["state"] == "paid"
    assert [(t["channel"], t["amount"]) for t in sale["tenders"]] == [
        ("cash", "10.00"),
        ("card", "19.90"),
    ]
    assert service.acquirer.state.messages == ["0100"]


def test_card_sales_leave_no_card_number_in_the_store_files_or_logs(till, slot, caplog, capfd):
    data, service = till
    caplog.set_level(logging.DEBUG)
    insert(slot, VISA)
    sell(data, "card")
    take_out(slot)
    service.acquirer.set_account(MASTERCARD.pan, balance_minor=1)
    insert(slot, MASTERCARD)
    with pytest.raises(NotAllowed):
        sell(data, "card")
    take_out(slot)
    service.down()
    insert(slot, UNIONPAY)
    sell(data, "card", item="SNK-001")
    take_out(slot)
    service.up()
    assert run(data, "card", "forward")[1]["accepted"] == 1

    pans = [VISA.pan, MASTERCARD.pan, UNIONPAY.pan]
    with TerminalServices.open(data) as services:
        found = sweep_database(services.terminal.db, pans)
    found += sweep_files(data, pans)
    captured = capfd.readouterr()
    logs = (caplog.text + captured.out + captured.err).encode()
    assert "Insert card" in captured.err, "the reader's prompts were not seen"
    assert caplog.text, "the sales wrote no log at all, so the sweep proves nothing"
    assert [pan for pan in pans if pan.encode() in logs] == []
    assert luhn_runs(logs) == 0
    assert found == [], "\n".join(found)


def test_the_next_online_card_sale_forwards_what_was_approved_offline(till, slot):
    data, service = till
    service.down()
    insert(slot, VISA)
    sell(data, "card", item="SNK-001")
    take_out(slot)
    service.up()
    insert(slot, MASTERCARD)
    sell(data, "card")
    take_out(slot)
    assert service.acquirer.state.messages == ["0100", "0220"]
    code, report = run(data, "card", "forward")
    assert code == 0 and (report["accepted"], report["still_pending"]) == (0, 0)


def test_a_card_sale_is_refunded_to_the_card_through_the_acquirer(till, slot):
    data, service = till
    insert(slot, VISA)
    sale = sell(data, "card")
    take_out(slot)
    after_sale = service.acquirer.balance(VISA.pan)
    code, refund = run(
        data, "refund", sale["receipt_no"], "--cashier", "c1", "--approver", "boss",
        "--amount", "2.00",
    )  # fmt: skip
    assert code == 0 and refund["tenders"] == [{"channel": "card", "amount": "2.00"}]
    assert service.acquirer.balance(VISA.pan) == after_sale + 2_00
    assert service.acquirer.state.messages == ["0100", "0200"]


def test_without_the_smart_card_service_a_card_sale_fails_cleanly(till, tmp_path):
    data, service = till
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm"),
        "POS_CASHIER_PIN": CASHIER_PIN,
        "POS_LANG": "en",
    }
    pos = [str(Path(sys.executable).with_name("pos")), "--data-dir", str(data)]
    readers = subprocess.run([*pos, "card", "readers"], env=env, capture_output=True, text=True)
    assert readers.returncode == 1 and "smart-card service is not running" in readers.stderr
    sale = subprocess.run(
        [*pos, "sale", "--cashier", "c1", "--item", "SNK-001", "--pay", "card"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert sale.returncode == NotAllowed.exit_code, sale.stderr
    assert "Traceback" not in sale.stderr and "stays open" in sale.stderr
    assert service.acquirer.state.messages == []
    with TerminalServices.open(data) as services:
        [left] = services.checkout.open_orders()
        assert left.order.tenders == ()
        with services.terminal.db.read() as conn:
            state, reason = conn.execute("SELECT state, reason FROM card_payments").fetchone()
    assert state == "failed" and "smart-card service" in reason


def test_the_risk_rules_refuse_an_offline_card_payment_over_their_cap(till, slot):
    data, service = till
    config = json.loads((data / "payments.json").read_text())
    config["card"]["offline"].update(per_transaction_cap="5000.00", total_cap="9000.00")
    (data / "payments.json").write_text(json.dumps(config))
    service.down()
    insert(slot, VISA)
    with pytest.raises(NotAllowed, match="card"):
        sell(data, "card", item="DRK-001:300")  # 1050.00, over the rules' offline cap
    take_out(slot)

    with TerminalServices.open(data) as services, services.terminal.db.read() as conn:
        state, reason = conn.execute("SELECT state, reason FROM card_payments").fetchone()
        decisions = [
            json.loads(r[0])
            for r in conn.execute("SELECT payload FROM journal WHERE type = 'risk.decision'")
        ]
        [left] = services.checkout.open_orders()
    assert state == "failed" and "capped at 1000.00" in reason
    assert left.order.tenders == ()
    [offline] = [d for d in decisions if d["online"] is False]
    assert offline["outcome"] == "blocked" and "offline-card-cap" in json.dumps(offline)
    assert offline["channel"] == "card" and offline["amount_minor"] == 1050_00
