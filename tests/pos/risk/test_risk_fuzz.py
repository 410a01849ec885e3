"""Whatever text arrives as a condition, a rule file or a BIN table, the answer
is a clear refusal or a result, never a crash."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from pos.errors import InvalidInput
from pos.risk import RuleSetError, parse_ruleset
from pos.risk.attributes import ATTRIBUTES, BOOL, FLOAT, INT, MONEY, STR, STRSET
from pos.risk.bins import BinTable
from pos.risk.cel import CelEvalError, ExpressionError, RuleProgram, compile_condition

SAMPLE = {INT: 3, MONEY: 12_00, FLOAT: 1.5, STR: "card", BOOL: True, STRSET: frozenset({"a"})}
FEATURES = {name: SAMPLE[a.type] for name, a in ATTRIBUTES.items()}

TOKENS = st.sampled_from(
    ["amount", "online", "card.present", "velocity.card.count_10m", "basket.categories",
     "channel", "history.amount_z", "&&", "||", "!", "in", "==", "<", ">=", "+", "-", "*",
     "(", ")", "[", "]", ",", "1", "200", "1.5", '"card"', "true", "size", "exists", ".",
     "?", ":", "/", "%", "x", "double", "int", "hotlist.card_rule", "9223372036854775807"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=14).map(" ".join))
def test_token_soup_compiles_or_is_refused(source: str) -> None:
    try:
        cond = compile_condition(source)
    except ExpressionError:
        return
    # What compiles is type-correct: on any features it gives true/false, or a
    # run-time fault (an overflow, a division by zero) the engine turns into a review.
    try:
        assert isinstance(cond.test(FEATURES), bool)
    except CelEvalError:
        assert isinstance(RuleProgram([cond]).evaluate(FEATURES)[0], Exception)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_compiles_or_is_refused(source: str) -> None:
    with contextlib.suppress(ExpressionError):
        compile_condition(source)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_rule_file_text_is_parsed_or_refused(text: str) -> None:
    with contextlib.suppress(RuleSetError):
        parse_ruleset(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_bin_table_text_is_loaded_or_refused(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        BinTable.parse("prefix,country,brand,issuer\n" + text)
