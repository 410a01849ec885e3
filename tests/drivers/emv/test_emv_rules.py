from __future__ import annotations

import random

from drivers.emv.config import TerminalConfig
from drivers.emv.cvm import verify_cardholder
from drivers.emv.dol import build_dol, parse_dol
from drivers.emv.risk import randomly_selected
from drivers.emv.tvr import TvrBit, tsi, tvr

AIP_CV = bytes.fromhex("1C00")
CFG = TerminalConfig()


def _cvm(rules: str, amount: int = 100, x: int = 0):
    bits = tvr()
    out = verify_cardholder(
        x.to_bytes(4, "big") + bytes(4) + bytes.fromhex(rules),
        AIP_CV,
        amount,
        True,
        CFG,
        bits,
        tsi(),
    )
    return out, bits


def test_signature_is_chosen_when_pin_is_only_offered_if_supported():
    out, bits = _cvm("42031E031F03")
    assert out.method == "signature" and out.results == bytes.fromhex("1E0300")
    assert not bits.has(TvrBit.CARDHOLDER_VERIFICATION_FAILED)


def test_no_cvm_under_the_cards_amount_x_and_signature_above():
    assert _cvm("1F061E03", amount=50_00, x=100_00)[0].method == "no_cvm"
    assert _cvm("1F061E03", amount=150_00, x=100_00)[0].method == "signature"


def test_a_pin_rule_without_fallback_fails_with_pin_required():
    out, bits = _cvm("0100")
    assert out.failed and out.pin_required
    assert bits.has(TvrBit.PIN_PAD_NOT_PRESENT)
    assert bits.has(TvrBit.CARDHOLDER_VERIFICATION_FAILED)


def test_a_pin_rule_that_allows_the_next_falls_back_to_signature():
    out, _ = _cvm("42001E00")
    assert out.method == "signature"


def test_an_unknown_method_is_flagged_and_fails_without_fallback():
    out, bits = _cvm("3A00")
    assert out.failed and not out.pin_required
    assert bits.has(TvrBit.UNRECOGNISED_CVM)


def test_random_selection_never_applies_at_or_over_the_floor_limit():
    cfg = TerminalConfig(floor_limit_minor=100_00, random_target_percent=99, random_max_percent=99)
    rng = random.Random(1)
    assert not randomly_selected(100_00, cfg, rng)
    assert randomly_selected(10_00, cfg, rng)


def test_random_selection_rate_follows_the_target_percentage():
    cfg = TerminalConfig(floor_limit_minor=100_00, random_target_percent=20, random_max_percent=20)
    rng = random.Random(7)
    hits = sum(randomly_selected(10_00, cfg, rng) for _ in range(5000))
    assert 800 < hits < 1200


def test_dol_values_are_padded_and_cut_by_their_format():
    dol = parse_dol(bytes.fromhex("9F02069F370450049F7C02"))
    data = build_dol(dol, {0x9F02: b"\x12\x34", 0x9F37: b"\x01\x02\x03\x04\x05", 0x50: b"AB"})
    assert data[:6] == bytes.fromhex("000000001234")  # numeric: zeros on the left
    assert data[6:10] == bytes.fromhex("01020304")  # binary: cut on the right
    assert data[10:14] == b"AB\x00\x00" and data[14:] == b"\x00\x00"
