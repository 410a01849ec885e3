"""Whatever a card answers (a chip gone bad, a counterfeit, a reader that
garbles a frame), the kernel ends in a result or a PosError with its remedy
(CardError, TlvError), which the card channel turns into a clear decline:
never another exception, which would escape the channel."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.virtualcard.profiles import MASTERCARD, UNIONPAY, VISA
from pos.errors import PosError
from tests.drivers.emv.emv_helpers import kernel_for, txn

PROFILES = {"visa": VISA, "mastercard": MASTERCARD, "unionpay": UNIONPAY}


@settings(max_examples=500, deadline=None)
@given(
    profile=st.sampled_from(sorted(PROFILES)),
    which=st.integers(0, 24),
    how=st.sampled_from(["replace", "truncate", "flip", "append", "status"]),
    data=st.binary(max_size=80),
    at=st.integers(0, 400),
    status=st.sampled_from([b"\x90\x00", b"\x6a\x82", b"\x61\x10", b"\x6c\x05", b"\x69\x85"])
    | st.binary(min_size=2, max_size=2),
)
def test_any_card_answer_ends_in_a_result_or_a_clear_card_error(
    profile: str, which: int, how: str, data: bytes, at: int, status: bytes
) -> None:
    card, _, kernel = kernel_for(PROFILES[profile])
    real = card.respond
    count = itertools.count()

    def answer(apdu: bytes) -> bytes:
        resp = real(apdu)
        if next(count) != which:
            return resp
        body, sw = resp[:-2], resp[-2:]
        if how == "replace":
            body = data
        elif how == "truncate":
            body = body[: at % (len(body) + 1)]
        elif how == "flip" and body:
            i = at % len(body)
            body = body[:i] + bytes([body[i] ^ (1 + at % 255)]) + body[i + 1 :]
        elif how == "append":
            body = body + data
        elif how == "status":
            sw = status
        return body + sw

    card.respond = answer  # type: ignore[method-assign]
    try:
        state = kernel.first_ac(txn())
        if state.first.kind == "ARQC":
            kernel.second_ac(b"00", None)
    except PosError as exc:
        assert exc.remedy
