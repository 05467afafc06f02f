"""Counts of stored warnings for dashboards: aggregates in SQL, never whole rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from crew.store._ops_tables import ACTIVE_STATES, warnings_table
from crew.types import Level, RiskType


@dataclass(frozen=True)
class WeekCount:
    """Warnings of one level first seen in the ISO week starting on `week` (a Monday)."""

    week: date
    level: Level
    count: int


def week_start(at: datetime) -> date:
    """The Monday of the week of `at` (UTC).

    >>> from datetime import UTC
    >>> week_start(datetime(2025, 6, 29, 23, 0, tzinfo=UTC))
    datetime.date(2025, 6, 23)
    """
    day = at.date()
    return day - timedelta(days=day.weekday())


class WarningStats:
    """Read-only counts over the `warnings` table of one operational store."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def active_by_level_and_type(self) -> dict[tuple[Level, RiskType], int]:
        """Active warnings per (level, risk type); pairs without any are left out."""
        w = warnings_table.c
        query = (
            sa.select(w.level, w.risk_type, sa.func.count())
            .where(w.state.in_(ACTIVE_STATES))
            .group_by(w.level, w.risk_type)
        )
        with self._engine.connect() as conn:
            return {(Level(lv), RiskType(rt)): int(n) for lv, rt, n in conn.execute(query)}

    def opened_per_week(self, since: datetime) -> list[WeekCount]:
        """Warnings first seen from `since` on, per week and level, oldest week first."""
        w = warnings_table.c
        query = (
            sa.select(w.first_seen, w.level, sa.func.count())
            .where(w.first_seen >= since)
            .group_by(w.first_seen, w.level)
        )
        counts: dict[tuple[date, Level], int] = {}
        with self._engine.connect() as conn:
            for first_seen, level, n in conn.execute(query):
                key = (week_start(first_seen), Level(level))
                counts[key] = counts.get(key, 0) + int(n)
        return [WeekCount(week, level, n) for (week, level), n in sorted(counts.items())]

    def latest_first_seen(self) -> datetime | None:
        """When the newest warning was first seen (None when there is none)."""
        with self._engine.connect() as conn:
            value: datetime | None = conn.execute(
                sa.select(sa.func.max(warnings_table.c.first_seen))
            ).scalar()
        return value


__all__ = ["WarningStats", "WeekCount", "week_start"]
