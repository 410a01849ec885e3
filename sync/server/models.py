"""The server's tables (SQLAlchemy Core). Alembic's migrations create them;
this file is what the code reads and writes, and what autogenerate compares."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
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

# -- chain-wide risk analysis (sync/server/risk; Alembic revision 0003_risk) ----------
# Store coordinates live in the store registry beside the store (degrees; a
# store without a place is left out of the impossible-travel check).
store_places = Table(
    "store_places",
    metadata,
    Column("store_id", String(64), primary_key=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("city", Text, nullable=False, default=""),
    Column("tz", String(64), nullable=False, default="Asia/Shanghai"),
)

# One row per payment attempt, refund or void seen in any terminal's journal:
# the facts the analysis and the backtests read, keyed back to the entry.
risk_events = Table(
    "risk_events",
    metadata,
    Column("terminal_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("store_id", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # sale | refund | void
    Column("outcome", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("card_token", String(128), nullable=False),
    Column("account", String(128), nullable=False),
    Column("cashier_id", String(64), nullable=False),
    Column("no_receipt", Integer, nullable=False),
    Column("action", String(8), nullable=False),  # what the terminal decided
    Column("ctx", Text, nullable=False),  # the decision payload, canonical JSON
)
Index("risk_events_card", risk_events.c.card_token, risk_events.c.at_ms)
Index("risk_events_account", risk_events.c.account, risk_events.c.at_ms)
Index("risk_events_cashier", risk_events.c.cashier_id, risk_events.c.kind, risk_events.c.at_ms)
Index("risk_events_at", risk_events.c.at_ms)

# How far each terminal's journal has been analysed: exactly once, also when
# a server process died between storing a batch and analysing it.
risk_cursor = Table(
    "risk_cursor",
    metadata,
    Column("terminal_id", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

# Sales per store and local hour, for the store-level anomaly (median/MAD of
# the same hour of the week in earlier weeks).
risk_store_hours = Table(
    "risk_store_hours",
    metadata,
    Column("store_id", String(64), primary_key=True),
    Column("hour_ms", BigInteger, primary_key=True, autoincrement=False),  # UTC hour start
    Column("hour_of_week", Integer, nullable=False),
    Column("sales", Integer, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
)

risk_alerts = Table(
    "risk_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(48), nullable=False),  # impossible-travel, card-velocity, ...
    Column("store_id", String(64), nullable=False),
    Column("terminal_id", String(64), nullable=False),
    Column("seq", BigInteger),
    Column("subject", String(16), nullable=False),  # card | account | cashier | store
    Column("value", String(128), nullable=False),
    Column("detail", Text, nullable=False),  # canonical JSON: the figures behind it
    Column("dedupe", String(255), nullable=False, unique=True),
    Column("created_at", String(32), nullable=False),
)
Index("risk_alerts_store", risk_alerts.c.store_id, risk_alerts.c.id)

risk_hotlist = Table(
    "risk_hotlist",
    metadata,
    Column("subject", String(16), primary_key=True),
    Column("value", String(128), primary_key=True),
    Column("rule", String(48), nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("alert_id", Integer),
    Column("updated_at", String(32), nullable=False),
)

# Rules drafted on the server: draft -> backtested -> shadow -> published.
risk_rule_drafts = Table(
    "risk_rule_drafts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("source", Text, nullable=False),  # the [[rule]] table, TOML
    Column("backtest", Text),  # canonical JSON of the last backtest
    Column("config_version", Integer),  # the rule set version that carried it
    Column("updated_at", String(32), nullable=False),
)

risk_audit = Table(
    "risk_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("detail", Text, nullable=False),
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

# Personal admin accounts (sync.server.accounts): roles, a scrypt password
# hash, an optional TOTP secret and the last TOTP step spent.
accounts = Table(
    "accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    # JSON list of store ids (a store manager's); [] for the other roles.
    Column("stores", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    # Sealed under the servers' shared secret (accounts.TotpSealer).
    Column("totp_secret", Text),
    Column("totp_last_step", BigInteger),
    Column("created_at", String(32), nullable=False),
    Column("disabled_at", String(32)),
)

# Short-lived admin tokens: only the SHA-256 of a token is kept.
admin_tokens = Table(
    "admin_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
)

# Every admin action, allowed or denied, and every sign-in.
admin_audit = Table(
    "admin_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("store_id", String(64)),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=False),
)
Index("admin_audit_actor", admin_audit.c.actor, admin_audit.c.action)

# Secrets the server hands to terminals (the chain's card-token key), each
# generation AES-256-GCM sealed under the servers' shared secret like the
# signing key; never stored in the clear.
chain_secrets = Table(
    "chain_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", String(32), nullable=False),
)

# Members and the store's own currencies (sync/server/ledger): every store of
# the chain shares them. Activities are append-only; each one posts entries
# that sum to zero (double entry), and a balance is the sum of an account's
# postings, never a stored number.
members = Table(
    "members",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("number", String(8), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("pin_hash", String(128), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(64), nullable=False),
)

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    # "sv:<member>" / "pt:<member>", or the chain's counter-account "sv:issued".
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("member_id", String(32), ForeignKey("members.id")),
    Column("currency", String(8), nullable=False),
    Column("created_at", String(32), nullable=False),
)

ledger_activities = Table(
    "ledger_activities",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("account_id", String(64), ForeignKey("ledger_accounts.id"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("refers_to", String(32)),
    Column("store_id", String(64), nullable=False),
    Column("terminal_id", String(64), nullable=False),
    Column("reference", String(128), nullable=False),
    # "online" or "offline" (spent on an allowance, recorded at sync)
    Column("source", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
)
Index("ledger_activities_refers", ledger_activities.c.refers_to)

ledger_postings = Table(
    "ledger_postings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("activity_id", String(32), ForeignKey("ledger_activities.id"), nullable=False),
    Column("account_id", String(64), ForeignKey("ledger_accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
)
Index("ledger_postings_account", ledger_postings.c.account_id)

ledger_keys = Table(
    "ledger_keys",
    metadata,
    # The member-code key: tills verify member codes offline with it.
    Column("name", String(32), primary_key=True),
    Column("secret", LargeBinary, nullable=False),
    Column("created_at", String(32), nullable=False),
)
