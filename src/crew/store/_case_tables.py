"""Tables of response cases in the operational store (Core handles; migration 0200 creates them)."""

from __future__ import annotations

import sqlalchemy as sa

from crew.store._ops_tables import UtcDateTime, metadata

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# One case per warning; a warning in the control group gets a case too, in state `control`
# with no steps, so that leaving it alone is a recorded decision.
cases_table = sa.Table(
    "cases",
    metadata,
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
    sa.Column("opened_at", UtcDateTime, nullable=False),
    sa.Column("closed_at", UtcDateTime, nullable=True),
    sa.Column("outcome", sa.Text, nullable=True),
    sa.Index("ix_cases_state", "state"),
)

case_steps_table = sa.Table(
    "case_steps",
    metadata,
    sa.Column("case_id", sa.Text, sa.ForeignKey("cases.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("team", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("message_en", sa.Text, nullable=False),
    sa.Column("message_zh", sa.Text, nullable=False),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("escalate_to", sa.Text, nullable=True),
    sa.Column("done_at", UtcDateTime, nullable=True),
    sa.Column("done_by", sa.Text, nullable=True),
    sa.Column("escalated_at", UtcDateTime, nullable=True),
)

case_history_table = sa.Table(
    "case_history",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.Text, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("old", sa.Text, nullable=True),
    sa.Column("new", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Index("ix_case_history_case", "case_id"),
)

__all__ = ["case_history_table", "case_steps_table", "cases_table"]
