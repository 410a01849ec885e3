from __future__ import annotations

import pytest

from pos.auth import (
    Approval,
    Role,
    User,
    approve,
    hash_pin,
    named_action,
    needs_rehash,
    require_approval,
    require_manager,
    validate_pin,
    verify_pin,
)
from pos.errors import InvalidInput, NotAllowed

MANAGER_HASH = hash_pin("2580")
MANAGER = User("u-1", "Wang Fang", Role.MANAGER, MANAGER_HASH)
CASHIER = User("u-2", "Li Lei", Role.CASHIER, hash_pin("8642"))


def test_pin_hash_is_scrypt_with_parameters_and_a_random_salt() -> None:
    encoded = hash_pin("2580")
    assert encoded.startswith("scrypt$n=16384,r=8,p=1$")
    assert "2580" not in encoded
    assert encoded != MANAGER_HASH  # fresh salt each time
    assert verify_pin("2580", encoded)
    assert not verify_pin("2581", encoded)


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", "１２３４", "1111", "123456"])
def test_pins_outside_the_rules_are_refused(pin: str) -> None:
    with pytest.raises(InvalidInput):
        validate_pin(pin)


def test_a_malformed_pin_is_just_wrong() -> None:
    assert not verify_pin("abc", MANAGER_HASH)
    assert not verify_pin("258", MANAGER_HASH)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text",
        "scrypt$n=16384,r=8,p=1$AAAA$AAAA",  # salt and hash too short
        "scrypt$n=1000,r=8,p=1$" + MANAGER_HASH.split("$", 3)[3],  # n not a power of two
        "scrypt$n=1073741824,r=8,p=1$" + MANAGER_HASH.split("$", 3)[3],  # absurd memory
        "scrypt$n=16384,r=8,p=1$!!!!$????",
    ],
)
def test_a_damaged_stored_hash_is_reported_not_crashed_on(stored: str) -> None:
    with pytest.raises(InvalidInput):
        verify_pin("2580", stored)


def test_weaker_stored_parameters_ask_for_a_rehash() -> None:
    weak = hash_pin("2580", n=2**12)
    assert verify_pin("2580", weak)
    assert needs_rehash(weak)
    assert not needs_rehash(MANAGER_HASH)


def test_only_an_active_manager_with_the_right_pin_approves() -> None:
    approval = approve(MANAGER, "2580", "refund an order", reason="damaged")
    assert approval == Approval("u-1", Role.MANAGER, "damaged")
    with pytest.raises(NotAllowed, match="wrong PIN"):
        approve(MANAGER, "0000", "refund an order")
    with pytest.raises(NotAllowed, match="to refund an order needs a manager"):
        approve(CASHIER, "8642", "refund an order")
    disabled = User("u-3", "Zhao", Role.MANAGER, MANAGER_HASH, active=False)
    with pytest.raises(NotAllowed, match="disabled"):
        approve(disabled, "2580", "void an order")


def test_require_manager_names_the_action() -> None:
    require_manager(MANAGER, "open the drawer")
    with pytest.raises(NotAllowed) as err:
        require_manager(CASHIER, "open the drawer without a sale")
    assert "open the drawer without a sale" in err.value.message
    assert "PIN" in err.value.render("en") and "PIN" in err.value.render("zh_CN")


def test_require_approval_refuses_missing_or_cashier_approvals() -> None:
    with pytest.raises(NotAllowed, match="manager's approval"):
        require_approval(None, "void a paid order")
    with pytest.raises(NotAllowed):
        require_approval(Approval("u-2", Role.CASHIER), "void a paid order")
    ok = Approval("u-1", Role.MANAGER)
    assert require_approval(ok, "void a paid order") is ok


def test_users_and_approvals_round_trip_and_bad_data_is_refused() -> None:
    assert User.from_dict(MANAGER.to_dict()) == MANAGER
    assert Approval.from_dict(Approval("u-1", Role.MANAGER, "x").to_dict()).reason == "x"
    with pytest.raises(InvalidInput):
        User.from_dict({**MANAGER.to_dict(), "role": "owner"})
    with pytest.raises(InvalidInput):
        User.from_dict({**MANAGER.to_dict(), "pin_hash": "1234"})
    with pytest.raises(InvalidInput):
        Approval.from_dict({"role": "manager"})
    assert User("u", "n", "cashier", MANAGER_HASH).role is Role.CASHIER  # type: ignore[arg-type]


def test_a_refusal_names_the_action_in_the_readers_language() -> None:
    with pytest.raises(NotAllowed) as err:
        require_approval(None, named_action("void"))
    assert err.value.render("zh_CN") == "作废已付款的订单需要店长批准。请店长输入 PIN。"
    assert "void a paid order needs a manager's approval" in err.value.render("en")
    with pytest.raises(NotAllowed) as err:
        require_manager(CASHIER, named_action("refund"))
    zh = err.value.render("zh_CN")
    assert "收银员" in zh and "退款" in zh and "cashier" not in zh
