"""Point in time: nothing computed at as_of may read data from at or after as_of."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crew.indicators._compile import compile_indicators
from crew.indicators.catalog import load_catalog
from crew.indicators.engines import run_duckdb
from crew.store import Workspace, connect_duckdb, create_schema, open_workspace

AS_OF = datetime(2024, 9, 1, tzinfo=UTC)
CATALOG = load_catalog()


def _values(conn: duckdb.DuckDBPyConnection, as_of: datetime = AS_OF) -> pa.Table:
    return run_duckdb(conn, compile_indicators(CATALOG, as_of))


def assert_same_values(left: pa.Table, right: pa.Table) -> None:
    """Equal customers and values; floating sums may differ in the last bits (order of adds)."""
    assert left.column_names == right.column_names
    assert left.column("customer_id").equals(right.column("customer_id"))
    for name in left.column_names[1:]:
        a, b = left.column(name).to_pylist(), right.column(name).to_pylist()
        assert [x is None for x in a] == [y is None for y in b], name
        assert [x for x in a if x is not None] == pytest.approx(
            [y for y in b if y is not None], rel=1e-12, abs=1e-12
        ), name


def _copy(workspace: Workspace, tmp_path: Path) -> Workspace:
    shutil.copytree(workspace.root, tmp_path / "copy")
    return open_workspace(tmp_path / "copy")


def _add_future_rows(conn: duckdb.DuckDBPyConnection, shift: timedelta) -> int:
    """Copy every past row to `as_of + shift` onwards under new ids; returns rows added."""
    added = 0
    seconds = int(shift.total_seconds())
    moved = f"CAST('{AS_OF.isoformat()}' AS TIMESTAMPTZ) + INTERVAL '{seconds}' SECOND"
    for table, key in (
        ("transactions", "txn_id"),
        ("interactions", "interaction_id"),
        ("events", "event_id"),
    ):
        row = conn.execute(
            f"INSERT INTO {table} SELECT * REPLACE ('future-' || {key} AS {key}, "
            f"{moved} + (ts - min(ts) OVER ()) AS ts) FROM {table}"
        ).fetchone()
        added += int(row[0]) if row else 0
    conn.execute(
        "INSERT INTO customers (customer_id, segment, signup_date) SELECT 'future-' || "
        f"customer_id, segment, CAST({moved} AS DATE) FROM customers"
    )
    # Contacts opened before as_of but resolved at or after it were still open at as_of.
    conn.execute(f"UPDATE interactions SET resolved_ts = {moved} WHERE resolved_ts IS NULL")
    return added


@pytest.mark.parametrize("shift", [timedelta(0), timedelta(seconds=1), timedelta(days=45)])
def test_adding_rows_at_or_after_as_of_changes_no_indicator(
    sim_workspace: Workspace, tmp_path: Path, shift: timedelta
) -> None:
    workspace = _copy(sim_workspace, tmp_path)
    with workspace.connect() as conn:
        before = _values(conn)
        assert _add_future_rows(conn, shift) > 10_000
        after = _values(conn)
    assert_same_values(after, before)


def test_the_instant_itself_is_excluded(db: duckdb.DuckDBPyConnection) -> None:
    db.execute("INSERT INTO customers (customer_id, signup_date) VALUES ('c', DATE '2024-01-01')")
    db.execute(
        "INSERT INTO transactions (txn_id, customer_id, ts, amount, type) VALUES "
        f"('t1', 'c', '{AS_OF.isoformat()}', 10, 'purchase'), "
        f"('t2', 'c', '{(AS_OF - timedelta(microseconds=1)).isoformat()}', 5, 'purchase')"
    )
    spend = _values(db).column("spend_30d").to_pylist()
    assert spend == [5.0]


_ts = st.integers(min_value=-200 * 86_400, max_value=200 * 86_400)


@settings(max_examples=25, deadline=None)
@given(
    txns=st.lists(
        st.tuples(_ts, st.floats(0, 1_000), st.sampled_from(["purchase", "refund"])), max_size=30
    ),
    contacts=st.lists(
        st.tuples(
            _ts,
            st.sampled_from(["complaint", "survey", "dispute"]),
            st.integers(0, 10),
            st.none() | st.integers(0, 400_000),
        ),
        max_size=30,
    ),
)
def test_indicators_equal_those_of_the_past_alone(
    txns: list[tuple[int, float, str]], contacts: list[tuple[int, str, int, int | None]]
) -> None:
    """Indicators on all rows equal indicators on the rows before as_of alone."""
    results = []
    for keep_future in (True, False):
        conn = connect_duckdb(":memory:")
        create_schema(conn)
        conn.execute(
            "INSERT INTO customers (customer_id, segment, signup_date) "
            "VALUES ('a', 's1', DATE '2023-01-01'), ('b', 's2', DATE '2023-06-01')"
        )
        for i, (offset, amount, kind) in enumerate(txns):
            ts = AS_OF + timedelta(seconds=offset)
            if keep_future or ts < AS_OF:
                conn.execute(
                    "INSERT INTO transactions (txn_id, customer_id, ts, amount, type) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [f"t{i}", "ab"[i % 2], ts, amount, kind],
                )
        for i, (offset, kind, nps, resolve_after) in enumerate(contacts):
            ts = AS_OF + timedelta(seconds=offset)
            resolved = None if resolve_after is None else ts + timedelta(seconds=resolve_after)
            if keep_future or ts < AS_OF:
                conn.execute(
                    "INSERT INTO interactions (interaction_id, customer_id, ts, kind, nps, "
                    "resolved_ts) VALUES (?, ?, ?, ?, ?, ?)",
                    [f"i{i}", "ab"[i % 2], ts, kind, nps if kind == "survey" else None, resolved],
                )
        results.append(_values(conn))
        conn.close()
    assert_same_values(results[0], results[1])
