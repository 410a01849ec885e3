"""Conditions in CEL: type-checked at load against the declared attributes,
refused with the rule id and the position, evaluated as one program."""

from __future__ import annotations

import pytest

from pos.risk import RuleSetError, parse_ruleset
from pos.risk.attributes import ATTRIBUTES
from pos.risk.cel import (
    ColumnCondition,
    ExpressionError,
    RuleProgram,
    compile_condition,
    referenced_names,
)


def rule(rid: str, when: str) -> str:
    return (
        f'[[rule]]\nid = "{rid}"\nwhen = \'{when}\'\naction = "block"\npriority = 1\n'
        'reason_zh = "拦截"\nreason_en = "blocked"\n'
    )


@pytest.mark.parametrize(
    ("when", "where", "what"),
    [
        ("amout > 3", "line 1, column 1", "unknown attribute 'amout'; did you mean 'amount'?"),
        ("online && channel > 3", "line 1, column 19", "no matching overload for '_>_'"),
        ("history.amount_z >= 6", "line 1, column 18", "decimal literal"),
        ("amount > 1 &&", "line 1, column 14", "Syntax error"),
    ],
)
def test_a_bad_condition_is_refused_with_the_rule_id_and_the_position(
    when: str, where: str, what: str
) -> None:
    with pytest.raises(RuleSetError) as exc:
        parse_ruleset(rule("bad-one", when) + rule("good-one", "online"))
    [(rid, why)] = exc.value.problems
    assert rid == "bad-one"
    assert where in why and what in why, why


def test_a_condition_that_is_not_true_or_false_is_refused() -> None:
    with pytest.raises(ExpressionError, match="gives string, not true/false"):
        compile_condition("channel")


def test_every_declared_attribute_is_known_to_cel_with_its_type() -> None:
    for name in ATTRIBUTES:
        compile_condition(f"type({name}) == type({name})")


def test_names_read_are_found_outside_string_literals() -> None:
    names = referenced_names('basket.categories.exists(c, c == "amount") && card.present')
    assert names == {"basket.categories", "card.present"}


def test_one_program_evaluates_every_condition_in_order() -> None:
    conds = [compile_condition(c) for c in ("amount > 10", "online", '"food" in basket.categories')]
    program = RuleProgram(conds)
    f = {"amount": 11, "online": False, "basket.categories": frozenset({"food", "toys"})}
    assert program.evaluate(f) == [True, False, True]


def test_a_fault_in_one_condition_is_pinned_on_that_condition_only() -> None:
    conds = [compile_condition(c) for c in ("amount * 9223372036854775807 > 0", "online")]
    out = RuleProgram(conds).evaluate({"amount": 3, "online": True})
    assert isinstance(out[0], Exception) and out[1] is True


def test_a_condition_over_columns_matches_the_same_rows_as_row_by_row() -> None:
    rows = [
        {"amount": a, "channel": ch, "card.present": p, "velocity.card.count_1h": v}
        for a in (0, 5, 20_001, 90_000)
        for ch in ("card", "amount", "wechat")
        for p in (True, False)
        for v in (0, 3, 7)
    ]
    for source in (
        "card.present && velocity.card.count_1h >= 3 && amount > 20000",
        "channel in ['amount', \"card.present\"] || amount == 5",  # names inside strings
        "[1, 2].exists(x, x + amount > 20002) && channel.startsWith('c')",  # macro, member call
        "100 / (amount - 5) > 1",  # fails on the rows where amount is 5: not a match
    ):
        condition = compile_condition(source)
        columns = {n: [r[n] for r in rows] for n in condition.names}
        expected = []
        for i, r in enumerate(rows):
            try:
                if condition.test({n: r[n] for n in condition.names}):
                    expected.append(i)
            except RuntimeError:
                pass
        assert ColumnCondition(condition).matches(columns, len(rows)) == expected, source
