"""The terminal's encrypted database: SQLCipher 4 with a raw 256-bit key.

Threading rule: a `Database` may be shared by threads, a connection may not.
Each thread gets its own connection on first use (`transaction()`, `read()`),
so the UI's worker threads each talk to SQLite directly; writers serialise on
SQLite's write lock (BEGIN IMMEDIATE, waiting up to `busy_timeout_ms`), and
readers never block writers (WAL). Never pass the connection yielded by
`transaction()` to another thread.

Opening checks everything that can be wrong (missing file, plain SQLite, text,
impossible size, wrong key, newer schema, lock held) before anything is
written, so a refused open leaves the files byte-identical.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, Protocol

from sqlcipher3 import dbapi2 as sqlcipher

from pos.messages import msg
from pos.search_keys import register_sql_functions
from pos.store import migrate
from pos.store.errors import (
    NotADatabase,
    StoreBusy,
    StoreDamaged,
    StoreError,
    StoreNotFound,
    WrongKey,
)

Row = sqlcipher.Row
DatabaseError = sqlcipher.DatabaseError
IntegrityError = sqlcipher.IntegrityError
OperationalError = sqlcipher.OperationalError

Params = Sequence[Any] | Mapping[str, Any]


class Cursor(Protocol):
    """The DB-API cursor (sqlcipher3 ships no type information)."""

    rowcount: int
    lastrowid: int | None
    description: Any

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ...) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of the DB-API connection that store users may use.

    Rows support access by column name (`row["total_minor"]`) and by index.
    No executescript: it would commit the caller's transaction.
    """

    in_transaction: bool
    total_changes: int

    def execute(self, sql: str, parameters: Params = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Params], /) -> Cursor: ...

    def create_function(
        self, name: str, narg: int, func: Callable[..., Any], *, deterministic: bool = ...
    ) -> None: ...

    def close(self) -> None: ...


KEY_BYTES = 32
PAGE_SIZE = 4096  # SQLCipher 4 default; every encrypted file is a whole number of pages
SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT_MS = 5000


def key_literal(key: bytes) -> str:
    """The SQLCipher raw-key literal (x'<hex>'). Never log it."""
    _key_pragma(key)
    return f"x'{key.hex()}'"


def _key_pragma(key: bytes) -> str:
    if len(key) != KEY_BYTES:
        raise WrongKey(
            f"a database key must be {KEY_BYTES} bytes, got {len(key)}",
            "The keystore entry is damaged; restore the keyring or a backup.",
        )
    return f"PRAGMA key = \"x'{key.hex()}'\""


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def diagnose_file(path: Path) -> None:
    """Refuse a file that cannot be an SQLCipher database, saying what it is instead."""
    where = str(path)
    if not path.exists():
        raise StoreNotFound(msg("store.file.missing", path=where))
    if not path.is_file():
        raise NotADatabase(msg("store.file.not_a_file", path=where))
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(512)
    if size == 0:
        raise NotADatabase(msg("store.file.empty", path=where))
    if head.startswith(SQLITE_MAGIC):
        raise NotADatabase(msg("store.file.plain_sqlite", path=where))
    if _looks_like_text(head):
        raise NotADatabase(msg("store.file.text", path=where))
    if size % PAGE_SIZE:
        raise NotADatabase(msg("store.file.truncated", path=where, size=size, page=PAGE_SIZE))


def connect(path: Path, key: bytes, mode: str, busy_timeout_ms: int) -> Connection:
    """A keyed connection to `path`; mode is an SQLite URI mode (ro, rw, rwc)."""
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    try:
        conn = sqlcipher.connect(
            uri,
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=busy_timeout_ms / 1000,
        )
    except sqlcipher.OperationalError as exc:
        raise StoreNotFound(
            f"cannot open {path}: {exc}",
            "Check that the file exists and that this user may read and write it.",
        ) from exc
    try:
        # SQLCipher otherwise prints decryption failures to stderr itself.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(_key_pragma(key))
        conn.execute("PRAGMA cipher_compatibility = 4")
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    except BaseException:
        conn.close()
        raise
    conn.row_factory = Row
    connection: Connection = conn
    return connection


def _configure(conn: Connection) -> None:
    conn.execute("PRAGMA foreign_keys = ON")
    register_sql_functions(conn)
    conn.execute("PRAGMA synchronous = FULL")


