from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from pos.errors import InvalidInput
from pos.money import Money
from pos.risk import BasketFacts, RefundFacts, RiskContext

Ctx = Callable[..., RiskContext]


@pytest.mark.parametrize(
    ("over", "fragment"),
    [
        ({"mode": "drive-through"}, "unknown mode"),
        ({"kind": "layaway"}, "unknown kind"),
        ({"at": datetime(2026, 3, 2, 10)}, "no time zone"),
        ({"amount": Money(-1)}, "non-negative"),
        ({"channel": ""}, "payment channel"),
        ({"card_bin": "4111"}, "6 to 8 digits"),
        ({"kind": "refund"}, "refund facts"),
        ({"basket": BasketFacts(items=-1)}, "fewer than 0"),
    ],
)
def test_a_context_that_makes_no_sense_is_refused(
    ctx: Ctx, over: dict[str, object], fragment: str
) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        ctx(**over)


def test_a_context_round_trips_through_its_record(ctx: Ctx, t0: datetime) -> None:
    original = ctx(
        kind="refund",
        refund=RefundFacts(True, True, timedelta(hours=50)),
        basket=BasketFacts(items=3, lines=2, categories=frozenset({"food"}), gift_cards=1),
        shift_start=t0 - timedelta(hours=2),
        account="buyer-1",
    )
    assert RiskContext.from_dict(original.to_dict()) == original


def test_the_hour_of_the_week_is_local(ctx: Ctx, t0: datetime) -> None:
    assert ctx(at=t0).hour_of_week() == 10  # Monday 10:00 in the store's zone
    assert ctx(at=t0 + timedelta(days=6, hours=13)).hour_of_week() == 167
