"""Indicator values in the workspace: one wide row per customer, instant and profile."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from crew.errors import StaleDataError
from crew.store.duckdb import transaction

VALUES_TABLE = "indicator_values"
_KEYS = ("customer_id", "as_of", "profile")


def save_indicator_values(
    conn: duckdb.DuckDBPyConnection,
    values: pa.Table,
    *,
    as_of: datetime,
    profile: str,
    engine: str,
    catalog_sha256: str,
    seconds: float,
) -> int:
    """Replace the values of (as_of, profile) with `values` (customer_id, as_of, indicators)."""
    indicators = [n for n in values.column_names if n not in _KEYS]
    with transaction(conn):
        _ensure_columns(conn, indicators)
        conn.execute(
            f"DELETE FROM {VALUES_TABLE} WHERE as_of = ? AND profile = ?", [as_of, profile]
        )
        conn.register("_crew_values", values)
        cols = "".join(f', "{n}"' for n in indicators)
        conn.execute(
            f"INSERT INTO {VALUES_TABLE} (customer_id, as_of, profile{cols}) "
            f"SELECT customer_id, CAST(? AS TIMESTAMPTZ), ?{cols} FROM _crew_values",
            [as_of, profile],
        )
        conn.unregister("_crew_values")
        conn.execute(
            "INSERT OR REPLACE INTO indicator_runs VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [as_of, profile, engine, catalog_sha256, values.num_rows, len(indicators), seconds],
        )
    return int(values.num_rows)


def _ensure_columns(conn: duckdb.DuckDBPyConnection, indicators: list[str]) -> None:
    """Create the wide table, or add columns for indicators it has not seen yet."""
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {VALUES_TABLE} (customer_id VARCHAR NOT NULL, "
        "as_of TIMESTAMPTZ NOT NULL, profile VARCHAR NOT NULL)"
    )
    existing = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [VALUES_TABLE],
        ).fetchall()
    }
    for name in indicators:
        if name not in existing:
            conn.execute(f'ALTER TABLE {VALUES_TABLE} ADD COLUMN "{name}" DOUBLE')


def load_indicator_values(
    conn: duckdb.DuckDBPyConnection, as_of: datetime, profile: str, columns: list[str]
) -> pa.Table:
    """Stored values of `columns` at (as_of, profile); StaleDataError when never computed."""
    ((runs,),) = conn.execute(
        "SELECT count(*) FROM indicator_runs WHERE as_of = ? AND profile = ?", [as_of, profile]
    ).fetchall()
    if runs == 0:
        raise StaleDataError(
            f"No indicators computed at {as_of:%Y-%m-%d %H:%M} UTC for profile '{profile}'.",
            hint=f"Run 'crew indicators compute --as-of {as_of:%Y-%m-%d} --profile {profile}'.",
        )
    cols = ", ".join(f'"{c}"' for c in columns)
    return conn.sql(
        f"SELECT customer_id{', ' + cols if cols else ''} FROM {VALUES_TABLE} "
        "WHERE as_of = ? AND profile = ? ORDER BY customer_id",
        params=[as_of, profile],
    ).to_arrow_table()


__all__ = ["VALUES_TABLE", "load_indicator_values", "save_indicator_values"]
