"""Sealed tables: what decides money is under the signed journal.

Users (role, PIN hash, active), products (price, tax class), barcodes, risk
rule sets and lists, settings and channel settings are not journaled row by
row by the code that writes them. Instead a trigger marks a table changed
(`seal_dirty`, migration 0010), and just before COMMIT the program journals
the table's content digest (`store.sealed`) in the same transaction. So:

- every change the program makes is sealed, whoever made it (import, sync,
  CLI, UI), with no change to those writers;
- a change made outside the program (an SQL editor with the key) leaves the
  table unsealed and its digest different from the last sealed one, which
  `tables_agree_with_seals` (a `pos.journal_checks` entry) reports by name.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pos import canonical
from pos.events import Event
from pos.store.db import Connection
from pos.store.journal import Journal

EVENT = Event.STORE_SEALED
# table -> ORDER BY that lists every row once, in a fixed order.
SEALED: dict[str, str] = {
    "users": "id",
    "products": "sku",
    "product_barcodes": "barcode",
    "risk_rulesets": "version",
    "risk_list_entries": "list, subject, value",
    "settings": "key",
    "channel_settings": "id",
    "badges": "badge_id",
}


def table_digest(conn: Connection, table: str) -> str:
    """SHA-256 over every row of `table`, column names included."""
    cur = conn.execute(f"SELECT * FROM {table} ORDER BY {SEALED[table]}")
    h = hashlib.sha256(table.encode() + b"\n")
    names = [d[0] for d in cur.description]
    h.update(canonical.dumps(names) + b"\n")
    for row in cur:
        h.update(canonical.dumps([_plain(v) for v in row]) + b"\n")
    return h.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float):
        return repr(value)  # canonical JSON takes no floats; a REAL column still seals
    return value


def has_seals(conn: Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seal_dirty'"
    ).fetchone()
    return row is not None


def seal(
    conn: Connection, journal: Journal, *, only_migration: bool = False, known: bool = False
) -> list[str]:
    """Journal the digest of every table marked changed; returns the tables.

    With `only_migration`, seal only when every mark comes from the upgrade
    (at start-up): a mark left by a change is evidence and stays for verify.
    """
    if not known and not has_seals(conn):
        return []
    rows = conn.execute("SELECT tbl, reason FROM seal_dirty ORDER BY tbl").fetchall()
    if not rows:
        return []
    if only_migration and any(r[1] != "migration" for r in rows):
        return []
    tables = [str(r[0]) for r in rows if str(r[0]) in SEALED]
    digests = {t: table_digest(conn, t) for t in tables}
    journal.append(
        conn,
        EVENT,
        {"tables": digests, "baseline": all(r[1] == "migration" for r in rows)},
    )
    conn.execute("DELETE FROM seal_dirty")
    return tables


def first_seal(conn: Connection) -> dict[str, Any]:
    """The seal a new terminal's first journal entry carries (so provisioning
    stays one entry): every sealed table's digest, marks cleared."""
    if not has_seals(conn):
        return {}
    conn.execute("DELETE FROM seal_dirty")
    return {"sealed": {t: table_digest(conn, t) for t in SEALED}}


def tables_agree_with_seals(conn: Connection) -> list[str]:
    """Each sealed table's digest against the last one the journal signed."""
    if not has_seals(conn):
        return []
    problems: list[str] = []
    for (table,) in conn.execute("SELECT tbl FROM seal_dirty WHERE reason = 'change'"):
        problems.append(
            f"the table {table} was changed outside the program (its change was never sealed "
            "in the journal)"
        )
    sealed: dict[str, str] = {}
    for etype, raw in conn.execute(
        "SELECT type, payload FROM journal WHERE type IN (?, ?) ORDER BY seq",
        (EVENT, Event.TERMINAL_PROVISIONED),
    ):
        payload = canonical.loads(raw)
        sealed.update(payload.get("tables" if etype == EVENT else "sealed", {}))
    pending = {r[0] for r in conn.execute("SELECT tbl FROM seal_dirty WHERE reason = 'migration'")}
    for table in SEALED:
        if table in pending:
            continue  # an upgraded store, sealed at its next start
        if table not in sealed:
            problems.append(f"the table {table} has no seal in the journal")
        elif table_digest(conn, table) != sealed[table]:
            problems.append(
                f"the table {table} differs from what the journal sealed: it was edited "
                "outside the program"
            )
    return problems
