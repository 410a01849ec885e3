"""Chain-wide risk: store coordinates, the analysed facts per journal entry,
the analysis cursor, hourly store sales, risk alerts, the hot list, rule
drafts and their audit trail.

Revision ID: 0003_risk
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_risk"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_places",
        sa.Column("store_id", sa.String(64), primary_key=True),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("city", sa.Text, nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
    )
    op.create_table(
        "risk_events",
        sa.Column("terminal_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("card_token", sa.String(128), nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("cashier_id", sa.String(64), nullable=False),
        sa.Column("no_receipt", sa.Integer, nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("ctx", sa.Text, nullable=False),
    )
    op.create_index("risk_events_card", "risk_events", ["card_token", "at_ms"])
    op.create_index("risk_events_account", "risk_events", ["account", "at_ms"])
    op.create_index("risk_events_cashier", "risk_events", ["cashier_id", "kind", "at_ms"])
    op.create_index("risk_events_at", "risk_events", ["at_ms"])
    op.create_table(
        "risk_cursor",
        sa.Column("terminal_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "risk_store_hours",
        sa.Column("store_id", sa.String(64), primary_key=True),
        sa.Column("hour_ms", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hour_of_week", sa.Integer, nullable=False),
        sa.Column("sales", sa.Integer, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "risk_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(48), nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("dedupe", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("risk_alerts_store", "risk_alerts", ["store_id", "id"])
    op.create_table(
        "risk_hotlist",
        sa.Column("subject", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(128), primary_key=True),
        sa.Column("rule", sa.String(48), nullable=False),
        sa.Column("expires_ms", sa.BigInteger, nullable=False),
        sa.Column("alert_id", sa.Integer),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "risk_rule_drafts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("backtest", sa.Text),
        sa.Column("config_version", sa.Integer),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "risk_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "risk_audit",
        "risk_rule_drafts",
        "risk_hotlist",
        "risk_alerts",
        "risk_store_hours",
        "risk_cursor",
        "risk_events",
        "store_places",
    ):
        op.drop_table(table)
