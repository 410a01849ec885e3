"""Converting rule files from the former condition language to CEL.

The former language was a typed subset of Python expressions (`and or not`,
chained comparisons, `in` / `not in`, `+ - *`, `len`, `has_any`, `abs`,
`min`, `max`, `2000_00` digit groups). This module reads a condition with
Python's own parser (`ast.parse`, nothing is evaluated) and writes the CEL
that means the same, with the attribute types deciding where CEL needs a
decimal literal (CEL does not compare a double with an int). A TOML rule
file is converted by rewriting only its `when = ...` lines, so comments,
order and reasons stay as the author wrote them.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib

from pos.risk.attributes import ATTRIBUTES, FLOAT


class ConvertError(ValueError):
    """A condition the converter cannot express in CEL; the message says why."""


_CMP = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in",
}  # fmt: skip
_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}
# Binding strength, loosest first, so parentheses are written only where needed.
_OR, _AND, _CMP_P, _ADD, _MUL, _UNARY, _ATOM = range(7)


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


class _Writer:
    def is_float(self, node: ast.AST) -> bool:
        name = _dotted(node)
        if name is not None and name in ATTRIBUTES:
            return ATTRIBUTES[name].type == FLOAT
        if isinstance(node, ast.Constant):
            return isinstance(node.value, float)
        if isinstance(node, ast.BinOp):
            return self.is_float(node.left) or self.is_float(node.right)
        if isinstance(node, ast.UnaryOp):
            return self.is_float(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return any(self.is_float(a) for a in node.args)
        return False

    def write(self, node: ast.AST, as_float: bool = False) -> tuple[str, int]:
        """CEL text and its binding strength."""
        if isinstance(node, ast.BoolOp):
            op, prec = ("&&", _AND) if isinstance(node.op, ast.And) else ("||", _OR)
            return f" {op} ".join(self.wrap(v, prec + 1) for v in node.values), prec
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return "!" + self.wrap(node.operand, _UNARY), _UNARY
            if isinstance(node.op, ast.USub):
                return "-" + self.wrap(node.operand, _UNARY, as_float), _UNARY
            if isinstance(node.op, ast.UAdd):
                return self.write(node.operand, as_float)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            prec = _MUL if isinstance(node.op, ast.Mult) else _ADD
            f = as_float or self.is_float(node)
            left = self.wrap(node.left, prec, f)
            right = self.wrap(node.right, prec + 1, f)
            return f"{left} {_ARITH[type(node.op)]} {right}", prec
        if isinstance(node, ast.Constant):
            return self.constant(node.value, as_float), _ATOM
        if isinstance(node, ast.Name) and node.id in ("true", "false"):
            return node.id, _ATOM
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            items = ", ".join(self.write(e, as_float)[0] for e in node.elts)
            return f"[{items}]", _ATOM
        if isinstance(node, ast.Call):
            return self.call(node, as_float), _ATOM
        name = _dotted(node)
        if name is not None:
            if name not in ATTRIBUTES:
                raise ConvertError(f"unknown attribute '{name}'")
            if as_float and ATTRIBUTES[name].type != FLOAT:
                return f"double({name})", _ATOM
            return name, _ATOM
        raise ConvertError(f"cannot convert {ast.dump(node)[:60]}")

    def wrap(self, node: ast.AST, need: int, as_float: bool = False) -> str:
        text, prec = self.write(node, as_float)
        return text if prec >= need else f"({text})"

    def constant(self, value: object, as_float: bool) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return f"{value}.0" if as_float else str(value)
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)
        raise ConvertError(f"cannot convert the literal {value!r}")

    def compare(self, node: ast.Compare) -> tuple[str, int]:
        parts: list[str] = []
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts.append(self.one_compare(left, op, right))
            left = right
        if len(parts) == 1:
            return parts[0], _CMP_P if not parts[0].startswith("!") else _UNARY
        return " && ".join(parts), _AND

    def one_compare(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> str:
        if isinstance(op, ast.NotIn):
            return "!(" + self.one_compare(left, ast.In(), right) + ")"
        if type(op) not in _CMP:
            raise ConvertError(f"cannot convert the comparison {type(op).__name__}")
        f = self.is_float(left) or self.is_float(right)
        return f"{self.wrap(left, _ADD, f)} {_CMP[type(op)]} {self.wrap(right, _ADD, f)}"

    def call(self, node: ast.Call, as_float: bool) -> str:
        fn = node.func.id if isinstance(node.func, ast.Name) else ""
        args = node.args
        if fn == "len" and len(args) == 1:
            return f"size({self.write(args[0])[0]})"
        if fn == "has_any" and len(args) == 2:
            return f"{self.wrap(args[0], _ATOM)}.exists(x, x in {self.write(args[1])[0]})"
        if fn == "abs" and len(args) == 1:
            f = as_float or self.is_float(args[0])
            inner = self.write(args[0], f)[0]
            zero = "0.0" if f else "0"
            return f"({inner} < {zero} ? -({inner}) : {inner})"
        if fn in ("min", "max") and len(args) == 2:
            f = as_float or any(self.is_float(a) for a in args)
            a, b = (self.write(x, f)[0] for x in args)
            op = "<=" if fn == "min" else ">="
            return f"({a} {op} {b} ? {a} : {b})"
        raise ConvertError(f"cannot convert the call {fn or '?'}(...)")


def convert_condition(old: str) -> str:
    """The CEL for a condition in the former language."""
    try:
        tree = ast.parse(old.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConvertError(f"not a condition of the former language: {exc.msg}") from None
    return _Writer().write(tree.body)[0]


_WHEN_LINE = re.compile(r"^(\s*when\s*=\s*)(.+?)\s*$", re.MULTILINE)


def convert_ruleset_text(text: str) -> str:
    """Rewrite every `when = ...` line of a TOML rule file as CEL. Raises
    ConvertError naming the rule id of the first condition it cannot convert."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConvertError(f"not valid TOML: {exc}") from None
    ids = [r.get("id", f"#{i + 1}") for i, r in enumerate(doc.get("rule", []))]
    index = 0

    def rewrite(m: re.Match[str]) -> str:
        nonlocal index
        rid = ids[index] if index < len(ids) else "?"
        index += 1
        value = tomllib.loads(f"v = {m.group(2)}")["v"]
        if not isinstance(value, str):
            raise ConvertError(f"rule '{rid}': when must be a text")
        try:
            cel = convert_condition(value)
        except ConvertError as exc:
            raise ConvertError(f"rule '{rid}': {exc}") from None
        return m.group(1) + _toml_string(cel)

    out = _WHEN_LINE.sub(rewrite, text)
    if index != len(ids):
        raise ConvertError("write every rule's when = on one line of its own, then convert again")
    return out


def _toml_string(value: str) -> str:
    if "'" not in value and "\n" not in value:
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)
