"""Settings of one simulation run and the summary it returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crew.types import Industry

FileFormat = Literal["csv", "parquet"]


class SimulationConfig(BaseModel):
    """What to simulate: how many customers, how long, which industry, which seed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customers: int = Field(default=5000, ge=1, description="Number of customers to simulate.")
    months: int = Field(
        default=24, ge=1, le=120, description="Length of the simulated period in calendar months."
    )
    industry: Industry = Field(
        default=Industry.ECOMMERCE,
        description="Industry profile: segments, products, seasonality and risk mix.",
    )
    seed: int = Field(
        default=0, ge=0, description="Random seed; the same config gives byte-identical files."
    )
    start: date = Field(
        default=date(2024, 1, 1), description="First day of the simulated period (00:00 UTC)."
    )
    file_format: FileFormat = Field(
        default="parquet", description="Format of the files written: 'csv' or 'parquet'."
    )


@dataclass(frozen=True)
class SimulationSummary:
    """What a run wrote: rows per file stem, file paths and the simulated period [start, end)."""

    rows: dict[str, int]
    files: dict[str, Path]
    start: datetime
    end: datetime


def add_months(day: date, months: int) -> date:
    """`day` moved forward by whole calendar months, clipped to the month's last day.

    >>> add_months(date(2024, 1, 31), 1)
    datetime.date(2024, 2, 29)
    >>> add_months(date(2024, 3, 1), 24)
    datetime.date(2026, 3, 1)
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_index = index + 1
    next_first = date(next_index // 12, next_index % 12 + 1, 1)
    last_day = (next_first - date(year, month, 1)).days
    return date(year, month, min(day.day, last_day))


def period_bounds(config: SimulationConfig) -> tuple[datetime, datetime]:
    """The simulated period [start, end) as UTC datetimes.

    >>> period_bounds(SimulationConfig(months=2, start=date(2024, 1, 1)))[1]
    datetime.datetime(2024, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    end = add_months(config.start, config.months)
    as_dt = [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in (config.start, end)]
    return as_dt[0], as_dt[1]
