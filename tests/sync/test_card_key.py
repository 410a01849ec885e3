"""The chain's card-token key: made and held by the server (sealed in its
database), handed to each terminal sealed to that terminal's request, kept in
the terminal's keystore, and used for card tokens, so one card is one token
at every store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from drivers.virtualcard.profiles import UNIONPAY
from pos.clock import SystemClock
from pos.payments.card.pan import card_token
from pos.services.terminal_services import TerminalServices
from pos.store import keys
from pos.store.terminal import open_terminal
from sync import cardkey
from sync.apply import ConfigRejected
from sync.client import SyncClient, enroll
from sync.server import models as m


def test_terminals_of_two_stores_get_one_card_key_and_one_token_per_card(
    new_shop: Any, server: Any, tmp_path: Path
) -> None:
    sh: TerminalServices = new_shop("T-SH", "S001")
    bj: TerminalServices = new_shop("T-BJ", "S002")
    pan = UNIONPAY.pan
    own = {t.terminal.terminal_id: card_token(t.terminal.card_token_key, pan) for t in (sh, bj)}
    assert own["T-SH"] != own["T-BJ"]  # before enrolment: each terminal its own key

    for t in (sh, bj):
        enroll(t.terminal, server.url, server.code(t.terminal.store_id))
        assert t.terminal.has_chain_card_key
    assert sh.terminal.card_token_key == bj.terminal.card_token_key
    token = card_token(sh.terminal.card_token_key, pan)
    assert token == card_token(bj.terminal.card_token_key, pan) and pan not in token

    # Kept in the terminal's keystore: a reopened terminal still has it.
    key = sh.terminal.card_token_key
    assert sh.terminal.keystore.get(keys.CHAIN_CARD_TOKEN_KEY) == key
    again = open_terminal(tmp_path / "T-SH", SystemClock())
    try:
        assert again.card_token_key == key
    finally:
        again.close()
    # The server holds it sealed only.
    with server.engine.connect() as conn:
        [row] = conn.execute(select(m.chain_secrets)).all()
    assert key not in bytes(row.sealed) and key.hex() not in bytes(row.sealed).hex()


def test_a_terminal_enrolled_before_the_chain_key_gets_it_at_its_next_pull(
    shop: TerminalServices, server: Any, tmp_path: Path
) -> None:
    enroll(shop.terminal, server.url, server.code())
    chain = shop.terminal.card_token_key
    # As it was before the server handed keys out: no chain key in its keystore.
    shop.terminal.keystore.delete(keys.CHAIN_CARD_TOKEN_KEY)
    shop.close()
    terminal = open_terminal(tmp_path / "T-1", SystemClock())
    try:
        assert not terminal.has_chain_card_key and terminal.card_token_key != chain
        client = SyncClient.for_terminal(terminal, {})
        try:
            client.sync_once()
            assert terminal.has_chain_card_key and terminal.card_token_key == chain
            assert client.fetch_card_key() is False  # asked once only
        finally:
            client.close()
    finally:
        terminal.close()


def test_a_delivery_opens_only_for_its_request_and_only_from_the_pinned_server() -> None:
    server = Ed25519PrivateKey.generate()
    box, box_key = cardkey.new_box_key()
    key = b"k" * 32
    d = cardkey.seal(key, 1, "T-1", box_key, server)
    assert key.hex() not in d.model_dump_json()
    assert cardkey.open_delivery(d, "T-1", box, server.public_key()) == key
    other_box, _ = cardkey.new_box_key()
    with pytest.raises(cardkey.CardKeyRejected):
        cardkey.open_delivery(d, "T-1", other_box, server.public_key())
    with pytest.raises(cardkey.CardKeyRejected):
        cardkey.open_delivery(d, "T-2", box, server.public_key())
    with pytest.raises(cardkey.CardKeyRejected):  # not the pinned server's
        cardkey.open_delivery(d, "T-1", box, Ed25519PrivateKey.generate().public_key())
    forged = d.model_copy(update={"generation": 2})
    with pytest.raises(cardkey.CardKeyRejected):
        cardkey.open_delivery(forged, "T-1", box, server.public_key())


def test_a_refused_delivery_speaks_from_the_catalogue(shop: TerminalServices) -> None:
    from sync.client import adopt_card_key

    box, box_key = cardkey.new_box_key()
    d = cardkey.seal(b"k" * 32, 1, "T-1", box_key, Ed25519PrivateKey.generate())
    with pytest.raises(ConfigRejected) as err:
        adopt_card_key(shop.terminal, d, box, Ed25519PrivateKey.generate().public_key())
    assert err.value.code == "sync.card_key_rejected" and "卡令牌" in err.value.render("zh_CN")
    assert not shop.terminal.has_chain_card_key
