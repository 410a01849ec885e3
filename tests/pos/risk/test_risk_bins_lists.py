from __future__ import annotations

import pytest

from pos.errors import InvalidInput
from pos.risk.bins import BinTable
from pos.risk.lists import ListBook
from pos.risk.rules import RuleLists


def test_the_longest_matching_prefix_wins() -> None:
    table = BinTable.parse("prefix,country,brand,issuer\n4,,VISA,\n436742,CN,VISA,CCB\n")
    assert table.lookup("43674212").country == "CN"
    assert table.lookup("41111111").brand == "VISA"
    assert table.lookup("41111111").country == ""
    assert table.lookup("99999999").brand == ""


def test_the_shipped_table_loads() -> None:
    table = BinTable.load()
    assert len(table) > 20
    assert table.lookup("622202").country == "CN"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("bin,country\n", "first line"),
        ("prefix,country,brand,issuer\n12x,CN,VISA,\n", "line 2: prefix"),
        ("prefix,country,brand,issuer\n4,China,VISA,\n", "line 2: country"),
        ("prefix,country,brand,issuer\n4,,VISA\n", "line 2: expected 4"),
        ("prefix,country,brand,issuer\n4,,VISA,\n4,,VISA,\n", "line 3: prefix 4 twice"),
    ],
)
def test_a_bad_bin_table_is_refused_with_its_line(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        BinTable.parse(text)


def test_a_bin_entry_matches_every_card_that_starts_with_it() -> None:
    book = ListBook.build(RuleLists(block_bins=frozenset({"4367"})), [("allow", "card", "t1")])
    assert book.has("block", "bin", "43674212")
    assert not book.has("block", "bin", "43684212")
    assert book.has("allow", "card", "t1")
    assert not book.has("allow", "card", "")
    out: dict[str, object] = {}
    book.features("t1", "436742", "", out)
    assert out["card.bin_blocked"] and out["card.allowed"] and not out["account.blocked"]
