"""The server's tables (SQLAlchemy Core). Alembic's migrations create them;
this file is what the code reads and writes, and what autogenerate compares."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

stores = Table(
    "stores",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

terminals = Table(
    "terminals",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("store_id", String(64), ForeignKey("stores.id"), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("enrolled_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    # The acknowledged high-water mark and the hash it ends on: the next
    # upload must continue exactly here.
    Column("hwm", BigInteger, nullable=False, default=0),
    Column("last_hash", String(64), nullable=False),
    Column("last_seen_at", String(32)),
    # Entries up to here had their own signature checked by the audit; an
    # upload checks only its batch head's (sync.server.verify).
    Column("audited_seq", BigInteger, nullable=False, default=0, server_default="0"),
)

enrolment_codes = Table(
    "enrolment_codes",
    metadata,
    # Only a hash of the code is kept: a database reader cannot enrol.
    Column("code_hash", String(64), primary_key=True),
    Column("store_id", String(64), ForeignKey("stores.id"), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("used_at", String(32)),
    Column("used_by", String(64)),
)

nonces = Table(
    "nonces",
    metadata,
    Column("terminal_id", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)
Index("nonces_created", nonces.c.created_at)

entries = Table(
    "entries",
    metadata,
    Column("terminal_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("time", String(32), nullable=False),
    Column("type", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("received_at", String(32), nullable=False),
)

# Money movements extracted from sale and refund entries at ingest, so store
# reports are sums over an indexed table rather than a replay of JSON.
settlement_lines = Table(
    "settlement_lines",
    metadata,
    Column("terminal_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("store_id", String(64), nullable=False),
    Column("business_date", String(10), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("order_id", String(64), nullable=False),
)
Index("settlement_lines_day", settlement_lines.c.business_date, settlement_lines.c.store_id)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("terminal_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("seq", BigInteger),
    Column("detail", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("acknowledged_at", String(32)),
)

config_versions = Table(
    "config_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=True),
    # None: every store; otherwise the one store it is for.
    Column("store_id", String(64)),
    Column("kind", String(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("signature", String(128), nullable=False),
)

# The server's signing key, one row per generation, shared by every server
# process (sync.server.identity). The newest generation signs.
server_keys = Table(
    "server_keys",
    metadata,
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("public_key", String(64), nullable=False, unique=True),
    # AES-256-GCM (nonce + ciphertext) of the raw private key, under the
    # secret every server process is given; never stored in the clear.
    Column("private_key", LargeBinary, nullable=False),
    # The previous generation's signature over this key (none for the first).
    Column("endorsement", String(128)),
    Column("created_at", String(32), nullable=False),
)
