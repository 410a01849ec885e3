from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.errors import InvalidInput
from pos.money import Money
from pos.tax import DEFAULT_RATES, TaxTable, compute_tax

INCLUSIVE = TaxTable()
EXCLUSIVE = TaxTable(inclusive=False)


def test_inclusive_price_contains_its_vat() -> None:
    result = compute_tax([("standard", Money(11300))], INCLUSIVE)
    assert result.tax == Money(1300)
    assert result.total == Money(11300)
    assert result.lines[0].net == Money(10000)


def test_exclusive_price_gets_vat_on_top() -> None:
    result = compute_tax([("standard", Money(10000))], EXCLUSIVE)
    assert result.tax == Money(1300)
    assert result.total == Money(11300)


def test_tax_is_rounded_once_per_rate_group_then_allocated_to_lines() -> None:
    # Per line, 1.00 incl. 13% is 0.115 -> 0.12 each (0.36); per group 3.00 -> 0.35.
    result = compute_tax([("standard", Money(100))] * 3, INCLUSIVE)
    assert result.tax == Money(35)
    assert [lt.tax for lt in result.lines] == [Money(12), Money(12), Money(11)]


def test_rate_groups_are_reported_highest_rate_first() -> None:
    result = compute_tax(
        [("reduced", Money(1090)), ("standard", Money(1130)), ("exempt", Money(10000))], INCLUSIVE
    )
    assert [(g.rate_bp, g.tax.minor, g.net.minor) for g in result.by_rate] == [
        (1300, 130, 1000),
        (900, 90, 1000),
        (0, 0, 10000),
    ]
    assert result.tax == Money(220)


def test_unknown_class_and_negative_amounts_are_refused() -> None:
    with pytest.raises(InvalidInput, match="There is no tax class"):
        compute_tax([("luxury", Money(100))], INCLUSIVE)
    with pytest.raises(InvalidInput):
        compute_tax([("standard", Money(-1))], INCLUSIVE)
    with pytest.raises(InvalidInput):
        compute_tax([("standard", Money(1, "USD"))], INCLUSIVE)


def test_tax_table_round_trips_and_refuses_bad_rates() -> None:
    table = TaxTable({"standard": 1300, "service": 600}, inclusive=False)
    assert TaxTable.from_dict(table.to_dict()) == table
    with pytest.raises(InvalidInput):
        TaxTable({"standard": 13.0})  # type: ignore[dict-item]
    with pytest.raises(InvalidInput):
        TaxTable({"standard": 10_001})
    with pytest.raises(InvalidInput):
        TaxTable.from_dict({"rates": {"standard": 1300}, "inclusive": 2})


baskets = st.lists(
    st.tuples(st.sampled_from(sorted(DEFAULT_RATES)), st.integers(min_value=0, max_value=10**7)),
    max_size=40,
)


@given(baskets, st.booleans())
def test_lines_always_add_up_to_the_total_and_groups_to_the_tax(
    basket: list[tuple[str, int]], inclusive: bool
) -> None:
    table = TaxTable(inclusive=inclusive)
    result = compute_tax([(c, Money(m)) for c, m in basket], table)
    assert sum(lt.total.minor for lt in result.lines) == result.total.minor
    assert sum(lt.tax.minor for lt in result.lines) == result.tax.minor
    assert sum(g.gross.minor for g in result.by_rate) == result.total.minor
    for g in result.by_rate:
        members = [lt for lt in result.lines if lt.rate_bp == g.rate_bp]
        assert sum(lt.tax.minor for lt in members) == g.tax.minor
    amounts = sum(m for _, m in basket)
    assert result.total.minor == (amounts if inclusive else amounts + result.tax.minor)
    assert all(lt.tax.minor >= 0 and lt.net.minor >= 0 for lt in result.lines)
