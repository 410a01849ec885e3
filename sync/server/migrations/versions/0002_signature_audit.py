"""The signature audit's progress per terminal: entries up to `audited_seq`
have had their own Ed25519 signature checked.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("terminals") as batch:
        batch.add_column(
            sa.Column("audited_seq", sa.BigInteger, nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("terminals") as batch:
        batch.drop_column("audited_seq")
