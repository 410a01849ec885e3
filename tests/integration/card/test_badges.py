"""Staff badges through the real path a payment card takes: pyscard -> pcscd
-> the vpcd reader -> the emulated badge in this process. Sign-in, a
manager's approval by badge and PIN, a copied id with another key, a revoked
badge, and every tap journaled."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.pcsc.badge import PcscBadgeReader
from drivers.virtualcard.badge import BADGE_PROFILES, BadgeCardEmulator
from drivers.virtualcard.card import EmvCard
from drivers.virtualcard.profiles import VISA
from drivers.virtualcard.vpcd import VirtualCardSlot
from pos.auth import NeedsApproval, Role
from pos.canonical import loads
from pos.cli import badge as badge_cli
from pos.cli.context import CliContext
from pos.cli.main import main
from pos.clock import FakeClock
from pos.errors import NotAllowed
from pos.events import Event
from pos.money import Money
from pos.services.badges import BADGE_AND_PIN, BadgeService
from pos.services.catalog_import import import_products
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision
from tests.integration.card.conftest import READER, wait_slot_state
from tests.pos.store.till_store import raw_connection, run_pos
from tests.sync.conftest import demo_products, make_terminal

MANAGER_PIN, CASHIER_PIN = "2580", "1397"


class Desk:
    """The till with its badge service and the reader, and the person who
    puts a badge on the reader."""

    def __init__(self, services: TerminalServices, slot: VirtualCardSlot) -> None:
        t = services.terminal
        self.services = services
        self.badges = BadgeService(t.db, t.journal, t.clock, services.users)
        self.reader = PcscBadgeReader(READER)
        self.slot = slot

    def tap(self, card: Any) -> Any:
        self.reader.release()
        self.slot.remove()
        wait_slot_state(False)
        self.slot.insert(card)
        return self.reader.tap(10.0)

    def journal(self, event: Event) -> list[dict[str, Any]]:
        with self.services.terminal.db.read() as conn:
            rows = conn.execute(
                "SELECT payload FROM journal WHERE type = ? ORDER BY seq", (event,)
            ).fetchall()
        return [loads(r[0]) for r in rows]


@pytest.fixture
def desk(tmp_path: Path, slot: VirtualCardSlot) -> Iterator[Desk]:
    terminal = provision(tmp_path / "till", "demo", "S001", "T-BADGE-1", FakeClock())
    services = TerminalServices.wrap(terminal)
    import_products(
        terminal.db, terminal.journal, terminal.clock, demo_products(), replace=True, source="demo"
    )
    services.users.add("m1", "Manager Wang", Role.MANAGER, MANAGER_PIN)
    services.users.add("c1", "Cashier Li", Role.CASHIER, CASHIER_PIN)
    d = Desk(services, slot)
    try:
        yield d
    finally:
        d.reader.close()
        services.close()


def _enrol(desk: Desk, card: BadgeCardEmulator, user_id: str) -> None:
    approval = desk.services.users.approval("m1", MANAGER_PIN, "enrol a badge")
    desk.badges.enrol(desk.tap(card), user_id, approval)


def _paid_sale(services: TerminalServices) -> str:
    order = services.checkout.new_order("c1")
    for p in [p for p in demo_products() if not p.sold_by_weight and p.active][:3]:
        services.checkout.scan(order.order_id, p.barcodes[0])
    due = services.checkout.get(order.order_id).order.remaining
    services.checkout.pay_cash(order.order_id, due)
    return order.order_id


def test_a_tap_signs_in_and_switches_the_cashier(desk: Desk) -> None:
    manager = BadgeCardEmulator.of(BADGE_PROFILES["badge-manager"])
    cashier = BadgeCardEmulator.of(BADGE_PROFILES["badge-cashier"])
    _enrol(desk, manager, "m1")
    _enrol(desk, cashier, "c1")

    assert desk.badges.sign_in(desk.tap(cashier)).user_id == "c1"
    assert desk.badges.sign_in(desk.tap(manager)).user_id == "m1"

    enrolled = desk.journal(Event.BADGE_ENROLLED)
    assert [(e["badge_id"], e["user_id"], e["approver_id"]) for e in enrolled] == [
        ("B-0001", "m1", "m1"),
        ("B-0002", "c1", "m1"),
    ]
    logins = desk.journal(Event.BADGE_LOGIN)
    assert [(e["user_id"], e["ok"]) for e in logins] == [("c1", True), ("m1", True)]
    # The till kept only public keys: 32 bytes each, no private key anywhere.
    with desk.services.terminal.db.read() as conn:
        keys = [bytes(r[0]) for r in conn.execute("SELECT public_key FROM badges")]
    assert [len(k) for k in keys] == [32, 32]


def test_a_copied_badge_id_with_another_key_is_refused_and_journaled(desk: Desk) -> None:
    manager = BadgeCardEmulator.of(BADGE_PROFILES["badge-manager"])
    _enrol(desk, manager, "m1")
    copy = manager.copy_of()
    assert copy.badge_id == manager.badge_id

    with pytest.raises(NotAllowed) as refused:
        desk.badges.sign_in(desk.tap(copy))
    assert refused.value.msg.code == "badge.wrong_key"
    with pytest.raises(NotAllowed):
        desk.badges.approval(desk.tap(copy), MANAGER_PIN, "refund")

    assert copy.signatures == 2  # it was asked, and its answers did not verify
    assert [(e["badge_id"], e["ok"], e["reason"]) for e in desk.journal(Event.BADGE_LOGIN)] == [
        ("B-0001", False, "key")
    ]
    assert [e["reason"] for e in desk.journal(Event.BADGE_APPROVAL)] == ["key"]
    # The real badge still works.
    assert desk.badges.sign_in(desk.tap(manager)).user_id == "m1"


def test_a_revoked_badge_is_refused_and_its_id_never_comes_back(desk: Desk) -> None:
    cashier = BadgeCardEmulator.of(BADGE_PROFILES["badge-cashier"])
    _enrol(desk, cashier, "c1")
    approval = desk.services.users.approval("m1", MANAGER_PIN, "revoke a badge")
    assert desk.badges.revoke("B-0002", approval).revoked_at is not None

    with pytest.raises(NotAllowed) as refused:
        desk.badges.sign_in(desk.tap(cashier))
    assert refused.value.msg.code == "badge.revoked_badge"
    assert cashier.signatures == 1  # only at enrolment: a revoked badge is not even asked
    with pytest.raises(NotAllowed):
        _enrol(desk, cashier.copy_of(), "c1")

    assert [(e["badge_id"], e["approver_id"]) for e in desk.journal(Event.BADGE_REVOKED)] == [
        ("B-0002", "m1")
    ]
    assert [(e["ok"], e["reason"]) for e in desk.journal(Event.BADGE_LOGIN)] == [(False, "revoked")]


def test_an_unknown_badge_and_a_payment_card_do_not_sign_in(desk: Desk) -> None:
    with pytest.raises(NotAllowed) as unknown:
        desk.badges.sign_in(desk.tap(BadgeCardEmulator("B-9999")))
    assert unknown.value.msg.code == "badge.unknown"
    with pytest.raises(NotAllowed) as not_badge:
        desk.tap(EmvCard(VISA))
    assert not_badge.value.msg.code == "badge.not_a_badge"
    assert [e["reason"] for e in desk.journal(Event.BADGE_LOGIN)] == ["unknown"]


def test_a_refund_above_the_limit_needs_the_managers_badge_and_pin(desk: Desk) -> None:
    manager = BadgeCardEmulator.of(BADGE_PROFILES["badge-manager"])
    cashier = BadgeCardEmulator.of(BADGE_PROFILES["badge-cashier"])
    _enrol(desk, manager, "m1")
    _enrol(desk, cashier, "c1")
    users, checkout = desk.services.users, desk.services.checkout
    desk.badges.set_threshold(100, users.approval("m1", MANAGER_PIN, "set the badge limit"))
    order_id = _paid_sale(desk.services)

    pin_only = users.approval("m1", MANAGER_PIN, "refund")
    with pytest.raises(NeedsApproval) as needs:
        checkout.refund(order_id, approval=pin_only, cashier_id="c1", amount=Money(150))
    assert needs.value.msg.code == "badge.approval_needs_badge"

    # The cashier's own badge is no manager's; a wrong PIN with the right badge is refused.
    with pytest.raises(NotAllowed):
        desk.badges.approval(desk.tap(cashier), CASHIER_PIN, "refund", requested_by="c1")
    with pytest.raises(NotAllowed):
        desk.badges.approval(desk.tap(manager), "9999", "refund", requested_by="c1")

    approval = desk.badges.approval(desk.tap(manager), MANAGER_PIN, "refund", requested_by="c1")
    assert approval.factors == BADGE_AND_PIN and approval.user_id == "m1"
    _order, refund = checkout.refund(
        order_id, approval=approval, cashier_id="c1", amount=Money(150)
    )
    assert refund.amount == Money(150)
    # Within the limit a PIN alone still approves.
    checkout.refund(order_id, approval=pin_only, cashier_id="c1", amount=Money(50))

    tries = [(e["user_id"], e["ok"], e["reason"]) for e in desk.journal(Event.BADGE_APPROVAL)]
    assert tries == [("c1", False, "pin"), ("m1", False, "pin"), ("m1", True, "")]
    assert [e["user_id"] for e in desk.journal(Event.USER_APPROVAL_FAILED)] == ["m1"]
    granted = desk.journal(Event.APPROVAL_GRANTED)
    assert [g["approver_id"] for g in granted if g["action"] == "order.refund"] == ["m1", "m1"]


def _cli(argv: list[str], data_dir: Path) -> tuple[int, dict[str, Any] | list[Any], str]:
    parser = argparse.ArgumentParser(prog="pos")
    badge_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    pins = {"m1": MANAGER_PIN, "c1": CASHIER_PIN}
    ctx = CliContext(
        data_dir=data_dir, as_json=True, out=out, err=err, read_pin=pins.__getitem__, lang="en"
    )
    code = args.func(args, ctx)
    return code, json.loads(out.getvalue()), err.getvalue()


def _till_with_badge_on_reader(data_dir: Path, slot: VirtualCardSlot) -> None:
    """A new terminal with manager m1, and m1's new badge on the reader."""
    terminal = provision(data_dir, "demo", "S001", f"T-{data_dir.name.upper()}", FakeClock())
    services = TerminalServices.wrap(terminal)
    services.users.add("m1", "Manager Wang", Role.MANAGER, MANAGER_PIN)
    services.close()
    wait_slot_state(False)
    slot.insert(BadgeCardEmulator.of(BADGE_PROFILES["badge-manager"]))


