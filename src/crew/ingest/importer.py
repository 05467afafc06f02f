"""Import: staged sources -> checked -> canonical tables, all in one transaction.

Fast path: rows are written first and checked where they landed (DuckDB scans its own
columns faster than it re-reads a file); only checks that need the raw text (a value
that did not parse) read the source again. When anything fails, the offending rows are
listed from the source with their line numbers and the transaction is rolled back, so a
failed import leaves the store exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from crew.errors import ValidationFailed
from crew.ingest._sql import ident, literal
from crew.ingest.contracts import LABEL, Check, CheckKind, ImportPlan, plan_import
from crew.ingest.mapping import Mapping
from crew.ingest.sources import SourceFile, StagedSource, expand_source, stage_source
from crew.store.duckdb import transaction
from crew.store.schema import IMPORT_ID, register_attribute
from crew.types import Table

MAX_PROBLEMS = 20
_TABLE_ORDER = {t: i for i, t in enumerate(Table)}

Progress = Callable[[str, str], None]
"""Told (source label, step) as an import advances; steps: read, check, write, done."""


@dataclass(frozen=True)
class ImportedSource:
    """What one source added to the store."""

    label: str
    table: Table
    shape: str
    rows: int
    replaced: int
    derived_customers: int = 0
    outcomes: int = 0
    attributes: int = 0


@dataclass(frozen=True)
class Problem:
    """One bad value: where it is and what to do about it."""

    label: str
    row: int
    column: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.label}:{self.row}:{self.column}: {self.message} — {self.hint}"


def plan_sources(mapping: Mapping, base_dir: Path) -> list[SourceFile]:
    """Every concrete input of `mapping`, customers first and outcomes last."""
    items = [item for spec in mapping.sources for item in expand_source(spec, base_dir)]
    return sorted(items, key=lambda item: _TABLE_ORDER[item.table])


def import_sources(
    conn: duckdb.DuckDBPyConnection,
    mapping: Mapping,
    base_dir: Path,
    *,
    mapping_sha256: str | None = None,
    progress: Progress | None = None,
) -> list[ImportedSource]:
    """Load every source of `mapping` into the canonical tables, all or nothing.

    Raises:
        ValidationFailed: some rows break the contract; nothing was written.
        SourceError, MappingError: a file or the mapping cannot be used; nothing was written.
    """
    items = plan_sources(mapping, base_dir)
    results = []
    with transaction(conn):
        for index, item in enumerate(items):
            results.append(_import_one(conn, item, index, mapping, mapping_sha256, progress))
    return results


def _import_one(
    conn: duckdb.DuckDBPyConnection,
    item: SourceFile,
    index: int,
    mapping: Mapping,
    mapping_sha256: str | None,
    progress: Progress | None,
) -> ImportedSource:
    def tell(step: str) -> None:
        if progress is not None:
            progress(item.label, step)

    tell("read")
    staged = stage_source(conn, item, f"_crew_src_{index}")
    plan = plan_import(staged, mapping)
    typed = f"_crew_typed_{index}"
    conn.execute(
        f"CREATE OR REPLACE TEMP VIEW {ident(typed)} AS {plan.select_sql(staged.relation)}"
    )
    row = conn.execute("SELECT nextval('import_seq')").fetchone()
    assert row is not None
    import_id = int(row[0])
    conn.execute(
        "INSERT INTO imports VALUES (?, ?, NULL, ?, ?, ?, ?, NULL, ?, ?)",
        [
            import_id,
            datetime.now(UTC),
            item.label,
            item.table.value,
            item.spec.shape,
            staged.rows,
            item.spec.snapshot_date,
            mapping_sha256,
        ],
    )
    tell("check")
    clean = _source_checks_pass(conn, plan, typed)
    target = plan.table.name.value
    before = _count(conn, f"SELECT count(*) FROM {target}")
    inserted, derived = 0, 0
    if clean:
        tell("write")
        inserted = _insert(conn, plan, typed, import_id)
        if item.spec.shape == "transaction_log":
            derived = _derive_customers(conn, import_id)
        clean = inserted == staged.rows and _landed_checks_pass(conn, plan, import_id)
    if not clean:
        problems, total = _diagnose(conn, plan, typed, staged)
        raise ValidationFailed(
            f"{item.label}: {total} problem{'s' if total != 1 else ''} found; "
            "nothing was imported.",
            problems=[str(p) for p in problems],
            total=total,
            hint="Fix the rows or the mapping file and import again.",
        )
    replaced = _replace_older_rows(conn, plan, import_id) if before else 0
    outcomes = _snapshot_outcomes(conn, plan, typed, item, import_id)
    attributes = _store_attributes(conn, plan, typed, item.label, import_id)
    conn.execute(
        "UPDATE imports SET finished_at = ?, rows_replaced = ? WHERE import_id = ?",
        [datetime.now(UTC), replaced, import_id],
    )
    tell("done")
    return ImportedSource(
        item.label,
        item.table,
        item.spec.shape,
        staged.rows,
        replaced,
        derived,
        outcomes,
        attributes,
    )


def _count(conn: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = conn.execute(sql, params or []).fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def _source_checks_pass(conn: duckdb.DuckDBPyConnection, plan: ImportPlan, typed: str) -> bool:
    """Checks that need the raw text (unparsable values) plus duplicate keys of keyed tables."""
    source_kinds = (CheckKind.UNPARSABLE, CheckKind.LABEL)
    parts = [
        f"count(*) FILTER (WHERE {c.condition})" for c in plan.checks if c.kind in source_kinds
    ]
    if plan.table.name in (Table.CUSTOMERS, Table.OUTCOMES):
        # Keyed tables are written with INSERT OR REPLACE, which cannot take a key twice.
        key = ", ".join(ident(k) for k in plan.table.key)
        parts.append(f"count(*) - count(DISTINCT ({key}))")
    if not parts:
        return True
    row = conn.execute(f"SELECT {', '.join(parts)} FROM {ident(typed)}").fetchone()
    return row is not None and all(v == 0 for v in row)


def _insert(conn: duckdb.DuckDBPyConnection, plan: ImportPlan, typed: str, import_id: int) -> int:
    names = [c.column.name for c in plan.columns]
    cols = ", ".join(ident(n) for n in names)
    required = " AND ".join(
        f"{ident(c.column.name)} IS NOT NULL" for c in plan.columns if c.column.required
    )
    verb = "INSERT OR REPLACE" if plan.table.name in (Table.CUSTOMERS, Table.OUTCOMES) else "INSERT"
    return _count(
        conn,
        f"{verb} INTO {plan.table.name.value} ({cols}, {IMPORT_ID}) "
        f"SELECT {cols}, {import_id} FROM {ident(typed)} WHERE {required}",
    )


def _derive_customers(conn: duckdb.DuckDBPyConnection, import_id: int) -> int:
    """Customers of a transaction log: one per id, signed up on their first purchase."""
    return _count(
        conn,
        f"INSERT INTO customers (customer_id, signup_date, {IMPORT_ID}) "
        f"SELECT customer_id, CAST(min(ts) AS DATE), {import_id} FROM transactions "
        f"WHERE {IMPORT_ID} = {import_id} GROUP BY customer_id ON CONFLICT DO NOTHING",
    )


def _landed_checks_pass(conn: duckdb.DuckDBPyConnection, plan: ImportPlan, import_id: int) -> bool:
    """Rules on the typed values, run on the rows where they landed.

    Three small queries beat one wide one here (measured on 10M rows: 1.3 s against 2.5 s).
    Ids are first compared by their 64-bit hashes, which is twice as fast as comparing the
    strings; equal hashes of different ids are rare, and the exact count settles them.
    """
    table = plan.table.name.value
    mine = f"{IMPORT_ID} = {import_id}"
    parts = [f"count(*) FILTER (WHERE {c.condition})" for c in plan.checks if not c.needs_source]
    if parts and any(_count_all(conn, f"SELECT {', '.join(parts)} FROM {table} WHERE {mine}")):
        return False
    if plan.table.name not in (Table.CUSTOMERS, Table.OUTCOMES):
        key = ", ".join(ident(k) for k in plan.table.key)
        hashed = f"SELECT count(*) - count(DISTINCT hash({key})) FROM {table} WHERE {mine}"
        exact = f"SELECT count(*) - count(DISTINCT ({key})) FROM {table} WHERE {mine}"
        if _count(conn, hashed) and _count(conn, exact):
            return False
    if plan.table.refers_to_customers:
        orphans = (
            f"SELECT count(*) FROM {table} ANTI JOIN customers c USING (customer_id) WHERE {mine}"
        )
        if _count(conn, orphans):
            return False
    return True


def _count_all(conn: duckdb.DuckDBPyConnection, sql: str) -> list[int]:
    row = conn.execute(sql).fetchone()
    return [] if row is None else [int(v or 0) for v in row]


def _diagnose(
    conn: duckdb.DuckDBPyConnection, plan: ImportPlan, typed: str, staged: StagedSource
) -> tuple[list[Problem], int]:
    """The first problems by row, and how many there are in all, read from the source."""
    view, label = ident(typed), staged.item.label
    checks: list[Check] = list(plan.checks)
    key_cols = [k for k in plan.table.key]
    key = " || '/' || ".join(f"CAST({ident(k)} AS VARCHAR)" for k in key_cols)
    key_name = "/".join(
        next((c.source or k) for c in plan.columns if c.column.name == k) for k in key_cols
    )
    ranked = (
        f"(SELECT *, min(_row) OVER (PARTITION BY {key}) AS _first, "
        f"count(*) OVER (PARTITION BY {key}) AS _n FROM {view} WHERE ({key}) IS NOT NULL)"
    )
    problems: list[Problem] = []
    total = 0
    for check in checks:
        total += _count(conn, f"SELECT count(*) FROM {view} WHERE {check.condition}")
        rows = conn.execute(
            f"SELECT _row, {check.value} FROM {view} WHERE {check.condition} "
            f"ORDER BY _row LIMIT {MAX_PROBLEMS}"
        ).fetchall()
        for r, value in rows:
            problems.append(
                Problem(label, int(r), check.column, check.problem.format(value=value), check.hint)
            )
    dup_where = "_n > 1 AND _row > _first"
    total += _count(conn, f"SELECT count(*) FROM {ranked} WHERE {dup_where}")
    for r, value, first in conn.execute(
        f"SELECT _row, {key}, _first FROM {ranked} WHERE {dup_where} ORDER BY _row "
        f"LIMIT {MAX_PROBLEMS}"
    ).fetchall():
        problems.append(
            Problem(
                label,
                int(r),
                key_name,
                f"duplicate id '{value}' (first on row {first})",
                "ids must be unique within a file: remove or renumber the repeated row",
            )
        )
    if plan.table.refers_to_customers and staged.item.spec.shape != "transaction_log":
        column = next(
            c.source or "customer_id" for c in plan.columns if c.column.name == "customer_id"
        )
        orphan = (
            "customer_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM customers c WHERE c.customer_id = v.customer_id)"
        )
        total += _count(conn, f"SELECT count(*) FROM {view} v WHERE {orphan}")
        for r, value in conn.execute(
            f"SELECT _row, customer_id FROM {view} v WHERE {orphan} ORDER BY _row "
            f"LIMIT {MAX_PROBLEMS}"
        ).fetchall():
            problems.append(
                Problem(
                    label,
                    int(r),
                    column,
                    f"customer '{value}' is not in customers",
                    "import the customers file in the same or an earlier run, or use "
                    "'shape: transaction_log' to derive customers",
                )
            )
    problems.sort(key=lambda p: (p.row, p.column))
    if total == 0:
        # A bug, not a user mistake: the fast checks failed but no rule finds the rows.
        raise AssertionError(f"{label}: import checks failed without an identifiable row")
    return problems[:MAX_PROBLEMS], total


def _replace_older_rows(conn: duckdb.DuckDBPyConnection, plan: ImportPlan, import_id: int) -> int:
    """Upsert for fact tables: rows that arrived again replace their older copies."""
    if plan.table.name in (Table.CUSTOMERS, Table.OUTCOMES):
        return 0  # INSERT OR REPLACE has done it
    table = plan.table.name.value
    key = ident(plan.table.key[0])
    return _count(
        conn,
        f"DELETE FROM {table} WHERE {IMPORT_ID} <> {import_id} AND {key} IN "
        f"(SELECT {key} FROM {table} WHERE {IMPORT_ID} = {import_id})",
    )


def _snapshot_outcomes(
    conn: duckdb.DuckDBPyConnection,
    plan: ImportPlan,
    typed: str,
    item: SourceFile,
    import_id: int,
) -> int:
    """A snapshot's 'yes' rows become outcomes dated to the snapshot; 'no' rows clear them."""
    spec = item.spec
    if plan.label is None or spec.label is None or spec.snapshot_date is None:
        return 0
    yes = ", ".join(literal(v) for v in plan.yes_values)
    kind, day = literal(spec.label.outcome), literal(spec.snapshot_date.isoformat())
    conn.execute(
        f"DELETE FROM outcomes WHERE kind = {kind} AND ts = CAST({day} AS TIMESTAMPTZ) AND "
        f"customer_id IN (SELECT customer_id FROM {ident(typed)} "
        f"WHERE lower({LABEL}) NOT IN ({yes}))"
    )
    return _count(
        conn,
        f"INSERT OR REPLACE INTO outcomes (customer_id, kind, ts, {IMPORT_ID}) "
        f"SELECT customer_id, {kind}, CAST({day} AS TIMESTAMPTZ), {import_id} "
        f"FROM {ident(typed)} WHERE lower({LABEL}) IN ({yes})",
    )


