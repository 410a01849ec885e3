"""The server's engine: SQLite (default, embedded) or PostgreSQL by URL, and
Alembic upgrades run in-process."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_BUSY_S = 30


def make_engine(url: str, pool_size: int = 20) -> Engine:
    """An engine whose writes serialise per database the way ingest needs:
    on SQLite every transaction takes the write lock at BEGIN (IMMEDIATE), so
    two processes never both read a high-water mark and then both write.

    For a PostgreSQL pair with automatic failover, give a multi-host URL
    that only a primary satisfies, e.g. `postgresql+psycopg://pos@/pos?
    host=db1:5432&host=db2:5432&target_session_attrs=read-write`."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_S, "check_same_thread": False}
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Python's sqlite3 opens transactions itself; hand that to us.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: an acknowledged entry survives a power cut, which is what
            # the terminal's mark-sent relies on.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            # A catch-up batch (10,000 entries, about 10 MiB with its indexes)
            # fits in the page cache: its pages go to the log once, at commit,
            # instead of spilling while the batch is inserted.
            cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            # The log is copied into the database about every 40 MiB, not after
            # every 4 MiB commit: a few copies, each synced once.
            cur.execute("PRAGMA wal_autocheckpoint=10000")
            cur.close()

        _one_writer_here(engine)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)

    @event.listens_for(engine, "handle_error")
    def _lost_primary(ctx: Any) -> None:
        # After a failover a pooled connection may reach a node that is now a
        # standby (read-only) or is shutting down: drop the whole pool, so the
        # next connection asks the multi-host URL (target_session_attrs=
        # read-write) for the new primary.
        if getattr(ctx.original_exception, "sqlstate", None) in _NOT_PRIMARY:
            ctx.is_disconnect = True

    return engine


_READ_ONLY = "pos_read_only"


def reader(engine: Engine) -> Engine:
    """The engine for transactions that only read: on SQLite they neither
    take nor wait for the write lock (a write in them fails)."""
    return engine.execution_options(**{_READ_ONLY: True})


def _one_writer_here(engine: Engine) -> None:
    """Every transaction takes SQLite's write lock at BEGIN (IMMEDIATE).
    Threads of this process queue for it on a lock of their own, woken as
    soon as the transaction before commits: in SQLite's busy handler they
    would sleep in growing steps (up to 100 ms) and wake late. Other
    processes still meet in SQLite's busy handler. A thread that waits
    longer than SQLite's busy timeout goes on to BEGIN, which then answers
    as it always did."""
    writer = threading.Lock()
    holders: set[int] = set()
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def release(dbapi_conn: Any) -> None:
        # Called with the pool's proxy or the driver's connection: the latter decides.
        key = id(getattr(dbapi_conn, "dbapi_connection", dbapi_conn))
        if key in holders:
            holders.discard(key)
            writer.release()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # a snapshot; writers do not wait for it
            return
        dbapi_conn = conn.connection.dbapi_connection
        if not writer.acquire(timeout=SQLITE_BUSY_S):
            # A holder that never ended (a connection dropped mid-transaction):
            # take its place; SQLite itself still refuses a second writer.
            holders.clear()
        holders.add(id(dbapi_conn))
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(dbapi_conn)
            raise

    def do_commit(dbapi_conn: Any) -> None:
        try:
            commit(dbapi_conn)
        finally:
            release(dbapi_conn)

    def do_rollback(dbapi_conn: Any) -> None:
        try:
            rollback(dbapi_conn)
        finally:
            release(dbapi_conn)

    dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]


# read-only transaction, admin shutdown, crash shutdown, cannot connect now
_NOT_PRIMARY = {"25006", "57P01", "57P02", "57P03"}


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Inserts `rows` (values in the order of `columns`) inside the caller's
    transaction in one statement: COPY on PostgreSQL, one executemany of a
    prepared INSERT on SQLite. The per-row work of a Core insert (parameter
    dicts, type processing) costs more than the database's own work here."""
    if not rows:
        return
    names = ", ".join(table.c[c].name for c in columns)  # KeyError for a misspelt column
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(columns))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", list(rows))


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        # ConfigParser reads '%' as interpolation: a multi-host URL (host=a%3A5432)
        # or a password with '%' must be escaped.
        url = engine.url.render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
