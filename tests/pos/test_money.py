from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.money import (
    MAX_MINOR,
    Money,
    MoneyError,
    allocate_minor,
    decimal_to_minor,
    div_half_up,
    total,
)


def test_parse_reads_major_units_exactly() -> None:
    assert Money.parse("12.50") == Money(1250)
    assert Money.parse("12.5") == Money(1250)
    assert Money.parse("12") == Money(1200)
    assert Money.parse("-0.01") == Money(-1)
    assert Money.parse("500", "JPY") == Money(500, "JPY")


@pytest.mark.parametrize("text", ["12.505", "1,000", "abc", "", "1e3", "0.1.2"])
def test_parse_refuses_text_that_is_not_an_exact_amount(text: str) -> None:
    with pytest.raises(MoneyError):
        Money.parse(text)


def test_money_refuses_floats_and_unknown_currencies() -> None:
    with pytest.raises(MoneyError):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(True)
    with pytest.raises(MoneyError):
        Money(1, "XXX")


def test_mixing_currencies_is_refused() -> None:
    with pytest.raises(MoneyError):
        Money(1) + Money(1, "USD")
    with pytest.raises(MoneyError):
        _ = Money(1) < Money(1, "USD")


def test_scale_rounds_half_away_from_zero() -> None:
    assert Money(5).scale(1, 2) == Money(3)  # 2.5 -> 3
    assert Money(-5).scale(1, 2) == Money(-3)
    assert Money(4).scale(1, 3) == Money(1)
    assert div_half_up(-15, 10) == -2


def test_format_and_amount_text() -> None:
    assert Money(123450).format("zh_CN") == "¥1,234.50"
    assert Money(-5).format("en") == "-¥0.05"
    assert Money(1250).amount_text() == "12.50"
    assert Money(7, "KWD").amount_text() == "0.007"
    assert str(Money(100)) == "1.00 CNY"


def test_allocate_gives_ties_to_the_earliest_part() -> None:
    assert Money(100).allocate([1, 1, 1]) == [Money(34), Money(33), Money(33)]
    assert allocate_minor(5, [0, 0]) == [5, 0]


def test_decimal_to_minor_refuses_sub_minor_amounts() -> None:
    from decimal import Decimal

    assert decimal_to_minor(Decimal("12.30"), "CNY") == 1230
    with pytest.raises(MoneyError):
        decimal_to_minor(Decimal("12.301"), "CNY")


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30),
)
def test_allocation_never_loses_or_invents_a_fen(amount: int, weights: list[int]) -> None:
    parts = Money(amount).allocate(weights)
    assert total(parts) == Money(amount)
    wsum = sum(weights)
    if wsum:
        for part, w in zip(parts, weights, strict=True):
            # Each part is within one fen of its exact proportional share.
            assert abs(part.minor * wsum - amount * w) < wsum


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_parse_and_amount_text_round_trip(minor: int) -> None:
    m = Money(minor)
    assert Money.parse(m.amount_text()) == m


def test_amounts_beyond_any_a_store_takes_are_refused_before_the_database() -> None:
    assert Money(MAX_MINOR).minor == MAX_MINOR and Money(-MAX_MINOR).minor == -MAX_MINOR
    for minor in (MAX_MINOR + 1, -MAX_MINOR - 1, 2**63):
        with pytest.raises(MoneyError):
            Money(minor)
    with pytest.raises(MoneyError, match="more than any amount"):
        Money.parse("99999999999999999999")
    with pytest.raises(MoneyError):
        Money(MAX_MINOR) + Money(1)
