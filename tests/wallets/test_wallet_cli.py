"""`pos member create|load|balance|code` and `pos sale --pay stored_value
--pay points --member CODE`, against a real server on loopback."""

from __future__ import annotations

import pytest

from pos.errors import NotFound
from tests.pos.services.test_cli_payments import run
from tests.wallets.conftest import Shop

COLA, CHIPS = "6901234000016", "6901234001013"  # 3.50, 7.50


def test_member_commands_and_a_sale_paid_from_the_members_balances(
    shop: Shop,
) -> None:
    data = shop.data
    code, made = run(data, "member", "create", "--name", "Zhao Min")
    assert code == 0
    number = made["number"]
    assert (
        run(data, "member", "load", number, "100.00", "--key", "load-zm-1")[1]["balance"] == 10000
    )
    again = run(data, "member", "load", number, "100.00", "--key", "load-zm-1")[1]
    assert again["replayed"] and again["balance"] == 10000
    assert run(data, "member", "load", number, "500", "--points")[1]["balance"] == 500
    code, shown = run(data, "member", "code", number)
    assert code == 0 and shown["code"].startswith("97" + number)

    code, sale = run(
        data, "sale", "--cashier", "c1", "--item", COLA, "--item", CHIPS,
        "--pay", "stored_value:5.00", "--pay", "points:3.00", "--pay", "cash",
        "--member", shown["code"],
    )  # fmt: skip
    assert code == 0 and sale["state"] == "paid"
    assert [t["channel"] for t in sale["tenders"]] == ["stored_value", "points", "cash"]
    code, balance = run(data, "member", "balance", run(data, "member", "code", number)[1]["code"])
    assert balance["balances"] == {"stored_value": 9500, "points": 200}

    refund = ("refund", sale["receipt_no"], "--cashier", "c1", "--approver", "boss")
    code, _ = run(data, *refund, "--amount", "11.00")
    assert code == 0
    assert run(data, "member", "balance", number)[1]["balances"] == {
        "stored_value": 10000,
        "points": 500,
    }
    with pytest.raises(NotFound) as missing:
        run(data, "member", "balance", "00000000")
    assert missing.value.exit_code == 4
    assert "会员" in missing.value.render("zh_CN")
