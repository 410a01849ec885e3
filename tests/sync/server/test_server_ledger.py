"""The chain's ledger at the server, over real HTTP on the signed terminal
protocol, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos.clock import SystemClock
from pos.member_code import make_code
from sync.protocol import RequestSigner, public_key_hex
from sync.server import enrolment
from sync.server.ledger import book
from wallets.client import LedgerClient, LedgerRefusal


def enrolled_client(server: Any, terminal_id: str, store_id: str = "S001") -> LedgerClient:
    """A terminal's key registered at the server, and the ledger client it signs with."""
    key = Ed25519PrivateKey.generate()
    code = enrolment.create_code(server.engine, SystemClock(), store_id)
    enrolment.enrol(
        server.engine, SystemClock(), code, terminal_id, store_id, public_key_hex(key.public_key())
    )
    return LedgerClient(server.url, RequestSigner(terminal_id, key, SystemClock()))


def member_with_points(server: Any, pin: str, points: int) -> tuple[LedgerClient, str]:
    till = enrolled_client(server, "T-1")
    number = str(till.create_member("Han Meimei", pin)["number"])
    till.activity(number=number, kind="points", type="load", amount=points, key=uuid.uuid4().hex)
    return till, number


def code_for(client: LedgerClient, number: str) -> str:
    return make_code(client.code_key(), number, SystemClock().now())


def test_load_redeem_refund_keep_the_books_balanced(
    db_url: str, server_on: Callable[..., Any], tmp_path: Path
) -> None:
    server = server_on(db_url, tmp_path)
    till = enrolled_client(server, "T-1")
    member = till.create_member("Li Lei", "2468")
    number = member["number"]
    loaded = till.activity(
        number=number, kind="stored_value", type="load", amount=10_000, key="load-" + "1" * 8
    )
    assert loaded["balance"] == 10_000
    spent = till.activity(
        code=code_for(till, number), kind="stored_value", type="redeem", amount=3_000,
        key="sale-" + "1" * 8, reference="order-1",
    )  # fmt: skip
    assert spent["balance"] == 7_000
    again = till.activity(
        code=code_for(till, number), kind="stored_value", type="redeem", amount=3_000,
        key="sale-" + "1" * 8, reference="order-1",
    )  # fmt: skip
    assert again["replayed"] and again["activity_id"] == spent["activity_id"]
    assert again["balance"] == 7_000
    refund = dict(
        member_id=member["member_id"], kind="stored_value", type="refund", amount=2_000,
        refers_to=spent["activity_id"],
    )  # fmt: skip
    assert till.activity(key="ref-1-" + "x" * 8, **refund)["balance"] == 9_000
    with pytest.raises(LedgerRefusal) as over:
        till.activity(key="ref-2-" + "x" * 8, **refund)
    assert over.value.error == "over-refund"
    assert book.trial_balance(server.engine) == 0
    found = till.find("sale-" + "1" * 8)
    assert found is not None and found["activity_id"] == spent["activity_id"]
    assert till.find("never-" + "1" * 8) is None


def test_a_stale_or_forged_member_code_is_refused(
    db_url: str, server_on: Callable[..., Any], tmp_path: Path
) -> None:
    server = server_on(db_url, tmp_path)
    till, number = member_with_points(server, "1357", 500)
    key = till.code_key()
    stale = make_code(key, number, SystemClock().now().replace(year=2025))
    forged = make_code(b"not the key" * 3, number, SystemClock().now())
    for code in (stale, forged):
        with pytest.raises(LedgerRefusal) as refused:
            till.activity(code=code, kind="points", type="redeem", amount=10, key=uuid.uuid4().hex)
        assert refused.value.error == "unknown-member"
    with pytest.raises(LedgerRefusal) as bad_pin:
        till.activity(
            code=make_code(key, number, SystemClock().now()), kind="points", type="redeem",
            amount=10, key=uuid.uuid4().hex, pin="0000",
        )  # fmt: skip
    assert bad_pin.value.error == "bad-pin"


def test_a_hundred_concurrent_spends_from_two_terminals_never_overdraw(
    db_url: str, server_on: Callable[..., Any], tmp_path: Path
) -> None:
    server = server_on(db_url, tmp_path)
    tills = [enrolled_client(server, "T-1"), enrolled_client(server, "T-2", "S002")]
    member = tills[0].create_member("Wang Fang", "9999")
    tills[0].activity(
        number=member["number"], kind="stored_value", type="load", amount=5_000,
        key="load-" + "9" * 8,
    )  # fmt: skip
    key = tills[0].code_key()

    def spend(i: int) -> str:
        till = tills[i % 2]
        try:
            till.activity(
                code=make_code(key, member["number"], SystemClock().now()), kind="stored_value",
                type="redeem", amount=100, key=f"spend-{i:04d}-{uuid.uuid4().hex}",
            )  # fmt: skip
        except LedgerRefusal as exc:
            return exc.error
        return "spent"

    with ThreadPoolExecutor(20) as pool:
        outcomes = Counter(pool.map(spend, range(100)))
    assert outcomes == {"spent": 50, "insufficient": 50}
    assert book.balance(server.engine, member["member_id"], "stored_value") == 0
    assert book.trial_balance(server.engine) == 0
    for till in tills:
        till.close()


def test_adjust_and_expire_are_for_the_office_not_a_till(
    db_url: str, server_on: Callable[..., Any], tmp_path: Path
) -> None:
    import httpx

    server = server_on(db_url, tmp_path)
    till, number = member_with_points(server, "5555", 300)
    with pytest.raises(LedgerRefusal) as refused:
        till.activity(number=number, kind="points", type="expire", amount=100, key="exp-" + "1" * 8)
    assert refused.value.error == "bad-request"
    body = {
        "number": number,
        "kind": "points",
        "type": "expire",
        "amount": 100,
        "key": "exp-" + "2" * 8,
    }
    url = server.url + "/v1/ledger/admin/activities"
    assert httpx.post(url, json=body).status_code == 403
    done = httpx.post(url, json=body, headers={"Authorization": "Bearer admin-secret"})
    assert done.status_code == 200 and done.json()["balance"] == 200
    adjust = {**body, "type": "adjust", "amount": -50, "key": "adj-" + "1" * 8}
    done = httpx.post(url, json=adjust, headers={"Authorization": "Bearer admin-secret"})
    assert done.json()["balance"] == 150
    assert book.trial_balance(server.engine) == 0


def test_a_claimed_key_never_spends_and_a_spent_key_is_not_claimed(
    db_url: str, server_on: Callable[..., Any], tmp_path: Path
) -> None:
    server = server_on(db_url, tmp_path)
    till, number = member_with_points(server, "2222", 300)
    spend = {"kind": "points", "type": "redeem", "amount": 100}
    # The till lost the answer and resolves by claiming the key first ...
    assert till.void("late-spend-1", "points")["type"] == "void"
    with pytest.raises(LedgerRefusal) as late:  # ... so the spend arriving late is refused
        till.activity(code=code_for(till, number), key="late-spend-1", **spend)
    assert late.value.error == "key-reused"
    done = till.activity(code=code_for(till, number), key="early-spend-1", **spend)
    claimed = till.void("early-spend-1", "points")
    assert claimed == {"type": "redeem", "activity_id": done["activity_id"]}
    assert till.member(number)["balances"]["points"] == 200
    assert book.trial_balance(server.engine) == 0
