"""The rule condition language: a small, typed subset of Python expression
syntax, parsed with `ast`, checked against a whitelist of node types and the
attribute registry, and compiled once into nested closures. Nothing is ever
passed to eval or exec.

Allowed: `and or not`, comparisons (chained too) `== != < <= > >= in not in`,
`+ - *` and unary minus on numbers, literals (int, float, str, true/false,
lists of literals), dotted attribute names from the registry, and the
functions `abs min max len has_any`.
"""

from __future__ import annotations

import ast
import difflib
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pos.risk.attributes import (
    ATTRIBUTES,
    BOOL,
    FLOAT,
    INT,
    MONEY,
    NUMERIC,
    STR,
    STRSET,
    Attribute,
)

Fn = Callable[[Mapping[str, Any]], Any]

MAX_LENGTH = 2000
MAX_NODES = 300

# Literal lists are typed by their elements.
LIST_STR = "list[str]"
LIST_NUM = "list[number]"


class ExpressionError(ValueError):
    """A condition that cannot be compiled; the message says where and why."""


@dataclass(frozen=True, slots=True)
class _Node:
    fn: Fn
    type: str
    const: bool = False
    value: Any = None
    key: str | None = None  # set when the node is a bare attribute lookup


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition: call `test(features)`; `names` are the attributes it reads."""

    source: str
    test: Fn
    names: frozenset[str]


def _const(value: Any, typ: str) -> _Node:
    def constant(_f: Mapping[str, Any]) -> Any:
        return value

    return _Node(constant, typ, const=True, value=value)


def _numeric_result(*types: str) -> str:
    if MONEY in types:
        return MONEY
    if FLOAT in types:
        return FLOAT
    return INT


_CMP_OPS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_CMP_TEXT = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip
_BIN_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}


class _Compiler:
    def __init__(self, attributes: Mapping[str, Attribute]) -> None:
        self.attributes = attributes
        self.names: set[str] = set()
        self.count = 0

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        col = getattr(node, "col_offset", None)
        where = f" (at column {col + 1})" if col is not None else ""
        return ExpressionError(message + where)

    def compile(self, node: ast.AST) -> _Node:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, f"condition is too long (more than {MAX_NODES} parts)")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"'{_describe(node)}' is not allowed in a rule condition")
        result: _Node = method(node)
        return result

    # -- leaves ------------------------------------------------------------------
    def _Constant(self, node: ast.Constant) -> _Node:
        v = node.value
        if isinstance(v, bool):
            return _const(v, BOOL)
        if isinstance(v, int):
            return _const(v, INT)
        if isinstance(v, float):
            return _const(v, FLOAT)
        if isinstance(v, str):
            return _const(v, STR)
        raise self.fail(node, f"literal {v!r} is not allowed")

    def _dotted(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return self._dotted(node.value) + "." + node.attr
        raise self.fail(node, "only dotted attribute names may be used")

    def _lookup(self, node: ast.AST) -> _Node:
        name = self._dotted(node)
        if name in ("true", "false"):
            return _const(name == "true", BOOL)
        attr = self.attributes.get(name)
        if attr is None:
            close = difflib.get_close_matches(name, self.attributes, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise self.fail(node, f"unknown attribute '{name}'{hint}")
        self.names.add(name)
        return _Node(operator.itemgetter(name), attr.type, key=name)

    _Name = _lookup
    _Attribute = _lookup

    def _sequence(self, node: ast.List | ast.Tuple | ast.Set) -> _Node:
        items = [self.compile(e) for e in node.elts]
        if not items or not all(i.const for i in items):
            raise self.fail(node, "a list must hold one or more literal values")
        types = {i.type for i in items}
        if types == {STR}:
            return _const(frozenset(i.value for i in items), LIST_STR)
        if types <= NUMERIC:
            return _const(frozenset(i.value for i in items), LIST_NUM)
        raise self.fail(node, "a list must hold only strings or only numbers")

    _List = _sequence
    _Tuple = _sequence
    _Set = _sequence

    # -- operators ---------------------------------------------------------------
    def _BoolOp(self, node: ast.BoolOp) -> _Node:
        parts = [self.compile(v) for v in node.values]
        for p, v in zip(parts, node.values, strict=True):
            if p.type != BOOL:
                raise self.fail(v, f"'and'/'or' needs true/false, got {p.type}")
        fns = tuple(p.fn for p in parts)
        if isinstance(node.op, ast.And):
            return _Node(_all_of(fns), BOOL)
        return _Node(_any_of(fns), BOOL)

    def _UnaryOp(self, node: ast.UnaryOp) -> _Node:
        inner = self.compile(node.operand)
        g = inner.fn
        if isinstance(node.op, ast.Not):
            if inner.type != BOOL:
                raise self.fail(node, f"'not' needs true/false, got {inner.type}")
            return _Node(lambda f: not g(f), BOOL)
        if isinstance(node.op, ast.USub):
            if inner.type not in NUMERIC:
                raise self.fail(node, f"'-' needs a number, got {inner.type}")
            if inner.const:
                return _const(-inner.value, inner.type)
            return _Node(lambda f: -g(f), inner.type)
        raise self.fail(node, f"'{_describe(node.op)}' is not allowed in a rule condition")

    def _BinOp(self, node: ast.BinOp) -> _Node:
        op = _BIN_OPS.get(type(node.op))
        if op is None:
            raise self.fail(node, f"'{_describe(node.op)}' is not allowed (only + - *)")
        left, right = self.compile(node.left), self.compile(node.right)
        if left.type not in NUMERIC or right.type not in NUMERIC:
            raise self.fail(node, f"arithmetic needs numbers, got {left.type} and {right.type}")
        typ = _numeric_result(left.type, right.type)
        if left.const and right.const:
            return _const(op(left.value, right.value), typ)
        lf, rf = left.fn, right.fn
        return _Node(lambda f: op(lf(f), rf(f)), typ)

    def _check_compare(self, node: ast.AST, op: ast.cmpop, left: _Node, right: _Node) -> None:
        text = _CMP_TEXT[type(op)]
        lt, rt = left.type, right.type
        if isinstance(op, ast.In | ast.NotIn):
            ok = (lt == STR and rt in (STRSET, LIST_STR)) or (lt in NUMERIC and rt == LIST_NUM)
        elif isinstance(op, ast.Eq | ast.NotEq):
            ok = (lt in NUMERIC and rt in NUMERIC) or (lt == rt and lt in (STR, BOOL))
        else:
            ok = (lt in NUMERIC and rt in NUMERIC) or (lt == rt == STR)
        if not ok:
            raise self.fail(node, f"cannot compare {lt} {text} {rt}")

    def _Compare(self, node: ast.Compare) -> _Node:
        operands = [self.compile(node.left)] + [self.compile(c) for c in node.comparators]
        steps: list[Fn] = []
        for i, op in enumerate(node.ops):
            left, right = operands[i], operands[i + 1]
            self._check_compare(node, op, left, right)
            steps.append(_compare_step(_CMP_OPS[type(op)], left, right))
        return _Node(_all_of(tuple(steps)), BOOL)

    # -- functions ---------------------------------------------------------------
    def _Call(self, node: ast.Call) -> _Node:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise self.fail(node, "only abs, min, max, len and has_any may be called")
        name = node.func.id
        args = [self.compile(a) for a in node.args]
        fns = tuple(a.fn for a in args)
        types = [a.type for a in args]
        if name == "abs" and len(args) == 1 and types[0] in NUMERIC:
            g = fns[0]
            return _Node(lambda f: abs(g(f)), types[0])
        if name in ("min", "max") and len(args) >= 2 and all(t in NUMERIC for t in types):
            pick = min if name == "min" else max
            return _Node(lambda f: pick(fn(f) for fn in fns), _numeric_result(*types))
        if name == "len" and len(args) == 1 and types[0] in (STRSET, STR):
            g = fns[0]
            return _Node(lambda f: len(g(f)), INT)
        if name == "has_any" and len(args) == 2 and types == [STRSET, LIST_STR]:
            g, wanted = fns[0], args[1].value
            return _Node(lambda f: not wanted.isdisjoint(g(f)), BOOL)
        shown = ", ".join(types)
        raise self.fail(node, f"no function {name}({shown}); use abs, min, max, len or has_any")


# Short shapes get their own closures and longer ones a plain loop: a rule set is
# evaluated on every payment, and a generator per call costs more than the test.
def _all_of(fns: tuple[Fn, ...]) -> Fn:
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        return lambda f: a(f) and b(f)
    if len(fns) == 3:
        a, b, c = fns
        return lambda f: a(f) and b(f) and c(f)

    def all_of(f: Mapping[str, Any]) -> bool:
        for fn in fns:  # noqa: SIM110 - a loop allocates no generator per call
            if not fn(f):
                return False
        return True

    return all_of


def _any_of(fns: tuple[Fn, ...]) -> Fn:
    if len(fns) == 2:
        a, b = fns
        return lambda f: a(f) or b(f)
    if len(fns) == 3:
        a, b, c = fns
        return lambda f: a(f) or b(f) or c(f)

    def any_of(f: Mapping[str, Any]) -> bool:
        for fn in fns:  # noqa: SIM110 - a loop allocates no generator per call
            if fn(f):
                return True
        return False

    return any_of


def _compare_step(op: Callable[[Any, Any], Any], left: _Node, right: _Node) -> Fn:
    # The common shapes (attribute against a literal) get the shortest closures:
    # a rule set is evaluated on every payment.
    if right.const:
        c = right.value
        if left.key is not None:
            key = left.key
            return lambda f: op(f[key], c)
        lf = left.fn
        return lambda f: op(lf(f), c)
    lf, rf = left.fn, right.fn
    return lambda f: op(lf(f), rf(f))


def _describe(node: ast.AST) -> str:
    names = {
        "Lambda": "lambda", "Subscript": "[...] indexing", "Div": "/", "FloorDiv": "//",
        "Mod": "%", "Pow": "**", "IfExp": "if/else", "NamedExpr": ":=",
        "ListComp": "comprehension", "GeneratorExp": "comprehension", "Await": "await",
        "Starred": "*", "Dict": "{...} mapping", "JoinedStr": "f-string", "Invert": "~",
        "BitAnd": "&", "BitOr": "|", "BitXor": "^", "LShift": "<<", "RShift": ">>",
    }  # fmt: skip
    kind = type(node).__name__
    return names.get(kind, kind)


def compile_condition(source: str, attributes: Mapping[str, Attribute] = ATTRIBUTES) -> Condition:
    """Compile `source` to a Condition, or raise ExpressionError saying why not."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("the condition is empty")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"the condition is longer than {MAX_LENGTH} characters")
    text = " ".join(source.split())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        hint = ""
        if "&&" in text or "||" in text:
            hint = "; write 'and' / 'or' / 'not' instead of && || !"
        # Python reports column 0 when the text ends too early.
        where = f"at column {exc.offset}" if exc.offset else "at the end"
        raise ExpressionError(f"syntax error {where}: {exc.msg}{hint}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the condition is nested too deeply") from None
    compiler = _Compiler(attributes)
    try:
        root = compiler.compile(tree.body)
    except RecursionError:
        raise ExpressionError("the condition is nested too deeply") from None
    if root.type != BOOL:
        raise ExpressionError(f"the condition must be true/false, it is {root.type}")
    return Condition(source=source, test=root.fn, names=frozenset(compiler.names))