def test_pos_badge_enrol_list_revoke_and_login_by_badge(
    tmp_path: Path, slot: VirtualCardSlot
) -> None:
    data_dir = tmp_path / "till"
    _till_with_badge_on_reader(data_dir, slot)

    code, enrolled, err = _cli(
        ["badge", "enrol", "m1", "--approver", "m1", "--reader", READER], data_dir
    )
    assert code == 0 and "Tap your staff badge" in err
    assert isinstance(enrolled, dict) and enrolled["badge_id"] == "B-0001"
    code, signed_in, _ = _cli(["login", "--badge", "--reader", READER], data_dir)
    assert isinstance(signed_in, dict)
    assert (signed_in["user_id"], signed_in["role"], signed_in["badge_id"]) == (
        "m1", "manager", "B-0001",
    )  # fmt: skip
    code, listed, _ = _cli(["badge", "list"], data_dir)
    assert isinstance(listed, list) and [b["badge_id"] for b in listed] == ["B-0001"]
    code, revoked, _ = _cli(["badge", "revoke", "B-0001", "--approver", "m1"], data_dir)
    assert isinstance(revoked, dict) and revoked["revoked_at"]
    with pytest.raises(NotAllowed) as refused:
        _cli(["login", "--badge", "--reader", READER], data_dir)
    assert refused.value.exit_code == 3
    assert "was revoked" in refused.value.render("en")


