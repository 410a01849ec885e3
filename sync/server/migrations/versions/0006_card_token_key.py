"""The chain's card-token key, sealed under the servers' shared secret.

Revision ID: 0006_card_token_key
Revises: 0004_server_identity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_card_token_key"
down_revision = "0005_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("generation", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chain_secrets")
