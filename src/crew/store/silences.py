"""Silences in the operational store: who asked that which warnings go untold, until when.

A silence names a customer, a risk type and/or a segment (every one given must match) and
ends at a set instant; ending it early moves that instant. `crew.alerts.silences` decides
whether a warning is silenced; this module only keeps the silences.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crew.errors import SilenceNotFoundError
from crew.store._outbox_tables import silences_table
from crew.types import RiskType


@dataclass(frozen=True)
class Silence:
    """One silence: what it matches, from when until when, who set it and why."""

    id: int
    customer_id: str | None
    risk_type: RiskType | None
    segment: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str

    @property
    def matcher(self) -> str:
        """What it silences, e.g. `customer=C042 type=churn`."""
        parts = [
            f"customer={self.customer_id}" if self.customer_id is not None else "",
            f"type={self.risk_type.value}" if self.risk_type is not None else "",
            f"segment={self.segment}" if self.segment is not None else "",
        ]
        return " ".join(p for p in parts if p)

    def is_active(self, at: datetime) -> bool:
        """Whether it is in force at `at`."""
        return self.starts_at <= at < self.ends_at


class SilenceBook:
    """The silences kept in one operational store."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(
        self,
        *,
        customer_id: str | None = None,
        risk_type: RiskType | None = None,
        segment: str | None = None,
        until: datetime,
        reason: str,
        actor: str,
        at: datetime,
    ) -> Silence:
        """Silence what matches every given field from `at` until `until`.

        Raises:
            ValueError: nothing to match, `until` not after `at`, or no reason given.
        """
        if customer_id is None and risk_type is None and segment is None:
            raise ValueError("a silence needs a customer, a risk type or a segment to match")
        if until <= at:
            raise ValueError(f"it would end at {until:%Y-%m-%d %H:%M} UTC, which is not ahead")
        if not reason.strip():
            raise ValueError("a silence needs a reason, for whoever wonders later")
        values = {
            "customer_id": customer_id,
            "risk_type": risk_type.value if risk_type is not None else None,
            "segment": segment,
            "starts_at": at,
            "ends_at": until,
            "reason": reason.strip(),
            "created_by": actor,
        }
        with self._engine.begin() as conn:
            inserted = conn.execute(silences_table.insert().values(values))
            key = inserted.inserted_primary_key
            assert key is not None
            return self._get(conn, int(key[0]))

    def active(self, at: datetime) -> list[Silence]:
        """The silences in force at `at`, oldest first."""
        s = silences_table.c
        return self._select(sa.select(silences_table).where(s.starts_at <= at, s.ends_at > at))

    def listing(self, at: datetime, *, include_ended: bool = False) -> list[Silence]:
        """Silences in force (or not ended yet) at `at`; with `include_ended`, all of them."""
        s = silences_table.c
        query = sa.select(silences_table)
        if not include_ended:
            query = query.where(s.ends_at > at)
        return self._select(query)

    def end(self, id: int, at: datetime) -> Silence:
        """End silence `id` at `at` (no later than it was set to end)."""
        s = silences_table.c
        with self._engine.begin() as conn:
            current = self._get(conn, id)
            if current.ends_at > at:
                conn.execute(silences_table.update().where(s.id == id).values(ends_at=at))
            return self._get(conn, id)

    def _select(self, query: sa.Select[tuple[object, ...]]) -> list[Silence]:
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(silences_table.c.id)).mappings()
            return [_silence(row) for row in rows]

    def _get(self, conn: sa.Connection, id: int) -> Silence:
        query = sa.select(silences_table).where(silences_table.c.id == id)
        row = conn.execute(query).mappings().first()
        if row is None:
            raise SilenceNotFoundError(
                f"No silence {id}.", hint="'crew alerts silences --all' lists them."
            )
        return _silence(row)


def _silence(row: sa.RowMapping) -> Silence:
    values = dict(row)
    risk_type = values["risk_type"]
    return Silence(**{**values, "risk_type": RiskType(risk_type) if risk_type else None})


__all__ = ["Silence", "SilenceBook"]
