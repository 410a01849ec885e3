"""Rule sets as data: TOML text in, a validated, compiled RuleSet out.

A rule set that has any problem is refused as a whole; every problem is
reported with the rule id it belongs to, so the file can be fixed in one go.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from pos.errors import InvalidInput
from pos.messages import fields_of, msg, texts_of
from pos.risk.attributes import ATTRIBUTES
from pos.risk.cel import Condition, ExpressionError, RuleProgram, compile_condition

ACTIONS = ("allow", "review", "block")
STEP_UPS = ("manager_pin", "check_id", "online_only")
LIST_KEYS = (
    "block_cards", "allow_cards", "block_bins", "allow_bins", "block_accounts", "allow_accounts",
)  # fmt: skip
MAX_RULES = 500
BIN_ENTRY_RE = re.compile(r"^[0-9]{4,8}$")  # a list entry matches cards by prefix
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_RULE_KEYS = frozenset(
    {"id", "when", "action", "step_up", "priority", "reason", "reason_zh", "reason_en",
     "shadow", "description"}
)  # fmt: skip
_TOP_KEYS = frozenset({"version", "description", "rule", "lists"})


class RuleSetError(InvalidInput):
    """A rule set refused; `problems` holds (rule id, reason) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        lines = [f"rule '{rid}': {why}" if rid else why for rid, why in problems]
        super().__init__(msg("risk.ruleset_refused", problems="; ".join(lines)))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    condition: Condition
    action: str
    priority: int
    reason_zh: str
    reason_en: str
    step_up: str | None = None
    shadow: bool = False
    description: str = ""
    placeholders: frozenset[str] = frozenset()
    reason_code: str = ""  # a catalogue code (risk.reason.*); else the inline texts

    @property
    def names(self) -> frozenset[str]:
        """Every attribute the rule reads, in its condition or its reasons."""
        return self.condition.names | self.placeholders


@dataclass(frozen=True, slots=True)
class RuleLists:
    """Block and allow lists carried by a rule set."""

    block_cards: frozenset[str] = frozenset()
    allow_cards: frozenset[str] = frozenset()
    block_bins: frozenset[str] = frozenset()
    allow_bins: frozenset[str] = frozenset()
    block_accounts: frozenset[str] = frozenset()
    allow_accounts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    version: int
    digest: str
    lists: RuleLists = field(default_factory=RuleLists)
    description: str = ""
    program: RuleProgram = field(default_factory=lambda: RuleProgram(()))

    @property
    def groups(self) -> frozenset[str]:
        """The attribute groups any rule needs computed."""
        return frozenset(ATTRIBUTES[n].group for r in self.rules for n in r.names)


PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


def _placeholders(text: str) -> frozenset[str]:
    """Reasons may show attribute values: 'card used {velocity.card.count_10m} times'."""
    names = set(PLACEHOLDER_RE.findall(text))
    unknown = sorted(n for n in names if n not in ATTRIBUTES)
    if unknown:
        raise ValueError(f"placeholder '{{{unknown[0]}}}' names no attribute")
    return frozenset(names)


# A catalogue text names an attribute with underscores for its dots:
# {velocity_card_count_10m} shows velocity.card.count_10m.
PARAM_ATTRIBUTES = {name.replace(".", "_"): name for name in ATTRIBUTES}
REASON_PREFIX = "risk.reason."


def _parse_reasons(raw: dict[str, Any], bad: Any) -> tuple[dict[str, str], frozenset[str], str]:
    """Either `reason` (a catalogue code, texts in pos/messages) or both inline
    texts (rules a chain writes itself); the values shown must be attributes."""
    code = raw.get("reason")
    inline = [k for k in ("reason_zh", "reason_en") if k in raw]
    if code is not None:
        if inline:
            bad("give either reason (a catalogue code) or reason_zh and reason_en, not both")
            return {}, frozenset(), ""
        if not isinstance(code, str) or not code.startswith(REASON_PREFIX):
            bad(f"reason must be a catalogue code starting {REASON_PREFIX!r}")
            return {}, frozenset(), ""
        texts = texts_of(code)
        if texts is None:
            bad(f"reason {code!r} is not in the message catalogue")
            return {}, frozenset(), ""
        fields = fields_of(texts["en"]) | fields_of(texts["zh_CN"])
        unknown = sorted(f for f in fields if f not in PARAM_ATTRIBUTES)
        if unknown:
            bad(f"reason {code!r} shows {{{unknown[0]}}}, which names no attribute")
            return {}, frozenset(), ""
        return {}, frozenset(PARAM_ATTRIBUTES[f] for f in fields), code
    reasons: dict[str, str] = {}
    placeholders: set[str] = set()
    for key in ("reason_zh", "reason_en"):
        text = raw.get(key)
        if not isinstance(text, str) or not text.strip():
            bad(f"{key} must be a non-empty text (or give reason = a catalogue code)")
            continue
        try:
            placeholders |= _placeholders(text)
        except ValueError as exc:
            bad(f"{key}: {exc}")
        reasons[key] = text
    return reasons, frozenset(placeholders), ""


