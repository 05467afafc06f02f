"""Tables of notifications (Core handles; migration 0004 creates them) and their writes.

The outbox holds one row per warning change people may be told about. `write_notifications`
adds them on the connection that changes the warnings, so both commit or neither does: a
crash can neither lose a notification nor announce a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from crew.store._ops_tables import JSON_TYPE, UtcDateTime, metadata, warnings_table
from crew.types import NotificationEvent, NotificationStatus, SuppressionReason

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

outbox_table = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("warning_id", sa.Text, sa.ForeignKey("warnings.id"), nullable=False, index=True),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    # A snapshot of the warning as the change left it: later changes do not rewrite it.
    sa.Column("customer_id", sa.Text, nullable=True),
    sa.Column("segment", sa.Text, nullable=True),
    sa.Column("risk_type", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("previous_level", sa.Text, nullable=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("parent_id", sa.Text, nullable=True),
    sa.Column("reasons", JSON_TYPE, nullable=False),
    sa.Column("recommended_action", sa.Text, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("reason_detail", sa.Text, nullable=True),
    sa.Column("routed_at", UtcDateTime, nullable=True),
    sa.Index("ix_outbox_status_id", "status", "id"),
)

deliveries_table = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # the receiver's idempotency key
    sa.Column("outbox_id", _ID, sa.ForeignKey("outbox.id"), nullable=False, index=True),
    sa.Column("webhook", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index("ix_deliveries_state_next", "state", "next_attempt_at"),
)

silences_table = sa.Table(
    "silences",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.Text, nullable=True),
    sa.Column("risk_type", sa.Text, nullable=True),
    sa.Column("segment", sa.Text, nullable=True),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Index("ix_silences_ends_at", "ends_at"),
)

_COPIED = (
    "customer_id",
    "segment",
    "risk_type",
    "level",
    "state",
    "score",
    "parent_id",
    "reasons",
    "recommended_action",
)
_NAMES = ("warning_id", "event", "at", "previous_level", "status", *_COPIED)
_AT = {
    NotificationEvent.OPENED: "first_seen",
    NotificationEvent.ESCALATED: "level_changed_at",
    NotificationEvent.RESOLVED: "resolved_at",
}
"""The warning's column holding the instant of each change."""


def write_notifications(
    conn: sa.Connection,
    event: NotificationEvent,
    warning_ids: Sequence[str],
    previous_levels: Sequence[str | None] | None = None,
) -> int:
    """Add a pending outbox row per warning in `warning_ids`, copying it as it is now.

    Call it on the connection that made the change, after the change. Returns the number
    of rows added.
    """
    if not warning_ids:
        return 0
    w = warnings_table.c
    select = sa.select(
        w.id,
        sa.literal(event.value),
        w[_AT[event]],
        sa.bindparam("previous_level", type_=sa.Text),
        sa.literal(NotificationStatus.PENDING.value),
        *(w[n] for n in _COPIED),
    ).where(w.id == sa.bindparam("warning_id", type_=sa.Text))
    previous = previous_levels if previous_levels is not None else [None] * len(warning_ids)
    rows = [
        {"warning_id": str(i), "previous_level": None if p is None else str(p)}
        for i, p in zip(warning_ids, previous, strict=True)
    ]
    conn.execute(outbox_table.insert().from_select(list(_NAMES), select), rows)
    return len(rows)


def write_held(conn: sa.Connection, held: pd.DataFrame, at: datetime) -> int:
    """Record warnings held back in cooldown, once per closed warning and level.

    `held` has id (the closed warning that is cooling down), level (the one raised again)
    and cooldown_until. Returns the number of rows added.
    """
    if held.empty:
        return 0
    o = outbox_table.c
    known = conn.execute(
        sa.select(o.warning_id, o.level).where(
            o.event == NotificationEvent.HELD.value, o.warning_id.in_(held["id"].tolist())
        )
    )
    seen = {(str(i), str(lv)) for i, lv in known}
    rows = [
        {
            "warning_id": str(i),
            "level": str(lv),
            "at": at,
            "reason_detail": f"cooling down until {pd.Timestamp(u):%Y-%m-%d %H:%M} UTC",
        }
        for i, lv, u in zip(held["id"], held["level"], held["cooldown_until"], strict=True)
        if (str(i), str(lv)) not in seen
    ]
    if not rows:
        return 0
    w = warnings_table.c
    copied = [sa.bindparam("level", type_=sa.Text) if n == "level" else w[n] for n in _COPIED]
    select = sa.select(
        w.id,
        sa.literal(NotificationEvent.HELD.value),
        sa.bindparam("at", type_=UtcDateTime),
        sa.literal(None, type_=sa.Text),
        sa.literal(NotificationStatus.SUPPRESSED.value),
        *copied,
        sa.literal(SuppressionReason.COOLDOWN.value),
        sa.bindparam("reason_detail", type_=sa.Text),
    ).where(w.id == sa.bindparam("warning_id", type_=sa.Text))
    names = [*_NAMES, "reason", "reason_detail"]
    conn.execute(outbox_table.insert().from_select(names, select), rows)
    return len(rows)


def write_run_notifications(
    conn: sa.Connection, history: pd.DataFrame, held: pd.DataFrame | None, at: datetime
) -> None:
    """The notifications of one run, from its `warning_history` rows and its held warnings."""
    if not history.empty:
        created = history[history["field"] == "created"]
        write_notifications(conn, NotificationEvent.OPENED, created["warning_id"].tolist())
        rose = history[(history["field"] == "level") & (history["note"] == "escalated")]
        write_notifications(
            conn,
            NotificationEvent.ESCALATED,
            rose["warning_id"].tolist(),
            rose["old_value"].tolist(),
        )
        closed = history[history["field"] == "state"]
        write_notifications(conn, NotificationEvent.RESOLVED, closed["warning_id"].tolist())
    if held is not None:
        write_held(conn, held, at)


__all__ = [
    "deliveries_table",
    "outbox_table",
    "silences_table",
    "write_held",
    "write_notifications",
    "write_run_notifications",
]
