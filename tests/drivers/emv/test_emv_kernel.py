from __future__ import annotations

import pytest

from drivers.emv.apdu import CardError
from drivers.emv.config import TerminalConfig
from drivers.emv.kernel import EmvKernel
from drivers.emv.tvr import TvrBit
from drivers.virtualcard.profiles import MASTERCARD, PIN_ONLY, UNIONPAY, VISA
from pos.payments.card import cryptogram as ac
from pos.payments.card.issuer_keys import sandbox_issuer_key
from tests.drivers.emv.emv_helpers import exchange_for, kernel_for, txn


def _issuer_session_key(profile, atc: bytes) -> bytes:
    mk = ac.derive_icc_master_key(
        sandbox_issuer_key(profile.issuer_key_label), profile.pan, profile.psn
    )
    return ac.derive_session_key(mk, atc)


def test_online_approval_with_valid_arpc_ends_in_a_tc_and_the_card_records_it():
    card, _, kernel = kernel_for(VISA)
    state = kernel.first_ac(txn())
    assert state.first.kind == "ARQC"
    icc = state.icc_data()
    sk = _issuer_session_key(VISA, state.first.atc)
    assert ac.verify_cryptogram(sk, icc, state.first.cryptogram)
    arpc = ac.compute_arpc(sk, state.first.cryptogram, b"00")
    state = kernel.second_ac(b"00", arpc + b"00")
    assert state.second.kind == "TC"
    assert card.state.last_online_atc == card.state.atc


def test_a_forged_arpc_makes_the_card_decline_and_flags_issuer_authentication():
    card, _, kernel = kernel_for(VISA)
    kernel.first_ac(txn())
    state = kernel.second_ac(b"00", bytes(8) + b"00")
    assert state.second.kind == "AAC"
    assert state.tvr.has(TvrBit.ISSUER_AUTHENTICATION_FAILED)
    assert card.state.last_online_atc != card.state.atc


def test_the_arqc_does_not_verify_under_another_issuers_key():
    _, _, kernel = kernel_for(VISA)
    state = kernel.first_ac(txn())
    wrong = ac.derive_session_key(
        ac.derive_icc_master_key(sandbox_issuer_key("mastercard"), VISA.pan, VISA.psn),
        state.first.atc,
    )
    assert not ac.verify_cryptogram(wrong, state.icc_data(), state.first.cryptogram)


def test_several_applications_ask_the_cardholder_in_priority_order():
    seen = []

    def choose(cands):
        seen.append([c.display_name for c in cands])
        return cands[1]

    _, _, kernel = kernel_for(UNIONPAY, choose=choose)
    state = kernel.first_ac(txn())
    assert seen == [["银联信用卡", "银联借记卡"]]
    assert state.app.aid.hex().upper() == "A000000333010101"


def test_t0_card_answers_are_fetched_by_chained_get_response_and_exact_le():
    card, ex, kernel = kernel_for(UNIONPAY.with_(t0_chunk=16))
    state = kernel.first_ac(txn())
    assert state.first.kind == "ARQC"
    assert state.card.pan == UNIONPAY.pan
    # More APDUs on the wire than commands: every 61XX and 6CXX cost one more.
    assert ex.count > card.apdus_seen / 2
    assert card.apdus_seen == ex.count


def test_a_card_without_pse_is_found_through_the_aid_list():
    _, _, kernel = kernel_for(VISA.with_(pse=False))
    state = kernel.first_ac(txn())
    assert state.app.aid.hex().upper() == "A0000000031010"


def test_gpo_format_1_and_cdol_with_unknown_tags_work():
    _, _, kernel = kernel_for(MASTERCARD)
    state = kernel.first_ac(txn())
    assert state.aip == MASTERCARD.aip
    assert state.first.kind == "ARQC"


def test_a_pin_only_card_is_declined_plainly_without_going_online():
    _, _, kernel = kernel_for(PIN_ONLY)
    state = kernel.first_ac(txn())
    assert state.first.kind == "AAC"
    assert "PIN" in state.decline_reason
    assert state.tvr.has(TvrBit.PIN_PAD_NOT_PRESENT)
    with pytest.raises(CardError):
        kernel.second_ac(b"00", None)


def test_unable_to_go_online_approves_offline_until_the_cards_limit():
    card, _, _ = kernel_for(VISA)
    results = []
    for _ in range(VISA.upper_offline_limit + 1):
        card.power_on()
        kernel = EmvKernel(exchange_for(card), TerminalConfig(), lambda c: c[0])
        kernel.first_ac(txn())
        results.append(kernel.second_ac(None, None).second.kind)
    assert results[:3] == ["TC", "TC", "TC"]
    assert results[-1] == "AAC"


def test_an_expired_card_is_flagged_and_never_approved_offline():
    _, _, kernel = kernel_for(MASTERCARD.with_(expiry="240131"))
    state = kernel.first_ac(txn())
    assert state.tvr.has(TvrBit.EXPIRED_APPLICATION)
    assert kernel.second_ac(None, None).second.kind == "AAC"


def test_field_55_carries_no_pan_or_track_data():
    _, _, kernel = kernel_for(VISA)
    icc = kernel.first_ac(txn()).icc_data()
    assert 0x5A not in icc and 0x57 not in icc
    assert VISA.pan not in bytes(b for v in icc.values() for b in v).hex()


def test_a_card_answering_garbage_to_gpo_is_a_clear_card_error():
    card, _, kernel = kernel_for(VISA)
    real = card.respond

    def broken(apdu: bytes) -> bytes:
        return b"\x77\x05\x82\x02" + b"\x90\x00" if apdu[:2] == b"\x80\xa8" else real(apdu)

    card.respond = broken  # type: ignore[method-assign]
    with pytest.raises(CardError) as err:
        kernel.first_ac(txn())
    assert err.value.remedy


def test_format_1_cryptogram_answers_are_parsed():
    _, _, kernel = kernel_for(MASTERCARD)
    state = kernel.first_ac(txn())
    assert len(state.first.cryptogram) == 8 and state.first.atc == (MASTERCARD.atc + 1).to_bytes(
        2, "big"
    )
    assert len(state.first.iad) == 7