_DAMAGE_WORDS = ("malformed", "not a database", "disk i/o error", "corrupt")


def is_damage(exc: BaseException) -> bool:
    """SQLite's words for a page it cannot read or decrypt (HMAC failure)."""
    text = str(exc).lower()
    return any(word in text for word in _DAMAGE_WORDS)


def damaged_error(path: Path, exc: BaseException) -> StoreDamaged:
    return StoreDamaged(msg("store.damaged_in_use", path=str(path), error=str(exc)))


def is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def busy_error(path: Path, exc: BaseException) -> StoreBusy:
    return StoreBusy(
        f"the database {path} is locked by another program or thread ({exc})",
        "Wait for the other checkout operation to finish, or close the other program "
        "using this terminal's data directory, then try again.",
    )


def _probe(conn: Connection, path: Path) -> int:
    """Read the schema with the key; returns user_version."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return migrate.schema_version(conn)
    except sqlcipher.DatabaseError as exc:
        if is_busy(exc):
            raise busy_error(path, exc) from exc
        if "not a database" in str(exc):
            raise WrongKey(msg("store.wrong_key", path=str(path))) from exc
        if is_damage(exc):
            raise damaged_error(path, exc) from exc
        raise


class _Holder:
    """Owns one thread's connection; when the thread ends its locals are dropped,
    the holder with them, and the finalizer closes the connection."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn


class _ThreadState(threading.local):
    holder: _Holder | None = None
    depth: int = 0
    mode: str = ""


