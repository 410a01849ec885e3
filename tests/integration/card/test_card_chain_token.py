"""A card sale approved online is recorded for risk under the card's token,
read from the card after the decision was taken: the terminal's own card
velocity and, through the journal, the server's chain-wide analysis see it.
With the chain's card-token key, the token is the one every store makes."""

from __future__ import annotations

import json

from drivers.virtualcard.profiles import VISA
from pos.events import Event
from pos.payments.card.pan import card_token
from pos.services.terminal_services import TerminalServices
from tests.integration.card.test_card_cli_sales import insert, sell, take_out, till

__all__ = ["till"]  # the fixture, used by name


def test_an_online_card_sale_is_recorded_for_risk_under_the_cards_token(till, slot) -> None:  # type: ignore[no-untyped-def]
    data, _service = till
    chain_key = b"c" * 32
    with TerminalServices.open(data) as services:
        services.terminal.adopt_chain_card_key(chain_key)  # as the server hands it over
    insert(slot, VISA)
    sale = sell(data, "card")
    take_out(slot)
    assert sale["state"] == "paid"

    token = card_token(chain_key, VISA.pan)
    with TerminalServices.open(data) as services, services.terminal.db.read() as conn:
        rows = conn.execute(
            "SELECT card_token, outcome FROM risk_events WHERE kind = 'sale'"
        ).fetchall()
        decisions = [
            json.loads(r[0])
            for r in conn.execute(
                "SELECT payload FROM journal WHERE type = ?", (Event.RISK_DECISION.value,)
            )
        ]
    assert [tuple(r) for r in rows] == [(token, "approved")]
    [decided] = decisions
    assert decided["card_token"] == token and VISA.pan not in json.dumps(decided)
