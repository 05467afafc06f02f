"""Quarantined events (隔离区): accepted from the stream, kept away from the indicators.

An event whose customer is unknown (or that cannot be used for another reason) is stored
here with the reason, as JSON, once per event key, so that someone can fix the source and
send it again. Nothing quarantined reaches the online state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from crew.store._quarantine_tables import quarantine_table


@dataclass(frozen=True)
class QuarantinedEvent:
    """One event held in quarantine."""

    id: int
    event_key: str
    customer_id: str | None
    event: str  # the event as JSON
    reason: str
    received_at: datetime


@dataclass(frozen=True)
class Quarantine:
    """What to put in quarantine: the event's key, customer, JSON and the reason."""

    event_key: str
    customer_id: str | None
    event: str
    reason: str


class QuarantineLog:
    """The `quarantine` table of one operational store."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(self, items: Sequence[Quarantine], *, at: datetime) -> int:
        """Store the events not stored yet (by event key); how many were new."""
        if not items:
            return 0
        rows = [
            {
                "event_key": i.event_key,
                "customer_id": i.customer_id,
                "event": i.event,
                "reason": i.reason,
                "received_at": at,
            }
            for i in items
        ]
        dialect = self._engine.dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
            quarantine_table
        ).on_conflict_do_nothing(index_elements=["event_key"])
        with self._engine.begin() as conn:
            before = self._count(conn)
            conn.execute(insert, rows)
            return self._count(conn) - before

    def list(self, *, customer_id: str | None = None, limit: int = 100) -> list[QuarantinedEvent]:
        """Quarantined events, newest first (optionally one customer's)."""
        q = quarantine_table.c
        query = sa.select(quarantine_table).order_by(q.received_at.desc(), q.id.desc())
        if customer_id is not None:
            query = query.where(q.customer_id == customer_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).mappings()
            return [QuarantinedEvent(**row) for row in rows]

    def count(self) -> int:
        """Events in quarantine."""
        with self._engine.connect() as conn:
            return self._count(conn)

    @staticmethod
    def _count(conn: sa.Connection) -> int:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(quarantine_table)).scalar_one()
        )


__all__ = ["Quarantine", "QuarantineLog", "QuarantinedEvent"]
