"""Live scores: the newest assessment the stream refreshed, one row per customer.

Revision ID: 0500
Revises: 0400
Create Date: 2025-06-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0500"
down_revision: str | None = "0400"
branch_labels: str | None = None
depends_on: str | None = None

_TS = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "live_scores",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("as_of", _TS, nullable=False),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("churn_probability", sa.Float, nullable=True),
        sa.Column("risk_index", sa.Float, nullable=True),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("colour", sa.Text, nullable=False),
        sa.Column("fuzzy_index", sa.Float, nullable=True),
        sa.Column("coverage", sa.Float, nullable=True),
        sa.Column("clv", sa.Float, nullable=True),
        sa.Column("clv_decline", sa.Float, nullable=True),
        sa.Column("dimension_scores", _JSON, nullable=False),
        sa.Column("reasons", _JSON, nullable=False),
        sa.Column("evidence_note", sa.Text, nullable=True),
        sa.Column("moved", _JSON, nullable=False),
        sa.Column("computed_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("live_scores")
