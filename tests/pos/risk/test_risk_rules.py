from __future__ import annotations

import re

import pytest

from pos.risk import RuleSetError, default_ruleset, parse_ruleset

GOOD = """
version = 4
[[rule]]
id = "big"
when = "amount > 50000"
action = "review"
step_up = "manager_pin"
priority = 10
reason_zh = "金额 {amount}"
reason_en = "amount {amount}"
"""


def rule(**fields: object) -> str:
    base: dict[str, object] = {
        "id": "r1",
        "when": "online",
        "action": "block",
        "priority": 5,
        "reason_zh": "原因",
        "reason_en": "reason",
    }
    base.update(fields)
    body = "\n".join(
        f"{k} = {v!r}" if not isinstance(v, bool) else f"{k} = {str(v).lower()}"
        for k, v in base.items()
        if v is not None
    )
    return "[[rule]]\n" + body + "\n"


def test_the_default_rule_set_compiles_and_covers_the_required_areas() -> None:
    rs = default_ruleset()
    ids = {r.id for r in rs.rules}
    assert {"offline-card-cap", "card-velocity-10m", "refund-no-receipt", "kiosk-amount-cap"} <= ids
    assert {r.action for r in rs.rules} == {"allow", "review", "block"}
    assert any(r.shadow for r in rs.rules)
    priorities = [r.priority for r in rs.rules]
    assert priorities == sorted(priorities, reverse=True)


def test_a_good_rule_set_carries_its_version_and_placeholders() -> None:
    rs = parse_ruleset(GOOD)
    assert rs.version == 4
    assert rs.rules[0].names == {"amount"}


@pytest.mark.parametrize(
    ("text", "rule_id", "fragment"),
    [
        (rule(when="amount >"), "r1", "Syntax error"),
        (rule(when='amount > "big"'), "r1", "no matching overload"),
        (rule(when="history.amount_z >= 6"), "r1", "decimal literal"),
        (rule(when="amount"), "r1", "gives int, not true/false"),
        (rule(when="online and amount > 1"), "r1", "&&"),
        (rule(when="amonut > 1"), "r1", "did you mean 'amount'"),
        (rule(action="deny"), "r1", "action 'deny'"),
        (rule(action="review"), "r1", "needs step_up"),
        (rule(step_up="check_id"), "r1", "only a review rule"),
        (rule(priority=5000), "r1", "priority"),
        (rule(reason_en=""), "r1", "reason_en"),
        (rule(reason_zh="{velocity.card.nope}"), "r1", "names no attribute"),
        (rule(shadow="yes"), "r1", "shadow"),
        (rule(colour="red"), "r1", "unknown key(s) colour"),
        (rule(id="Bad Id"), "#1", "id 'Bad Id'"),
        (rule() + rule(), "r1", "used by another rule"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_rule_and_the_reason(
    text: str, rule_id: str, fragment: str
) -> None:
    with pytest.raises(RuleSetError) as exc:
        parse_ruleset(text)
    assert any(rid == rule_id and fragment in why for rid, why in exc.value.problems), (
        exc.value.problems
    )
    assert f"'{rule_id}'" in exc.value.message


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = rule(id="a", when="amount >") + rule(id="b", action="maybe") + rule(id="c")
    with pytest.raises(RuleSetError) as exc:
        parse_ruleset(text)
    assert [rid for rid, _ in exc.value.problems] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("this is = = not toml", "not valid TOML"),
        ("version = 1\n", "at least one"),
        ("colour = 1\n" + rule(), "unknown top-level"),
        ("[lists]\nblock_bins = ['12ab']\n" + rule(), "4 to 8 digits"),
        ("[lists]\nblock_things = ['x']\n" + rule(), "unknown key(s) block_things"),
    ],
)
def test_a_malformed_file_is_refused_with_the_reason(text: str, fragment: str) -> None:
    with pytest.raises(RuleSetError, match=re.escape(fragment)):
        parse_ruleset(text)


def test_a_version_that_disagrees_with_the_file_is_refused() -> None:
    with pytest.raises(RuleSetError, match="says version 4, not 5"):
        parse_ruleset(GOOD, version=5)
