"""Every journal event type is defined once, in pos.events: no other product
module spells an event name, and every writer's payload carries its fields."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from pos.events import SCHEMAS, Event, SaleMode, StepUp, missing_fields

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("pos", "drivers", "sync", "ui")
NAMES = {e.value for e in Event}
IN_SQL = re.compile(r"type\s*(?:=|IN)[^;]*'([a-z_]+\.[a-z_]+)'", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def event_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if id(node) in docs:
            continue
        if node.value in NAMES:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
        for name in IN_SQL.findall(node.value):
            if name in NAMES:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name!r} in SQL")
    return found


def test_no_product_module_spells_an_event_name_outside_the_event_module():
    found = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "pos" / "events.py":
                continue
            found += event_literals(path)
    assert found == []


def test_the_check_finds_an_event_name_in_code_and_in_sql(tmp_path):
    sample = ROOT / "pos" / "_probe_for_test.py"
    sample.write_text(
        'X = "sale.paid"\nQ = "SELECT 1 FROM journal WHERE type = \'order.voided\'"\n', "utf-8"
    )
    try:
        assert len(event_literals(sample)) == 2
    finally:
        sample.unlink()


def test_every_event_has_one_schema_with_a_version():
    assert set(SCHEMAS) == set(Event)
    assert all(s.version >= 1 for s in SCHEMAS.values())


def test_a_void_now_carries_its_business_date_as_version_two():
    schema = SCHEMAS[Event.ORDER_VOIDED]
    assert schema.version == 2 and "business_date" in schema.fields
    assert missing_fields(Event.ORDER_VOIDED, {"order_id": "o", "state": "voided"}) == {
        "tenders",
        "business_date",
    }


def test_modes_and_step_ups_are_the_journal_s_words():
    assert [m.value for m in SaleMode] == ["cashier", "kiosk"]
    assert {s.value for s in StepUp} == {"manager_pin", "check_id", "online_only"}
