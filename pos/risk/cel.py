"""Rule conditions in CEL (the Common Expression Language), evaluated by
`cel-expr-python`, the CEL project's Python runtime over CEL C++.

Every attribute of the registry is declared to CEL with its type, so a
condition is type-checked when it is compiled: an unknown attribute, a type
error (`amount > "big"`, `history.amount_z >= 6` comparing a double with an
int) or a condition that is not true/false is refused with the line and
column. A rule set is compiled once into one CEL program, the list of all its
conditions, so a decision costs one evaluation; when that evaluation fails
(an overflow, say) the conditions are evaluated one by one to name the rule.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from cel_expr_python import cel

from pos.risk.attributes import ATTRIBUTES, BOOL, FLOAT, INT, MONEY, STR, STRSET, Attribute

MAX_LENGTH = 2000

_CEL_TYPES = {
    INT: cel.Type.INT,
    MONEY: cel.Type.INT,
    FLOAT: cel.Type.DOUBLE,
    STR: cel.Type.STRING,
    BOOL: cel.Type.BOOL,
}
# Dotted identifiers (attribute names, or a name followed by a macro/member call).
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_STRING = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_ERROR = re.compile(r"<input>:(-?\d+):(-?\d+): (.*)")
_EXPECTING = re.compile(r" expecting \{[^}]*\}")
_UNDECLARED = re.compile(r"undeclared reference to '([^']+)'")


class ExpressionError(ValueError):
    """A condition that cannot be compiled; the message says where and why."""


class CelEvalError(RuntimeError):
    """A condition whose evaluation failed (overflow, a value of the wrong type)."""


def _cel_type(attr: Attribute) -> Any:
    if attr.type == STRSET:
        return cel.Type.List(cel.Type.STRING)
    return _CEL_TYPES[attr.type]


@cache
def rule_env() -> Any:
    """The CEL environment declaring every attribute (immutable, built once)."""
    return cel.NewEnv(variables={a.name: _cel_type(a) for a in ATTRIBUTES.values()})


def referenced_names(source: str) -> frozenset[str]:
    """The attributes a condition reads (string literals ignored). A dotted
    word such as `basket.categories.exists` reads its longest known prefix."""
    found: set[str] = set()
    for word in _IDENT.findall(_STRING.sub("''", source)):
        parts = word.split(".")
        for n in range(len(parts), 0, -1):
            name = ".".join(parts[:n])
            if name in ATTRIBUTES:
                found.add(name)
                break
    return frozenset(found)


def _explain(source: str, error: str) -> str:
    """CEL's first error as one line: what, with a hint, and where."""
    first = next((m for m in _ERROR.finditer(error)), None)
    if first is None:
        return error.strip().splitlines()[0] if error.strip() else "not a valid condition"
    line, col, what = int(first.group(1)), int(first.group(2)), first.group(3).strip()
    what = _EXPECTING.sub("", what.removesuffix("[INVALID_ARGUMENT]")).strip()
    undeclared = _UNDECLARED.search(what)
    if undeclared:
        name = undeclared.group(1)
        close = difflib.get_close_matches(name, ATTRIBUTES, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        what = f"unknown attribute '{name}'{hint}"
    elif "(double, int)" in what or "(int, double)" in what:
        what += "; write a decimal literal (6.0) or convert with double(...)"
    if " and " in f" {source} " or " or " in f" {source} ":
        what += "; CEL writes && and || (not 'and'/'or')"
    if line < 1 or col < 1:
        return what
    return f"{what} (at line {line}, column {col})"  # CEL counts columns from 1


@dataclass(frozen=True, slots=True)
class Condition:
    """A type-checked CEL condition; `names` are the attributes it reads."""

    source: str
    names: frozenset[str]
    program: Any  # cel.Expression

    def test(self, data: Mapping[str, Any]) -> bool:
        """True or false; CelEvalError when the evaluation fails (an error
        value comes back from CEL rather than an exception)."""
        result = self.program.eval(data=data)
        if result.type() != cel.Type.BOOL:
            raise CelEvalError(str(result.value()))
        return bool(result.value())


def compile_condition(source: str) -> Condition:
    """Compile and type-check one condition against the attribute registry."""
    if not source.strip():
        raise ExpressionError("the condition is empty")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"the condition is longer than {MAX_LENGTH} characters")
    try:
        program = rule_env().compile(source)
    except RuntimeError as exc:
        raise ExpressionError(_explain(source, str(exc))) from None
    returns = program.return_type()
    if returns != cel.Type.BOOL:
        raise ExpressionError(
            f"the condition gives {returns.name().lower()}, not true/false (at line 1, column 1)"
        )
    return Condition(source, referenced_names(source), program)


