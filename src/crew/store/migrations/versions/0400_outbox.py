"""Notification outbox, webhook deliveries and silences.

Revision ID: 0400
Revises: 0300
Create Date: 2025-05-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0400"
down_revision: str | None = "0300"
branch_labels: str | None = None
depends_on: str | None = None

_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("warning_id", sa.Text, sa.ForeignKey("warnings.id"), nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("customer_id", sa.Text, nullable=True),
        sa.Column("segment", sa.Text, nullable=True),
        sa.Column("risk_type", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("previous_level", sa.Text, nullable=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("parent_id", sa.Text, nullable=True),
        sa.Column("reasons", _JSON, nullable=False),
        sa.Column("recommended_action", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("reason_detail", sa.Text, nullable=True),
        sa.Column("routed_at", _TS, nullable=True),
    )
    op.create_index("ix_outbox_warning_id", "outbox", ["warning_id"])
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("outbox_id", _ID, sa.ForeignKey("outbox.id"), nullable=False),
        sa.Column("webhook", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_deliveries_outbox_id", "deliveries", ["outbox_id"])
    op.create_index("ix_deliveries_state_next", "deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "silences",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.Text, nullable=True),
        sa.Column("risk_type", sa.Text, nullable=True),
        sa.Column("segment", sa.Text, nullable=True),
        sa.Column("starts_at", _TS, nullable=False),
        sa.Column("ends_at", _TS, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_silences_ends_at", table_name="silences")
    op.drop_table("silences")
    op.drop_index("ix_deliveries_state_next", table_name="deliveries")
    op.drop_index("ix_deliveries_outbox_id", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_outbox_status_id", table_name="outbox")
    op.drop_index("ix_outbox_warning_id", table_name="outbox")
    op.drop_table("outbox")
