"""`pos order list` and `pos order pay`, and a sale that takes no money naming
its order: the real CLI, router and sandbox gateways on loopback."""

from __future__ import annotations

import io

import pytest

from pos.cli.context import CliContext
from pos.cli.main import build_parser
from pos.errors import NotAllowed
from tests.pos.services.conftest import CASHIER_PIN, MANAGER_PIN
from tests.pos.services.test_cli_payments import keys_dir, run, till

__all__ = ["keys_dir", "till"]
CODE = "134567890123456789"


def text_run(data, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(data_dir=data, as_json=False, out=out, err=err)
    ctx.read_pin = lambda who: MANAGER_PIN if who == "boss" else CASHIER_PIN
    args = build_parser().parse_args(list(argv))
    return args.func(args, ctx), out.getvalue(), err.getvalue()


def test_a_declined_sale_names_its_order_which_is_listed_open_and_paid_later(till):
    data, server = till
    server.state.set_scenario({"next": True, "decline": "NOTENOUGH"})
    with pytest.raises(NotAllowed) as declined:
        run(data, "sale", "--cashier", "c1", "--item", "SNK-001", "--pay", "wechat",
            "--auth-code", CODE)  # fmt: skip
    order_id = declined.value.msg.params["order_id"]  # type: ignore[union-attr]
    assert order_id in str(declined.value) and "pos order pay" in str(declined.value)
    code, listed = run(data, "order", "list", "--open")
    assert code == 0 and [o["order_id"] for o in listed["orders"]] == [order_id]
    code, text, _ = text_run(data, "order", "list", "--open")
    assert code == 0 and order_id in text
    code, paid = run(data, "order", "pay", order_id, "--cashier", "c1", "--pay", "wechat",
                     "--auth-code", CODE)  # fmt: skip
    assert code == 0 and paid["state"] == "paid" and paid["receipt_no"]
    assert run(data, "order", "list", "--open")[1]["orders"] == []
    assert order_id in [o["order_id"] for o in run(data, "order", "list")[1]["orders"]]
    with pytest.raises(NotAllowed, match="not open"):
        run(data, "order", "pay", order_id, "--cashier", "c1", "--pay", "cash")


def test_a_part_paid_sale_prints_its_order_id_in_text_and_json(till):
    data, _ = till
    code, sale = run(data, "sale", "--cashier", "c1", "--item", "DLY-007", "--pay", "cash:10")
    assert code == NotAllowed.exit_code and sale["state"] == "open" and sale["order_id"]
    code, out, err = text_run(
        data, "sale", "--cashier", "c1", "--item", "DLY-007", "--pay", "cash:10"
    )
    [left] = [o for o in run(data, "order", "list", "--open")[1]["orders"]
              if o["order_id"] != sale["order_id"]]  # fmt: skip
    assert code == NotAllowed.exit_code
    assert left["order_id"] in out and f"pos order pay {left['order_id']}" in err
    code, paid = run(data, "order", "pay", left["order_id"], "--cashier", "c1", "--pay", "cash")
    assert code == 0 and paid["state"] == "paid" and paid["change"] == "0.00"


def test_a_channel_not_set_up_is_refused_before_any_order_exists(till):
    data, _ = till
    with pytest.raises(NotAllowed, match="card"):
        run(data, "sale", "--cashier", "c1", "--item", "SNK-001", "--pay", "card")
    assert run(data, "order", "list")[1]["orders"] == []
