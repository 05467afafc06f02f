"""Warnings (预警记录), their history and the runs that wrote them.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies: a migration must not change when the application's code does.
_TS = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ACTIVE = "state IN ('open', 'acknowledged', 'in_progress')"


def upgrade() -> None:
    op.create_table(
        "warnings",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=True),
        sa.Column("segment", sa.Text, nullable=True),
        sa.Column("risk_type", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("first_seen", _TS, nullable=False),
        sa.Column("last_seen", _TS, nullable=False),
        sa.Column("level_changed_at", _TS, nullable=False),
        sa.Column("resolved_at", _TS, nullable=True),
        sa.Column("cooldown_until", _TS, nullable=True),
        sa.Column("parent_id", sa.Text, nullable=True),
        sa.Column("signals", _JSON, nullable=False),
        sa.Column("evidence", _JSON, nullable=False),
        sa.Column("reasons", _JSON, nullable=False),
        sa.Column("recommended_action", sa.Text, nullable=True),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("assignee", sa.Text, nullable=True),
    )
    # Deduplication: at most one active warning per subject (customer or segment) and type.
    op.create_index(
        "uq_warnings_active_subject",
        "warnings",
        [sa.text("coalesce(customer_id, '')"), sa.text("coalesce(segment, '')"), "risk_type"],
        unique=True,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )
    op.create_index("ix_warnings_state_level", "warnings", ["state", "level"])
    op.create_index("ix_warnings_risk_type", "warnings", ["risk_type"])
    op.create_index("ix_warnings_customer_id", "warnings", ["customer_id"])
    op.create_index("ix_warnings_last_seen", "warnings", ["last_seen"])
    op.create_index("ix_warnings_parent_id", "warnings", ["parent_id"])

    op.create_table(
        "warning_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("warning_id", sa.Text, sa.ForeignKey("warnings.id"), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("old_value", sa.Text, nullable=True),
        sa.Column("new_value", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_warning_history_warning_id", "warning_history", ["warning_id"])

    op.create_table(
        "runs",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("as_of", _TS, nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("config_fingerprint", sa.Text, nullable=False),
        sa.Column("counts", _JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("runs")
    op.drop_index("ix_warning_history_warning_id", table_name="warning_history")
    op.drop_table("warning_history")
    for name in (
        "ix_warnings_parent_id",
        "ix_warnings_last_seen",
        "ix_warnings_customer_id",
        "ix_warnings_risk_type",
        "ix_warnings_state_level",
        "uq_warnings_active_subject",
    ):
        op.drop_index(name, table_name="warnings")
    op.drop_table("warnings")
