"""Response cases: one per warning, their steps with owners and deadlines, their history.

Revision ID: 0200
Revises: 0003
Create Date: 2025-04-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0200"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("warning_id", sa.Text, nullable=False, unique=True),
        sa.Column("customer_id", sa.Text, nullable=True),
        sa.Column("segment", sa.Text, nullable=True),
        sa.Column("risk_type", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("tier", sa.Text, nullable=False),
        sa.Column("playbook", sa.Text, nullable=True),
        sa.Column("control", sa.Boolean, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("owner_team", sa.Text, nullable=True),
        sa.Column("opened_at", _TS, nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("outcome", sa.Text, nullable=True),
    )
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_table(
        "case_steps",
        sa.Column("case_id", sa.Text, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("team", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("message_en", sa.Text, nullable=False),
        sa.Column("message_zh", sa.Text, nullable=False),
        sa.Column("due_at", _TS, nullable=False),
        sa.Column("escalate_to", sa.Text, nullable=True),
        sa.Column("done_at", _TS, nullable=True),
        sa.Column("done_by", sa.Text, nullable=True),
        sa.Column("escalated_at", _TS, nullable=True),
    )
    op.create_table(
        "case_history",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Text, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("old", sa.Text, nullable=True),
        sa.Column("new", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_case_history_case", "case_history", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_history_case", table_name="case_history")
    op.drop_table("case_history")
    op.drop_table("case_steps")
    op.drop_index("ix_cases_state", table_name="cases")
    op.drop_table("cases")
