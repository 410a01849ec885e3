"""What can go wrong opening or using the terminal's store, each with what to do
next. None of these is raised after the store files were changed: every check
that can fail runs before the first write."""

from __future__ import annotations

from pos.errors import PosError


class StoreError(PosError):
    """Base of every store failure; the CLI prints message and remedy, exits 5."""

    exit_code = 5


class StoreNotFound(StoreError):
    """No database file (or no terminal.json) where one was expected."""


class NotProvisioned(StoreError):
    """The data directory holds no terminal: `pos init` was never run there."""


class AlreadyProvisioned(StoreError):
    """`pos init` would overwrite an existing terminal or its keys."""


class WrongKey(StoreError):
    """The key does not decrypt the file (or the file is encrypted noise)."""


class MissingKey(StoreError):
    """The keystore has no entry for a key the terminal needs."""


class NotADatabase(StoreError):
    """The file is plainly not a terminal database: empty, text, plain SQLite,
    or a size no SQLCipher database can have."""


class DatabaseTooNew(StoreError):
    """The database was upgraded by a newer program than this one."""


class StoreBusy(StoreError):
    """Another process or thread holds the write lock for longer than the timeout."""


class KeystoreUnavailable(StoreError):
    """The OS keyring is missing, locked, or a backend that does not protect secrets."""


class MigrationError(StoreError):
    """A schema migration file is malformed or failed to apply."""


class BackupError(StoreError):
    """A backup could not be written, verified or restored."""


class JournalMisuse(StoreError):
    """The journal was used outside the rules (outside a write transaction,
    a malformed event type)."""


class StoreDamaged(StoreError):
    """A page, the WAL or the structure of the database does not check out: a
    disk fault or an edit outside the program. Nothing more is written to it."""

    exit_code = 6


class StoreRolledBack(StoreError):
    """The database is older than what the terminal anchored outside it: an older
    copy put back, a lost or damaged WAL, an older backup restored. The till
    takes no sale until a manager acknowledges the loss."""

    exit_code = 6


class IdentityMismatch(StoreError):
    """terminal.json names another terminal, store or keystore than the signed
    journal says this database was provisioned as."""

    exit_code = 6