class Database:
    """An opened, up-to-date terminal database. Use `Database.open` or `Database.create`."""

    def __init__(self, path: Path, key: bytes, busy_timeout_ms: int) -> None:
        self._path = path
        self._key = key
        self._busy_timeout_ms = busy_timeout_ms
        self._local = _ThreadState()
        self._finalizers: list[weakref.finalize[Any, Any]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._mode = "rw"  # never create a missing file behind the caller's back
        self._commit_hooks: list[Callable[[Connection], None]] = []
        self._precommit_hooks: list[Callable[[Connection], object]] = []

    def __repr__(self) -> str:  # never show the key
        return f"Database({str(self._path)!r})"

    @classmethod
    def open(
        cls,
        path: Path,
        key: bytes,
        *,
        migrations: migrate.Migrations | None = None,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        verify_pages: bool = True,
    ) -> Database:
        """Open an existing database and apply any migrations it lacks.

        Before anything is written, the WAL left by a crash and every page's
        HMAC are checked (StoreDamaged, exit 6), unless `verify_pages` is False.
        Pass `migrations=Migrations.bundled().up_to(N)` to open it as release N would.
        """
        path = Path(path)
        migrations = migrations or migrate.Migrations.bundled()
        diagnose_file(path)
        # A leftover WAL (after a crash) is read without being checkpointed, so a
        # refused open does not fold it into the main file.
        has_wal = path.with_name(path.name + "-wal").exists()
        check = connect(path, key, "ro" if has_wal else "rw", busy_timeout_ms)
        try:
            version = _probe(check, path)
            migrate.refuse_if_newer(version, migrations, path)
            if verify_pages:
                from pos.store.integrity import quick_check  # integrity imports this module

                quick_check(path, check).raise_if_damaged(path)
        finally:
            check.close()
        db = cls(path, key, busy_timeout_ms)
        try:
            db._upgrade(migrations)
        except BaseException:
            db.close()
            raise
        return db

    @classmethod
    def create(
        cls,
        path: Path,
        key: bytes,
        *,
        migrations: migrate.Migrations | None = None,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> Database:
        """Create a new encrypted database at `path` (which must not exist)."""
        path = Path(path)
        migrations = migrations or migrate.Migrations.bundled()
        if path.exists():
            raise StoreError(f"{path} already exists", "Open it instead, or choose another path.")
        _key_pragma(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = cls(path, key, busy_timeout_ms)
        db._mode = "rwc"
        try:
            db._upgrade(migrations)
        except BaseException:
            db.close()
            raise
        db._mode = "rw"
        return db

    def _upgrade(self, migrations: migrate.Migrations) -> None:
        conn = self.connection()
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            migrate.apply(conn, migrations, self._path)
        except sqlcipher.OperationalError as exc:
            if is_busy(exc):
                raise busy_error(self._path, exc) from exc
            raise

    @property
    def path(self) -> Path:
        return self._path

    @property
    def schema_version(self) -> int:
        with self.read() as conn:
            return migrate.schema_version(conn)

    def connection(self) -> Connection:
        """This thread's connection (opened on first use)."""
        if self._closed:
            raise StoreError(f"the database {self._path} is closed", "Open the terminal again.")
        state = self._local
        if state.holder is None:
            conn = connect(self._path, self._key, self._mode, self._busy_timeout_ms)
            _configure(conn)
            holder = _Holder(conn)
            with self._lock:
                self._finalizers = [f for f in self._finalizers if f.alive]
                self._finalizers.append(weakref.finalize(holder, conn.close))
            state.holder = holder
        return state.holder.conn

    @property
    def open_connections(self) -> int:
        """How many threads hold a connection (finished threads' are closed)."""
        with self._lock:
            return sum(1 for f in self._finalizers if f.alive)

    def dedicated_connection(self) -> Connection:
        """A new connection outside the per-thread pool (backups); the caller closes it."""
        conn = connect(self._path, self._key, "rw", self._busy_timeout_ms)
        _configure(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any exception.

        Nested calls on one thread become savepoints: an exception inside the
        inner block undoes only the inner block's writes.
        """
        conn = self.connection()
        state = self._local
        if state.depth:
            if state.mode != "write":
                raise StoreError(
                    "a write transaction was started inside a read",
                    "Start the write transaction first (program error).",
                )
            name = f"nested_{state.depth}"
            conn.execute(f"SAVEPOINT {name}")
            state.depth += 1
            try:
                yield conn
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            else:
                conn.execute(f"RELEASE {name}")
            finally:
                state.depth -= 1
            return
        self._begin(conn, "BEGIN IMMEDIATE")
        state.depth, state.mode = 1, "write"
        try:
            yield conn
            for before in list(self._precommit_hooks):
                before(conn)
        except sqlcipher.DatabaseError as exc:
            self._rollback_quietly(conn)
            self._reraise(exc)
        except BaseException:
            self._rollback_quietly(conn)
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlcipher.DatabaseError as exc:
                self._rollback_quietly(conn)
                self._reraise(exc)
            for hook in list(self._commit_hooks):
                hook(conn)
        finally:
            state.depth, state.mode = 0, ""

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent read snapshot; inside a transaction it joins that transaction."""
        conn = self.connection()
        state = self._local
        if state.depth:
            yield conn
            return
        self._begin(conn, "BEGIN")
        state.depth, state.mode = 1, "read"
        try:
            yield conn
        except sqlcipher.DatabaseError as exc:
            self._reraise(exc)
        finally:
            state.depth, state.mode = 0, ""
            if conn.in_transaction:
                conn.execute("COMMIT")

    def _begin(self, conn: Connection, statement: str) -> None:
        try:
            conn.execute(statement)
        except sqlcipher.DatabaseError as exc:
            self._reraise(exc)

    def add_precommit_hook(self, hook: Callable[[Connection], object]) -> None:
        """Run `hook(conn)` inside each outermost write transaction, just before
        COMMIT; an exception rolls the whole transaction back."""
        self._precommit_hooks.append(hook)

    def add_commit_hook(self, hook: Callable[[Connection], None]) -> None:
        """Run `hook(conn)` on the committing thread after each outermost COMMIT."""
        self._commit_hooks.append(hook)

    @staticmethod
    def _rollback_quietly(conn: Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlcipher.DatabaseError:
            pass  # the original error says more than a failed rollback

    def _reraise(self, exc: sqlcipher.DatabaseError) -> NoReturn:
        """A busy database, a damaged one (exit 6, named), or the error as it was:
        constraint violations and programming errors stay what they are."""
        if is_busy(exc):
            raise busy_error(self._path, exc) from exc
        if is_damage(exc):
            raise damaged_error(self._path, exc) from exc
        raise exc

    def close(self) -> None:
        """Close every thread's connection. Call once no thread is using the database."""
        with self._lock:
            finalizers, self._finalizers = self._finalizers, []
            self._closed = True
        self._local.holder = None
        for close_connection in finalizers:
            close_connection()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
