"""What a workspace holds: counts, date ranges and a data-quality summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

import duckdb

from crew.store.schema import CANONICAL, IMPORT_ID
from crew.types import Table


@dataclass(frozen=True)
class TableSummary:
    """Size and time span of one canonical table."""

    table: str
    rows: int
    customers: int
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    null_share: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class QualityFinding:
    """One data-quality observation, with how many rows it concerns."""

    check: str
    count: int
    detail: str


@dataclass(frozen=True)
class WorkspaceSummary:
    """Everything `crew status` shows."""

    tables: list[TableSummary]
    outcomes_by_kind: dict[str, int]
    attributes: int
    imports: int
    last_import: datetime | None
    findings: list[QualityFinding]

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON output."""
        return asdict(self)


def summarize_workspace(conn: duckdb.DuckDBPyConnection) -> WorkspaceSummary:
    """Counts, time spans, optional-column null shares and data-quality findings."""
    tables = [_table_summary(conn, spec.name) for spec in CANONICAL.values()]
    kinds = dict(
        conn.execute("SELECT kind, count(*) FROM outcomes GROUP BY 1 ORDER BY 1").fetchall()
    )
    attrs = _scalar(conn, "SELECT count(*) FROM attribute_catalog")
    imports = _scalar(conn, "SELECT count(*) FROM imports WHERE finished_at IS NOT NULL")
    last = conn.execute("SELECT max(finished_at) FROM imports").fetchone()
    return WorkspaceSummary(
        tables=tables,
        outcomes_by_kind={str(k): int(v) for k, v in kinds.items()},
        attributes=attrs,
        imports=imports,
        last_import=None if last is None else last[0],
        findings=_findings(conn),
    )


def _scalar(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def _table_summary(conn: duckdb.DuckDBPyConnection, table: Table) -> TableSummary:
    spec = CANONICAL[table]
    optional = [c.name for c in spec.columns if not c.required and c.name != IMPORT_ID]
    nulls = ", ".join(f"count(*) FILTER (WHERE {c} IS NULL)" for c in optional)
    has_ts = "ts" in spec.names
    span = "min(ts), max(ts)" if has_ts else "NULL, NULL"
    row = conn.execute(
        f"SELECT count(*), count(DISTINCT customer_id), {span}{', ' + nulls if nulls else ''} "
        f"FROM {table.value}"
    ).fetchone()
    assert row is not None
    rows = int(row[0])
    shares = {
        name: round(int(n) / rows, 4) for name, n in zip(optional, row[4:], strict=True) if rows
    }
    return TableSummary(table.value, rows, int(row[1]), row[2], row[3], shares)


def _findings(conn: duckdb.DuckDBPyConnection) -> list[QualityFinding]:
    checks = [
        (
            "customers_without_activity",
            "SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM transactions t "
            "WHERE t.customer_id = c.customer_id) AND NOT EXISTS (SELECT 1 FROM interactions i "
            "WHERE i.customer_id = c.customer_id)",
            "customers with no transactions and no interactions",
        ),
        (
            "future_timestamps",
            "SELECT (SELECT count(*) FROM transactions WHERE ts > now()) + "
            "(SELECT count(*) FROM interactions WHERE ts > now()) + "
            "(SELECT count(*) FROM events WHERE ts > now())",
            "rows dated in the future",
        ),
        (
            "activity_before_signup",
            "SELECT count(*) FROM transactions t JOIN customers c USING (customer_id) "
            "WHERE CAST(t.ts AS DATE) < c.signup_date",
            "transactions dated before the customer's signup date",
        ),
        (
            "unresolved_closed_interactions",
            "SELECT count(*) FROM interactions WHERE status = 'resolved' AND resolved_ts IS NULL",
            "interactions marked resolved without a resolved_ts",
        ),
        (
            "surveys_without_score",
            "SELECT count(*) FROM interactions WHERE kind = 'survey' AND nps IS NULL "
            "AND csat IS NULL",
            "surveys carrying neither an NPS nor a CSAT answer",
        ),
        (
            "outcomes_of_unknown_customers",
            "SELECT count(*) FROM outcomes o WHERE NOT EXISTS (SELECT 1 FROM customers c "
            "WHERE c.customer_id = o.customer_id)",
            "outcomes whose customer is not in customers",
        ),
    ]
    return [QualityFinding(name, _scalar(conn, sql), detail) for name, sql, detail in checks]


__all__ = ["QualityFinding", "TableSummary", "WorkspaceSummary", "summarize_workspace"]
