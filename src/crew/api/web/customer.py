"""The customer 360 page's data: profile (masked by role), risk timeline, indicators against
baselines, reasons, warnings with their evidence and history, and interactions (redacted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
from markupsafe import Markup

from crew.api.web.svg import risk_line
from crew.errors import CustomerNotFoundError
from crew.indicators.catalog import Catalog, Direction
from crew.response.access import PII_FIELDS, profile_for, sees_pii
from crew.store.indicators import VALUES_TABLE
from crew.store.operational import HistoryEntry, OperationalStore, WarningRecord
from crew.store.scores import customer_scores
from crew.store.users import Role
from crew.text.redaction import Redactor
from crew.types import WarningState

INTERACTIONS_SHOWN = 50
WARNINGS_SHOWN = 50


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator of the customer now, against their own past and their segment."""

    id: str
    dimension: str
    value: float
    own_baseline: float | None
    segment_median: float | None
    worse: bool


@dataclass(frozen=True)
class Customer360:
    """Everything the customer page shows, already masked for the viewer's role."""

    customer_id: str
    profile: dict[str, object]
    unmasked: bool
    pii_fields: list[str]
    latest: dict[str, object] | None
    timeline: Markup | None
    indicators_as_of: datetime | None
    indicators: list[IndicatorRow]
    warnings: list[WarningRecord]
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    interactions: list[dict[str, object]] = field(default_factory=list)


def customer_360(
    conn: duckdb.DuckDBPyConnection,
    store: OperationalStore,
    catalog: Catalog,
    customer_id: str,
    role: Role,
) -> Customer360:
    """The customer's page as `role` may see it; CustomerNotFoundError for an unknown id."""
    cursor = conn.execute("SELECT * FROM customers WHERE customer_id = ?", [customer_id])
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    if row is None:
        raise CustomerNotFoundError(f"No customer '{customer_id}' in the workspace.")
    raw = {k: v for k, v in zip(names, row, strict=True) if not k.startswith("_")}
    unmasked = sees_pii(role)
    redactor = Redactor() if unmasked else Redactor.with_names([str(raw.get("name") or "")])
    scores = _scores(conn, customer_id)
    live = store.live_scores.get(customer_id)
    if live is not None and (not scores or _after(live, scores[-1])):
        scores.append({**live, "source": "stream"})  # refreshed by the stream since the run
    as_of, indicators = _indicators(conn, catalog, customer_id, raw.get("segment"))
    warnings = store.list_warnings(
        customer_id=customer_id, states=list(WarningState), limit=WARNINGS_SHOWN
    )
    return Customer360(
        customer_id=customer_id,
        profile=profile_for(role, raw),
        unmasked=unmasked,
        pii_fields=[f for f in PII_FIELDS if raw.get(f) is not None],
        latest=scores[-1] if scores else None,
        timeline=risk_line([(f"{s['as_of']:%Y-%m-%d}", _float(s["risk_index"])) for s in scores])
        if scores
        else None,
        indicators_as_of=as_of,
        indicators=indicators,
        warnings=warnings,
        history={w.id: store.history(w.id) for w in warnings},
        interactions=_interactions(conn, customer_id, None if unmasked else redactor),
    )


def _after(score: dict[str, object], other: dict[str, object]) -> bool:
    a, b = score["as_of"], other["as_of"]
    return isinstance(a, datetime) and isinstance(b, datetime) and a > b


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) and value == value else 0.0


def _scores(conn: duckdb.DuckDBPyConnection, customer_id: str) -> list[dict[str, object]]:
    """One score per instant (the newest model's), oldest first."""
    seen: set[object] = set()
    kept = []
    for score in customer_scores(conn, customer_id):
        if score["as_of"] not in seen:
            seen.add(score["as_of"])
            kept.append(score)
    return kept[::-1]


def _indicators(
    conn: duckdb.DuckDBPyConnection, catalog: Catalog, customer_id: str, segment: object
) -> tuple[datetime | None, list[IndicatorRow]]:
    """The newest stored indicator values against the customer's own earlier values (mean)
    and the median of their segment at the same instant; worse-than-baseline ones first."""
    columns = _stored_columns(conn)
    wanted = [i for i in catalog.indicators if i.output and i.id in columns]
    latest = conn.execute(
        f"SELECT as_of, profile FROM {VALUES_TABLE} WHERE customer_id = ? "
        "ORDER BY as_of DESC, profile LIMIT 1",
        [customer_id],
    ).fetchone() if columns else None  # fmt: skip
    if latest is None or not wanted:
        return None, []
    as_of, profile = latest
    cols = ", ".join(f'"{i.id}"' for i in wanted)
    means = ", ".join(f'avg("{i.id}")' for i in wanted)
    medians = ", ".join(f'median(v."{i.id}")' for i in wanted)
    now = conn.execute(
        f"SELECT {cols} FROM {VALUES_TABLE} WHERE customer_id = ? AND as_of = ? AND profile = ?",
        [customer_id, as_of, profile],
    ).fetchone()
    own = conn.execute(
        f"SELECT {means} FROM {VALUES_TABLE} WHERE customer_id = ? AND as_of < ? AND profile = ?",
        [customer_id, as_of, profile],
    ).fetchone()
    peers = conn.execute(
        f"SELECT {medians} FROM {VALUES_TABLE} v "
        "JOIN customers c USING (customer_id) WHERE v.as_of = ? AND v.profile = ? "
        "AND c.segment IS NOT DISTINCT FROM ?",
        [as_of, profile, segment],
    ).fetchone()
    assert now is not None and own is not None and peers is not None
    rows = []
    for i, ind in enumerate(wanted):
        value = now[i]
        if value is None or value != value:
            continue
        reference = own[i] if own[i] is not None else peers[i]
        worse = reference is not None and (
            (ind.direction == Direction.HIGHER_IS_RISKIER and value > reference)
            or (ind.direction == Direction.LOWER_IS_RISKIER and value < reference)
        )
        rows.append(IndicatorRow(ind.id, ind.dimension, float(value), own[i], peers[i], worse))
    rows.sort(key=lambda r: (not r.worse, r.dimension, r.id))
    return as_of, rows


def _stored_columns(conn: duckdb.DuckDBPyConnection) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [VALUES_TABLE]
    ).fetchall()
    return {r[0] for r in rows}


def _interactions(
    conn: duckdb.DuckDBPyConnection, customer_id: str, redactor: Redactor | None
) -> list[dict[str, object]]:
    """The newest interactions; their text redacted unless `redactor` is None."""
    cursor = conn.execute(
        "SELECT ts, kind, severity, status, nps, csat, text FROM interactions "
        "WHERE customer_id = ? ORDER BY ts DESC LIMIT ?",
        [customer_id, INTERACTIONS_SHOWN],
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    if redactor is not None:
        for row in rows:
            if isinstance(row["text"], str):
                row["text"] = redactor.redact(row["text"])
    return rows


__all__ = ["Customer360", "IndicatorRow", "customer_360"]
