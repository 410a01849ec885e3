"""Words people read live in the catalogue, not in code: no module holds a
zh/en literal pair, no Qt tr(), no refusal built from an
English sentence, no Chinese string, and no screen text typed into a widget.
Keeps the class of problem (the Chinese UI showing English) fixed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

# Every front end and core module: new files are covered as they are added.
COVERED = ["pos/**/*.py", "ui/**/*.py", "drivers/cli*.py"]

# Not the product's words: the sandbox gateways answer as the real platforms
# do (their own Chinese error texts), and the demo's people have names.
NOT_WORDS = {
    "pos/payments/sandbox/alipay_gw.py",
    "pos/payments/sandbox/bills.py",
    "pos/payments/sandbox/wechat_gw.py",
    "ui/demo/accounts.py",
}

# Errors a person reads: their first argument is a catalogue Message.
PERSON_ERRORS = {
    "PosError",
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    "FlowError",
    "MoneyError",
    "ReportDataError",
    "CatalogImportError",
    "PaymentError",
    "KeyFileError",
    "KeystoreUnavailable",
    "MissingKey",
    "BackupError",
    "NotProvisioned",
    "AlreadyProvisioned",
    "WrongKey",
    "StoreNotFound",
    "DatabaseTooNew",
    "AlreadyRecorded",
}
# What a command prints for a person: ctx.emit(data, TEXT) and ctx.warn(TEXT).
CLI_WORDS = {"emit": 1, "warn": 0}
# Qt calls and the ui.widgets helpers that put words on a screen.
SCREEN_WORDS = {
    "setText",
    "setWindowTitle",
    "setPlaceholderText",
    "setToolTip",
    "setTabText",
    "addTab",
    "button",
    "label",
    "QLabel",
    "QPushButton",
    "QCheckBox",
    "show_text",
}
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]{2,}|[\u4e00-\u9fff]")
# A language's own name on the language switch: the same in every language.
ALLOWED_STRINGS = {"English", "中文"}


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def covered_files() -> list[Path]:
    files: set[Path] = set()
    for pattern in COVERED:
        files.update(ROOT.glob(pattern))
    return sorted(files)


def converted_files() -> list[Path]:
    return [p for p in covered_files() if _rel(p) not in NOT_WORDS]


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literal_text(node: ast.expr) -> str | None:
    """The words a string literal or f-string spells, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _matched_against(tree: ast.AST) -> set[int]:
    """Literals that input is compared with (`==`, `in`, `.startswith()`): the
    other side's format, such as a bill's Chinese column titles, never shown."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Call) and _name(node.func) in ("startswith", "endswith"):
            operands = list(node.args)
        else:
            continue
        found.update(id(o) for o in operands if isinstance(o, ast.Constant))
    return found


def problems_in(path: Path, screen: bool | None = None) -> list[str]:
    """What `path` says to people in code. `screen`: whether it builds widgets
    (default: it lives in ui/)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree) | _matched_against(tree)
    where = path.relative_to(ROOT)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            texts = [t for t in map(_literal_text, node.args) if t is not None]
            if name == "Text" and any(WORD.search(t) for t in texts):
                found.append(f"{where}:{node.lineno}: Text(...) with literal words")
            if name == "tr":
                found.append(f"{where}:{node.lineno}: Qt tr(); use the catalogue")
            if name in PERSON_ERRORS and node.args and _literal_text(node.args[0]) is not None:
                found.append(f"{where}:{node.lineno}: {name} raised with a sentence, not a code")
            at = CLI_WORDS.get(name)
            if (
                at is not None
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "ctx"
                and len(node.args) > at
            ):
                said = _literal_text(node.args[at])
                if said and WORD.search(said):
                    found.append(f"{where}:{node.lineno}: {name}() given literal words")
            first = _literal_text(node.args[0]) if node.args else None
            on_screen = (where.parts[0] == "ui" if screen is None else screen) and (
                name in SCREEN_WORDS
            )
            if on_screen and first and WORD.search(first) and first not in ALLOWED_STRINGS:
                found.append(f"{where}:{node.lineno}: {name}() given literal words")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docs
            and CJK.search(node.value)
            and node.value not in ALLOWED_STRINGS
        ):
            found.append(f"{where}:{node.lineno}: Chinese text in code: {node.value!r}")
    return found


def test_the_check_covers_every_module() -> None:
    files = converted_files()
    assert len(files) > 150
    for must in ("pos/flows/core.py", "pos/cli/checkout.py", "ui/wiring.py", "ui/app.py"):
        assert ROOT / must in files, must
    for path in NOT_WORDS:
        assert (ROOT / path).exists(), f"{path} is gone: drop it from the list"


@pytest.mark.parametrize("path", converted_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_literal_words_for_people_in_code(path: Path) -> None:
    assert problems_in(path) == []


def test_the_check_finds_each_kind_of_literal() -> None:
    sample = ROOT / "tests" / "pos" / "messages" / "_literal_sample.py"
    sample.write_text(
        "from x import Text, InvalidInput, label\n"
        'a = Text("你好", "hello")\n'
        'b = self.tr("Pay")\n'
        'raise InvalidInput(f"bad {x}", "Fix it.")\n'
        'c = label("Total", "title")\n'
        'd = {"k": ("小计", "Subtotal")}\n'
        'e = row[0] == "退款" or name.endswith("_业务明细.csv")\n'
        'ctx.emit({}, f"saved {n} rows")\n',
        encoding="utf-8",
    )
    try:
        found = problems_in(sample, screen=True)
    finally:
        sample.unlink()
    kinds = [p.split(": ", 1)[1] for p in found]
    assert any(k.startswith("Text(") for k in kinds)
    assert any(k.startswith("Qt tr()") for k in kinds)
    assert any(k.startswith("InvalidInput raised") for k in kinds)
    assert any(k.startswith("label() given") for k in kinds)
    assert any(k.startswith("Chinese text") for k in kinds)
    assert any(k.startswith("emit() given") for k in kinds)
    # A literal that input is matched against is the other side's format.
    assert not any("退款" in k or "业务明细" in k for k in kinds)
