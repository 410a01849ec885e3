"""The catalogue itself: every code speaks both languages, with the same fields."""

from __future__ import annotations

import re

import pytest

from pos.errors import InvalidInput
from pos.flows.text import message_of
from pos.messages import (
    LANGS,
    Message,
    UnknownMessage,
    catalogue,
    env_lang,
    fields_of,
    msg,
)
from pos.money import Money

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_code_has_chinese_and_english_texts_that_differ() -> None:
    bad = []
    for code, texts in catalogue().items():
        zh, en = texts["zh_CN"], texts["en"]
        if not CJK.search(zh):
            bad.append(f"{code}: zh_CN has no Chinese")
        if zh == en:
            bad.append(f"{code}: zh_CN repeats the English")
        if not en.strip():
            bad.append(f"{code}: en is empty")
        if CJK.search(en):
            bad.append(f"{code}: en has Chinese")
    assert not bad, "\n".join(bad)


def test_both_languages_name_the_same_parameters() -> None:
    bad = [
        code
        for code, texts in catalogue().items()
        if fields_of(texts["zh_CN"]) != fields_of(texts["en"])
    ]
    assert not bad, bad


@pytest.mark.parametrize("lang", LANGS)
def test_every_code_renders_with_its_parameters(lang: str) -> None:
    for code, texts in catalogue().items():
        params = {name: "x" for name in fields_of(texts[lang])}
        out = Message(code, params).render(lang)
        assert "{" not in out, (code, out)


def test_money_renders_in_the_readers_format() -> None:
    m = msg("common.error_prefix", text=Money(1250, "CNY"))
    assert m.render("zh_CN") == "错误：¥12.50"
    assert m.render("en") == "error: ¥12.50"


def test_an_unknown_code_is_refused_when_made() -> None:
    with pytest.raises(UnknownMessage):
        msg("common.no_such_code")


def test_an_error_with_a_message_renders_in_either_language() -> None:
    exc = InvalidInput(msg("common.unexpected"))
    assert exc.code == "common.unexpected"
    assert CJK.search(exc.render("zh_CN"))
    assert exc.render("en").startswith("Something went wrong")
    said = message_of(exc)
    assert said.render("zh_CN") == exc.render("zh_CN") and said.render("en") == exc.render("en")


def test_language_comes_from_pos_lang_then_the_locale() -> None:
    assert env_lang({"POS_LANG": "en", "LANG": "zh_CN.UTF-8"}) == "en"
    assert env_lang({"LANG": "en_US.UTF-8"}) == "en"
    assert env_lang({"LANG": "C.UTF-8"}) == "zh_CN"
    assert env_lang({}) == "zh_CN"