def _store_attributes(
    conn: duckdb.DuckDBPyConnection, plan: ImportPlan, typed: str, label: str, import_id: int
) -> int:
    """Extra customer columns, kept long-form with a numeric or categorical type."""
    if not plan.attributes:
        return 0
    view = ident(typed)
    stats = []
    for _, name in plan.attributes:
        col = ident("_attr_" + name)
        text = f"NULLIF(trim(CAST({col} AS VARCHAR)), '')"
        stats.append(f"count({text}) = count(TRY_CAST({text} AS DOUBLE))")
    row = conn.execute(f"SELECT {', '.join(stats)} FROM {view}").fetchone()
    assert row is not None
    written = 0
    for (source, name), numeric in zip(plan.attributes, row, strict=True):
        register_attribute(
            conn,
            name,
            "numeric" if numeric else "categorical",
            pii=source in plan.pii_attributes,
            source=f"{label}:{source}",
        )
        text = f"NULLIF(trim(CAST({ident('_attr_' + name)} AS VARCHAR)), '')"
        number = f"TRY_CAST({text} AS DOUBLE)" if numeric else "CAST(NULL AS DOUBLE)"
        result = conn.execute(
            f"INSERT OR REPLACE INTO customer_attributes "
            f"SELECT customer_id, {literal(name)}, {number}, {text}, {import_id} "
            f"FROM {view} WHERE {text} IS NOT NULL"
        ).fetchone()
        written += 0 if result is None else int(result[0])
    return written


__all__ = ["ImportedSource", "Problem", "Progress", "import_sources", "plan_sources"]
