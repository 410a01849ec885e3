"""Members, and the chain's stored-value and points ledger: accounts,
append-only activities and their double-entry postings.

Revision ID: 0009_ledger
Revises: 0004_server_identity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_ledger"
down_revision = "0006_card_token_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("number", sa.String(8), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("pin_hash", sa.String(128), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("member_id", sa.String(32), sa.ForeignKey("members.id")),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "ledger_activities",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
        sa.Column("account_id", sa.String(64), sa.ForeignKey("ledger_accounts.id"), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("refers_to", sa.String(32)),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("ledger_activities_refers", "ledger_activities", ["refers_to"])
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "activity_id", sa.String(32), sa.ForeignKey("ledger_activities.id"), nullable=False
        ),
        sa.Column("account_id", sa.String(64), sa.ForeignKey("ledger_accounts.id"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
    )
    op.create_index("ledger_postings_account", "ledger_postings", ["account_id"])
    op.create_table(
        "ledger_keys",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_keys")
    op.drop_index("ledger_postings_account", "ledger_postings")
    op.drop_table("ledger_postings")
    op.drop_index("ledger_activities_refers", "ledger_activities")
    op.drop_table("ledger_activities")
    op.drop_table("ledger_accounts")
    op.drop_table("members")
