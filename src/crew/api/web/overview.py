"""The overview page's figures: active warnings by level and type, the weekly trend and the
segment × dimension heat map of the latest scores."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
from markupsafe import Markup

from crew.api.web.i18n import Translator
from crew.api.web.svg import stacked_bars
from crew.store.operational import OperationalStore
from crew.types import Level, RiskType

LEVELS = (Level.HIGH, Level.MEDIUM, Level.LOW)
LEVEL_COLOURS = {Level.HIGH: "#dc2626", Level.MEDIUM: "#f97316", Level.LOW: "#eab308"}
TREND_WEEKS = 26
_PLAIN = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class TypeRow:
    """Active warnings of one risk type, per level."""

    risk_type: RiskType
    by_level: dict[Level, int]
    total: int


@dataclass(frozen=True)
class HeatMap:
    """Average dimension scores (0-100) per segment at the latest scoring instant."""

    as_of: datetime
    dimensions: list[str]
    rows: list[tuple[str, int, list[float | None]]]  # segment, customers, one per dimension


@dataclass(frozen=True)
class Overview:
    """Everything the overview page shows."""

    by_level: dict[Level, int]
    by_type: list[TypeRow]
    total: int
    trend: Markup | None
    heatmap: HeatMap | None


def overview(
    store: OperationalStore,
    conn: duckdb.DuckDBPyConnection,
    dimensions: list[str],
    t: Translator,
) -> Overview:
    """The overview's figures from the operational store and the latest scores."""
    counts = store.stats.active_by_level_and_type()
    by_level = {lv: sum(n for (level, _), n in counts.items() if level == lv) for lv in LEVELS}
    types: dict[RiskType, dict[Level, int]] = {}
    for (level, risk_type), n in counts.items():
        types.setdefault(risk_type, {})[level] = n
    rows = [TypeRow(rt, lv, sum(lv.values())) for rt, lv in types.items()]
    rows.sort(key=lambda r: (-r.total, r.risk_type.value))
    return Overview(
        by_level=by_level,
        by_type=rows,
        total=sum(counts.values()),
        trend=_trend(store, t),
        heatmap=heat_map(conn, dimensions),
    )


def _trend(store: OperationalStore, t: Translator) -> Markup | None:
    latest = store.stats.latest_first_seen()
    if latest is None:
        return None
    weeks = store.stats.opened_per_week(latest - timedelta(weeks=TREND_WEEKS))
    labels = sorted({w.week for w in weeks})
    series = [
        (
            t.value("level", level.value),
            LEVEL_COLOURS[level],
            [sum(w.count for w in weeks if w.week == day and w.level == level) for day in labels],
        )
        for level in LEVELS
    ]
    return stacked_bars([f"{day:%m-%d}" for day in labels], series)


def heat_map(conn: duckdb.DuckDBPyConnection, dimensions: list[str]) -> HeatMap | None:
    """Mean dimension score per segment over the newest stored scores (None without scores)."""
    dims = [d for d in dimensions if _PLAIN.match(d)]  # they are spliced into the SQL
    latest = conn.execute(
        "SELECT as_of, max(model_version) FROM scores "
        "WHERE as_of = (SELECT max(as_of) FROM scores) GROUP BY as_of"
    ).fetchone()
    if latest is None or not dims:
        return None
    averages = ", ".join(
        f"avg(TRY_CAST(json_extract_string(s.dimension_scores, '$.{d}') AS DOUBLE))" for d in dims
    )
    rows = conn.execute(
        f"SELECT coalesce(c.segment, '—'), count(*), {averages} FROM scores s "
        "JOIN customers c USING (customer_id) WHERE s.as_of = ? AND s.model_version = ? "
        "GROUP BY 1 ORDER BY 1",
        list(latest),
    ).fetchall()
    return HeatMap(
        as_of=latest[0],
        dimensions=dims,
        rows=[
            (str(r[0]), int(r[1]), [None if v is None else float(v) for v in r[2:]]) for r in rows
        ],
    )


def heat_style(value: float | None) -> str:
    """Inline background of a heat-map cell: transparent at 0, full red at 100.

    >>> heat_style(50.0), heat_style(None)
    ('background: rgba(220, 38, 38, 0.45)', '')
    """
    if value is None:
        return ""
    alpha = min(max(value, 0.0), 100.0) / 100 * 0.9
    return f"background: rgba(220, 38, 38, {alpha:.2f})"


__all__ = ["LEVELS", "HeatMap", "Overview", "TypeRow", "heat_map", "heat_style", "overview"]
