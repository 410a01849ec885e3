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
from pos.risk.expr import ExpressionError, compile_condition

SAMPLE = {INT: 3, MONEY: 12_00, FLOAT: 1.5, STR: "card", BOOL: True, STRSET: frozenset({"a"})}
FEATURES = {name: SAMPLE[a.type] for name, a in ATTRIBUTES.items()}

TOKENS = st.sampled_from(
    ["amount", "online", "card.present", "velocity.card.count_10m", "basket.categories",
     "channel", "history.amount_z", "and", "or", "not", "in", "==", "<", ">=", "+", "-", "*",
     "(", ")", "[", "]", ",", "1", "2_00", "1.5", '"card"', "true", "abs", "has_any", ".",
     "lambda", ":", "**", "/", "if", "else", "__class__", "x"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=14).map(" ".join))
def test_token_soup_compiles_or_is_refused(source: str) -> None:
    try:
        cond = compile_condition(source)
    except ExpressionError:
        return
    # What compiles is type-correct: it runs on any features and gives true/false.
    assert isinstance(cond.test(FEATURES), bool)


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
