"""Numbered schema migrations: pos/store/migrations/NNNN_name.sql.

Each file is applied in its own write transaction together with
`PRAGMA user_version = NNNN`, so a database is always exactly at one
version. Areas add their own files; the runner discovers them, applies those
above the database's version in order, and refuses a database newer than the
newest file (a newer program wrote it)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlcipher

from pos.messages import msg
from pos.store.errors import DatabaseTooNew, MigrationError

FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> Iterator[str]:
        """The file split into single statements (triggers and quoted ';' kept whole)."""
        pieces = self.sql.split(";")
        buf = ""
        for piece in pieces[:-1]:
            buf += piece + ";"
            if sqlcipher.complete_statement(buf):
                if _has_code(buf):
                    yield buf.strip()
                buf = ""
        if _has_code(buf + pieces[-1]):
            raise MigrationError(
                f"migration {self.version:04d}_{self.name}.sql ends with an unterminated statement",
                "End every statement in the file with ';'.",
            )


def _has_code(text: str) -> bool:
    lines = (line.split("--", 1)[0].strip() for line in text.splitlines())
    return any(line and line != ";" for line in lines)


class Migrations:
    """An ordered, validated set of migrations."""

    def __init__(self, items: Sequence[Migration]) -> None:
        ordered = sorted(items, key=lambda m: m.version)
        for before, after in itertools.pairwise(ordered):
            if before.version == after.version:
                raise MigrationError(
                    f"two migrations are numbered {after.version:04d}: "
                    f"{before.name} and {after.name}",
                    "Renumber one of them; each number is used once.",
                )
        for m in ordered:
            if m.version < 1:
                raise MigrationError(
                    f"migration {m.name} is numbered 0", "Migrations are numbered from 0001."
                )
        self.items: tuple[Migration, ...] = tuple(ordered)

    @classmethod
    def from_directory(cls, directory: Path) -> Migrations:
        found = []
        for path in sorted(directory.iterdir()):
            if path.suffix != ".sql":
                continue
            match = FILE_NAME.match(path.name)
            if match is None:
                raise MigrationError(
                    f"migration file name {path.name!r} is not NNNN_name.sql",
                    "Rename it, e.g. 0007_loyalty.sql (four digits, lower-case name).",
                )
            found.append(
                Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8"))
            )
        return cls(found)

    @classmethod
    def bundled(cls) -> Migrations:
        """The migrations shipped with the program (pos/store/migrations)."""
        root = resources.files("pos.store") / "migrations"
        with resources.as_file(root) as directory:
            return cls.from_directory(Path(directory))

    @property
    def latest(self) -> int:
        return self.items[-1].version if self.items else 0

    def up_to(self, version: int) -> Migrations:
        """Only the migrations up to `version`: the program as an earlier release was."""
        return Migrations([m for m in self.items if m.version <= version])

    def pending(self, current: int) -> list[Migration]:
        return [m for m in self.items if m.version > current]


def schema_version(conn: sqlcipher.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def refuse_if_newer(current: int, migrations: Migrations, path: Path | str) -> None:
    if current > migrations.latest:
        raise DatabaseTooNew(
            msg("store.db.too_new", path=str(path), current=current, latest=migrations.latest)
        )


def apply(conn: sqlcipher.Connection, migrations: Migrations, path: Path | str) -> list[int]:
    """Bring the database up to `migrations.latest`; returns the versions applied.

    `conn` must be in autocommit mode (no open transaction). Each migration
    re-reads the version under the write lock, so two processes opening the
    same old database at once apply each step exactly once.
    """
    applied: list[int] = []
    refuse_if_newer(schema_version(conn), migrations, path)
    for migration in migrations.items:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = schema_version(conn)
            refuse_if_newer(current, migrations, path)
            if migration.version <= current:
                conn.execute("COMMIT")
                continue
            for statement in migration.statements():
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version:d}")
            conn.execute("COMMIT")
        except sqlcipher.Error as exc:
            conn.execute("ROLLBACK")
            raise MigrationError(
                msg(
                    "store.db.migration_failed",
                    migration=f"{migration.version:04d}_{migration.name}.sql",
                    detail=str(exc),
                )
            ) from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied
