from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from pos.payments import rsa
from pos.payments.card import cryptogram as ac
from pos.payments.card import iso8583 as m
from pos.payments.card.offline import OfflinePolicy
from pos.payments.card.pan import card_token, luhn_valid, mask_pan, track2_parts
from pos.payments.card.sealed import open_card, seal_card

KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")


def test_retail_mac_matches_cbc_des_then_3des_on_the_last_block():
    data = bytes(range(37))
    padded = data + b"\x80" + bytes(-(len(data) + 1) % 8)
    kl, kr = KEY[:8], KEY[8:]
    # Single-DES CBC under KL up to the last block, then 3DES (KL, KR, KL) on it.
    cbc = Cipher(TripleDES(kl * 3), modes.CBC(bytes(8))).encryptor()
    chain = (cbc.update(padded[:-8]) + cbc.finalize())[-8:]
    last = bytes(a ^ b for a, b in zip(chain, padded[-8:], strict=True))
    final = Cipher(TripleDES(kl + kr + kl), modes.ECB()).encryptor().update(last)
    assert ac.retail_mac(KEY, data) == final


def test_derived_keys_have_odd_parity_and_depend_on_atc():
    mk = ac.derive_icc_master_key(KEY, "5413330089010012", "00")
    assert all(bin(b).count("1") % 2 == 1 for b in mk)
    assert ac.derive_session_key(mk, b"\x00\x01") != ac.derive_session_key(mk, b"\x00\x02")


def test_arpc_is_the_encrypted_xor_of_arqc_and_arc():
    sk = ac.derive_session_key(ac.derive_icc_master_key(KEY, "5413330089010012", "00"), b"\x00\x05")
    arqc = bytes.fromhex("1122334455667788")
    assert ac.compute_arpc(sk, arqc, b"00") != ac.compute_arpc(sk, arqc, b"51")


def test_iso8583_round_trip_keeps_binary_icc_data():
    msg = m.build(
        "0100", {"2": "5413330089010012", "4": "000000001234", "11": "000042"}, b"\x9f\x26\x01\xff"
    )
    back = m.decode(m.encode(msg))
    assert back.mti == "0100" and back.icc() == b"\x9f\x26\x01\xff" and back.get("11") == "000042"


@pytest.mark.parametrize("raw", [b"", b"0100", b"0100\xff\xff\xff\xff\xff\xff\xff\xff", b"xyz" * 5])
def test_malformed_iso8583_is_a_message_error(raw):
    with pytest.raises(m.MessageError):
        m.decode(raw)


def test_offline_policy_says_why_it_refuses():
    p = OfflinePolicy(per_transaction_cap_minor=100, total_cap_minor=150)
    assert p.refusal(100, 50, False) == ""
    assert "per payment" in p.refusal(101, 0, False)
    assert "total" in p.refusal(100, 60, False)
    assert "24 hours" in p.refusal(10, 0, True)
    assert "off" in OfflinePolicy(enabled=False).refusal(1, 0, False)


def test_pan_is_masked_tokenised_and_parsed_from_track2():
    pan = "5413330089010012"
    assert luhn_valid(pan) and not luhn_valid("5413330089010013")
    assert mask_pan(pan) == "541333******0012"
    token = card_token(b"k" * 32, pan)
    assert len(token) == 64 and pan not in token and token != card_token(b"j" * 32, pan)
    assert track2_parts(bytes.fromhex(pan + "D3012201000F")) == (pan, "3012", "201")


def test_sealed_card_data_opens_only_with_the_acquirers_key():
    key = rsa.generate()
    sealed = seal_card(key.public_key(), "5413330089010012", "3012")
    assert "5413330089010012" not in sealed
    assert open_card(key, sealed) == ("5413330089010012", "3012")
    with pytest.raises(Exception, match="does not open"):
        open_card(rsa.generate(), sealed)
