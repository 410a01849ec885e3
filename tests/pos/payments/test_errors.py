"""Every code the terminal can receive has a zh/en message with a next step;
an unknown code gets a safe generic one and is logged raw."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from pos.payments.errors import explain, known_codes

SANDBOX = Path(__file__).resolve().parents[3] / "pos" / "payments" / "sandbox"


def codes_the_sandbox_sends() -> set[tuple[str, str]]:
    found = set()
    for name, platform in (("alipay_gw.py", "alipay"), ("wechat_gw.py", "wechat")):
        text = (SANDBOX / name).read_text()
        found |= {(platform, c) for c in re.findall(r'"(ACQ\.[A-Z_]+|isv\.[a-z-]+)"', text)}
        found |= {(platform, c) for c in re.findall(r'_err\(\s*\d+,\s*"([A-Z_]+)"', text)}
        found |= {(platform, c) for c in re.findall(r'_v2_err\("([A-Z_]+)"', text)}
    return found


@pytest.mark.parametrize(("platform", "code"), sorted(codes_the_sandbox_sends()))
def test_every_code_the_gateways_send_has_a_message(platform, code):
    note = explain(platform, "40004", code)
    assert note.code == f"{platform}.{code}" or code in (
        "isv.invalid-method",
        "NOT_FOUND",
        "NO_STATEMENT_EXIST",
    )
    assert note.en and note.zh


def test_messages_say_what_to_do_next():
    for platform in ("alipay", "wechat"):
        for code in known_codes(platform):
            note = explain(platform, "", code)
            assert note.en.endswith(".") and note.zh.endswith("。"), code


def test_unknown_code_gets_a_generic_message_and_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="pos.payments.errors"):
        falls_back = explain("alipay", "40004", "ACQ.SOMETHING_NEW")
        note = explain("wechat", "BRAND_NEW_CODE")
    assert falls_back.code == "alipay.40004"
    assert note.code == "wechat.unknown"
    assert "manager" in note.en and "店长" in note.zh
    assert "ACQ.SOMETHING_NEW" in caplog.text and "BRAND_NEW_CODE" in caplog.text
