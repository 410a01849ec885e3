"""The sweep finds what it looks for: a number that could be a card, in a
column, inside a journal payload or as upper-case track 2 hex; not the
digits inside random lower-case hex."""

from __future__ import annotations

import json

from pos.payments.card.pan import luhn_check_digit
from tests.integration.card.pan_sweep import pan_like_runs, sweep_bytes

UNKNOWN_CARD = "400012341234123" + luhn_check_digit("400012341234123")
MASKED = UNKNOWN_CARD[:6] + "******" + UNKNOWN_CARD[-4:]


def test_a_luhn_valid_number_with_a_scheme_prefix_is_found_and_shown_masked():
    assert pan_like_runs(f"paid with {UNKNOWN_CARD} today".encode()) == [MASKED]


def test_track_2_as_upper_case_hex_is_found():
    assert pan_like_runs(f"{UNKNOWN_CARD}D2512201".encode()) == [MASKED]


def test_digits_inside_lower_case_hex_ids_are_not_taken_for_a_card():
    assert pan_like_runs(f"a{UNKNOWN_CARD}b".encode()) == []


def test_barcodes_and_times_without_a_scheme_prefix_are_not_taken_for_a_card():
    ean = "690123400001" + luhn_check_digit("690123400001")
    assert pan_like_runs(f"{ean} 2026112414354497".encode()) == []


def test_a_known_card_number_is_found_in_any_form_even_where_luhn_is_not_checked():
    payload = json.dumps({"card_token": "x", "note": UNKNOWN_CARD}).encode()
    assert sweep_bytes("journal.payload", payload, [UNKNOWN_CARD], luhn=False)
    bcd = bytes.fromhex(UNKNOWN_CARD)
    assert sweep_bytes("wal", b"\x00" + bcd + b"\x00", [UNKNOWN_CARD], luhn=False)