def cel_value(attr: str, value: Any) -> Any:
    """A feature value as CEL takes it: sets become sorted lists."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


class RuleProgram:
    """All conditions of a rule set as one CEL program (a list of booleans)."""

    def __init__(self, conditions: Sequence[Condition]) -> None:
        self.conditions = tuple(conditions)
        self.names = frozenset(n for c in self.conditions for n in c.names)
        self._names = tuple(sorted(self.names))
        self._sets = tuple(n for n in self._names if ATTRIBUTES[n].type == STRSET)
        self._program: Any = None
        if self.conditions:
            text = "[" + ",\n".join(f"({c.source})" for c in self.conditions) + "]"
            self._program = rule_env().compile(text)

    def data(self, features: Mapping[str, Any]) -> dict[str, Any]:
        data = {n: features[n] for n in self._names}
        for n in self._sets:
            data[n] = sorted(data[n])
        return data

    def evaluate(self, features: Mapping[str, Any]) -> list[bool | Exception]:
        """One result per condition: its truth, or the error it raised."""
        if self._program is None:
            return []
        data = self.data(features)
        with contextlib.suppress(RuntimeError):
            # A list of bools (type-checked at compile); an error comes back as its text.
            values = self._program.eval(data=data).plain_value()
            if type(values) is list:
                return values
        out: list[bool | Exception] = []
        for c in self.conditions:
            try:
                out.append(c.test(data))
            except RuntimeError as exc:
                out.append(exc)
        return out


# A string literal, or a dotted identifier (checked in that order, so words
# inside strings are left alone).
_TOKEN = re.compile(
    r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
)
BATCH_ROWS = 256  # CEL bounds a program's iterations; a batch stays well inside


class ColumnCondition:
    """One condition evaluated over many rows in one CEL call: every attribute
    becomes a column (a list), and the program returns the indices of the rows
    where the condition holds. For scanning stored history (backtests), where
    a call per row would cost more than the condition."""

    def __init__(self, condition: Condition) -> None:
        names: list[str] = []

        def column(m: re.Match[str]) -> str:
            word = m.group(0)
            if word[0] in "'\"" or source[max(0, m.start() - 1)] == ".":
                return word
            parts = word.split(".")
            for n in range(len(parts), 0, -1):
                name = ".".join(parts[:n])
                if name in ATTRIBUTES:
                    if name not in names:
                        names.append(name)
                    return f"c{names.index(name)}[i]{word[len(name) :]}"
            return word

        source = condition.source
        text = _TOKEN.sub(column, source)
        self.names = tuple(names)
        variables = {f"c{k}": cel.Type.List(_cel_type(ATTRIBUTES[n])) for k, n in enumerate(names)}
        variables["n"] = cel.Type.List(cel.Type.INT)
        # Checked like the condition itself; a condition this rewrite cannot
        # carry raises ExpressionError and the caller evaluates row by row.
        try:
            self._program = cel.NewEnv(variables=variables).compile(f"n.filter(i, {text})")
        except RuntimeError as exc:
            raise ExpressionError(_explain(text, str(exc))) from None
        self._single = condition

    def matches(self, columns: Mapping[str, Sequence[Any]], rows: int) -> list[int]:
        """Indices (0..rows-1) of the rows where the condition is true; a row
        whose evaluation fails is not a match, as row by row."""
        data: dict[str, Any] = {f"c{k}": columns[n] for k, n in enumerate(self.names)}
        data["n"] = list(range(rows))
        with contextlib.suppress(RuntimeError):
            found = self._program.eval(data=data).plain_value()
            if type(found) is list:
                return found
        out = []
        for i in range(rows):
            with contextlib.suppress(RuntimeError):
                if self._single.test({n: columns[n][i] for n in self.names}):
                    out.append(i)
        return out
