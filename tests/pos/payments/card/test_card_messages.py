"""Every card outcome the cashier can meet has a message in both languages
that says what to do next."""

from __future__ import annotations

import pytest

from pos.messages import catalogue
from pos.payments.errors import explain, known_codes

REQUIRED = [
    "05", "14", "51", "54", "62", "88", "96", "Y3", "Z3",
    "card_declined", "host_unreachable", "card_removed", "reversal_pending",
]  # fmt: skip


@pytest.mark.parametrize("code", REQUIRED)
def test_each_card_code_has_a_message_in_both_languages(code):
    note = explain("card", code)
    assert note.code == f"card.{code}"
    assert note.en.endswith(".") and note.zh.endswith("。")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in note.zh)


def test_the_card_codes_live_in_the_one_message_catalogue():
    assert known_codes("card") == {c.removeprefix("card.") for c in catalogue() if c.startswith("card.")}
    assert set(REQUIRED) <= known_codes("card")


def test_declines_tell_the_cashier_what_to_do_next():
    for code in ("05", "51", "54", "card_declined"):
        assert "another" in explain("card", code).en
    assert "Do not take another card payment" in explain("card", "reversal_pending").en


def test_an_unknown_card_code_gets_the_safe_generic_message():
    assert explain("card", "N7").code == "card.unknown"
