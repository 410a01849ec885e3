"""The server's schema: Alembic's migrations build exactly the tables the
code uses, on SQLite and on PostgreSQL, and upgrading twice changes nothing."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sync.server import db
from sync.server.models import metadata


def test_migrations_build_the_schema_the_code_uses(db_url: str) -> None:
    engine = db.make_engine(db_url)
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    engine.dispose()


def test_downgrading_removes_every_table(db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    from alembic import command

    cfg = db.alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    from sqlalchemy import inspect

    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