def _parse_rule(raw: Any, index: int, problems: list[tuple[str, str]]) -> Rule | None:
    if not isinstance(raw, dict):
        problems.append((f"#{index + 1}", "a rule must be a [[rule]] table"))
        return None
    rid = raw.get("id")
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        problems.append(
            (f"#{index + 1}", f"id {rid!r} must be 1-64 of a-z 0-9 _ . - (starting a-z 0-9)")
        )
        return None
    start = len(problems)

    def bad(why: str) -> None:
        problems.append((rid, why))

    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        bad(f"unknown key(s) {', '.join(unknown)}")
    action = raw.get("action")
    if action not in ACTIONS:
        bad(f"action {action!r} must be one of {', '.join(ACTIONS)}")
    step_up = raw.get("step_up")
    if action == "review" and step_up not in STEP_UPS:
        bad(f"a review rule needs step_up = one of {', '.join(STEP_UPS)}")
    if action != "review" and step_up is not None:
        bad("only a review rule takes a step_up")
    priority = raw.get("priority")
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 1000:
        bad("priority must be a whole number 0..1000")
    shadow = raw.get("shadow", False)
    if not isinstance(shadow, bool):
        bad("shadow must be true or false")
    reasons, placeholders, code = _parse_reasons(raw, bad)
    condition: Condition | None = None
    when = raw.get("when")
    if not isinstance(when, str):
        bad("when must be a condition text")
    else:
        try:
            condition = compile_condition(when)
        except ExpressionError as exc:
            bad(f"condition: {exc}")
    if len(problems) > start or condition is None:
        return None
    desc = raw.get("description", "")
    return Rule(
        id=rid,
        condition=condition,
        action=str(action),
        priority=int(priority),  # type: ignore[arg-type]  # checked above
        reason_zh=reasons.get("reason_zh", ""),
        reason_en=reasons.get("reason_en", ""),
        reason_code=code,
        step_up=None if step_up is None else str(step_up),
        shadow=bool(shadow),
        description=str(desc),
        placeholders=frozenset(placeholders),
    )


def _parse_lists(raw: Any, problems: list[tuple[str, str]]) -> RuleLists:
    if raw is None:
        return RuleLists()
    if not isinstance(raw, dict):
        problems.append(("", "[lists] must be a table"))
        return RuleLists()
    unknown = sorted(set(raw) - set(LIST_KEYS))
    if unknown:
        problems.append(("", f"[lists] has unknown key(s) {', '.join(unknown)}"))
    values: dict[str, frozenset[str]] = {}
    for key in LIST_KEYS:
        items = raw.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            problems.append(("", f"[lists] {key} must be a list of non-empty texts"))
            continue
        if key.endswith("_bins") and not all(BIN_ENTRY_RE.match(i) for i in items):
            problems.append(("", f"[lists] {key} entries must be 4 to 8 digits"))
            continue
        values[key] = frozenset(items)
    return RuleLists(**values)


def parse_ruleset(text: str, version: int | None = None) -> RuleSet:
    """Validate and compile a TOML rule set. `version` overrides (and must agree
    with) the file's own `version` key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError([("", f"not valid TOML: {exc}")]) from None
    problems: list[tuple[str, str]] = []
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        problems.append(("", f"unknown top-level key(s) {', '.join(unknown)}"))
    file_version = doc.get("version")
    if file_version is not None and (
        isinstance(file_version, bool) or not isinstance(file_version, int) or file_version < 1
    ):
        problems.append(("", "version must be a whole number >= 1"))
        file_version = None
    if version is not None and file_version is not None and version != file_version:
        problems.append(("", f"the file says version {file_version}, not {version}"))
    raw_rules = doc.get("rule", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append(("", "a rule set needs at least one [[rule]]"))
        raw_rules = []
    if len(raw_rules) > MAX_RULES:
        problems.append(("", f"more than {MAX_RULES} rules"))
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        rule = _parse_rule(raw, i, problems)
        if rule is None:
            continue
        if rule.id in seen:
            problems.append((rule.id, "the id is used by another rule"))
        seen.add(rule.id)
        rules.append(rule)
    lists = _parse_lists(doc.get("lists"), problems)
    if problems:
        raise RuleSetError(problems)
    # Highest priority first; the id breaks ties so the order never depends on the file.
    rules.sort(key=lambda r: (-r.priority, r.id))
    return RuleSet(
        program=RuleProgram([r.condition for r in rules]),
        rules=tuple(rules),
        version=int(version if version is not None else (file_version or 0)),
        digest=hashlib.sha256(text.encode()).hexdigest(),
        lists=lists,
        description=str(doc.get("description", "")),
    )
