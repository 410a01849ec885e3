"""The terminal's encrypted store: database, migrations, keys, signed journal,
outbox and backups. See docs/store.md.

    terminal = provision(data_dir, "keyring", "S001", None, clock)   # once
    terminal = open_terminal(data_dir, clock)                         # every start
    with terminal.db.transaction() as conn:
        conn.execute("INSERT INTO orders ...", (...))
        terminal.journal.append(conn, "sale.paid", {"order_id": order_id})
"""

from __future__ import annotations

from pos.store.db import Connection, Database, Row
from pos.store.errors import (
    AlreadyProvisioned,
    BackupError,
    DatabaseTooNew,
    IdentityMismatch,
    JournalMisuse,
    KeystoreUnavailable,
    MigrationError,
    MissingKey,
    NotADatabase,
    NotProvisioned,
    StoreBusy,
    StoreDamaged,
    StoreError,
    StoreNotFound,
    StoreRolledBack,
    WrongKey,
)
from pos.store.journal import ExtraCheck, Journal, JournalEntry, VerifyReport, verify
from pos.store.journal_format import JournalRecord
from pos.store.keys import DEMO_WARNING, DemoKeyStore, KeyringKeyStore, KeyStore
from pos.store.migrate import Migrations
from pos.store.terminal import Terminal, TerminalInfo, open_terminal, provision

__all__ = [
    "DEMO_WARNING",
    "AlreadyProvisioned",
    "BackupError",
    "Connection",
    "Database",
    "DatabaseTooNew",
    "DemoKeyStore",
    "ExtraCheck",
    "IdentityMismatch",
    "Journal",
    "JournalEntry",
    "JournalMisuse",
    "JournalRecord",
    "KeyStore",
    "KeyringKeyStore",
    "KeystoreUnavailable",
    "MigrationError",
    "Migrations",
    "MissingKey",
    "NotADatabase",
    "NotProvisioned",
    "Row",
    "StoreBusy",
    "StoreDamaged",
    "StoreError",
    "StoreNotFound",
    "StoreRolledBack",
    "Terminal",
    "TerminalInfo",
    "VerifyReport",
    "WrongKey",
    "open_terminal",
    "provision",
    "verify",
]
