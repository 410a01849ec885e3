"""One server identity for every server process: the signing key's
generations, the private key encrypted under the servers' shared secret.

Revision ID: 0004_server_identity
Revises: 0003_risk
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_server_identity"
down_revision = "0003_risk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_keys",
        sa.Column("generation", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("public_key", sa.String(64), nullable=False, unique=True),
        sa.Column("private_key", sa.LargeBinary, nullable=False),
        sa.Column("endorsement", sa.String(128)),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("server_keys")
