"""The live-scores table of the operational store (a Core handle; migration 0500 creates it)."""

from __future__ import annotations

import sqlalchemy as sa

from crew.store._ops_tables import JSON_TYPE, UtcDateTime, metadata

# One row per customer: the newest assessment the stream refreshed (see crew.stream.refresh).
live_scores_table = sa.Table(
    "live_scores",
    metadata,
    sa.Column("customer_id", sa.Text, primary_key=True),
    sa.Column("as_of", UtcDateTime, nullable=False),
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
    sa.Column("dimension_scores", JSON_TYPE, nullable=False),
    sa.Column("reasons", JSON_TYPE, nullable=False),
    sa.Column("evidence_note", sa.Text, nullable=True),
    sa.Column("moved", JSON_TYPE, nullable=False),
    sa.Column("computed_at", UtcDateTime, nullable=False),
)

__all__ = ["live_scores_table"]