def test_a_badge_key_swapped_outside_the_program_is_named_by_verify(
    tmp_path: Path, slot: VirtualCardSlot
) -> None:
    data_dir = tmp_path / "till"
    _till_with_badge_on_reader(data_dir, slot)
    assert _cli(["badge", "enrol", "m1", "--approver", "m1", "--reader", READER], data_dir)[0] == 0
    assert run_pos(data_dir, "journal", "verify").code == 0

    # Someone with the database key puts another key on the manager's badge.
    conn = raw_connection(data_dir)
    try:
        conn.execute("UPDATE badges SET public_key = ? WHERE badge_id = 'B-0001'", (bytes(32),))
    finally:
        conn.close()
    result = run_pos(data_dir, "journal", "verify")
    assert result.code == 6 and "table badges" in result.out, result


def test_pos_refund_above_the_limit_takes_the_managers_badge_and_pin(
    tmp_path: Path,
    slot: VirtualCardSlot,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = make_terminal(tmp_path, "T-BADGE-4")
    shop.users.add("m1", "Manager Wang", Role.MANAGER, MANAGER_PIN)
    shop.users.add("c1", "Cashier Li", Role.CASHIER, CASHIER_PIN)
    data_dir = shop.terminal.data_dir
    shop.close()
    monkeypatch.setenv("POS_APPROVER_PIN", MANAGER_PIN)
    monkeypatch.setenv("POS_CASHIER_PIN", CASHIER_PIN)
    monkeypatch.setenv("POS_BADGE_READER", READER)
    wait_slot_state(False)
    slot.insert(BadgeCardEmulator.of(BADGE_PROFILES["badge-manager"]))

    def pos(*argv: str) -> tuple[int, dict[str, Any]]:
        code = main(["--data-dir", str(data_dir), "--lang", "en", "--json", *argv])
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else {}

    assert pos("badge", "enrol", "m1", "--approver", "m1", "--reader", READER)[0] == 0
    assert pos("badge", "limit", "1.00", "--approver", "m1")[0] == 0
    code, sale = pos("sale", "--cashier", "c1", "--item", "SNK-001", "--pay", "cash")
    assert code == 0, sale
    refund = ("refund", sale["order_id"], "--cashier", "c1", "--approver", "m1", "--amount")
    code, refused = pos(*refund, "2.00")
    assert code == 3 and refused["code"] == "badge.approval_needs_badge", refused
    code, done = pos(*refund, "2.00", "--badge")
    assert code == 0 and done["approved_by"] == "m1" and done["amount"] == "2.00", done
