"""Properties of the importer that must hold for any valid input."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.factories import CUSTOMERS, dump_store, write_csv

from crew.errors import ValidationFailed
from crew.ingest import Mapping, SourceSpec, import_sources
from crew.store import connect_duckdb, create_schema

_amounts = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)
_rows = st.lists(
    st.tuples(st.sampled_from(["c1", "c2", "c3"]), _amounts, st.integers(0, 10**6)),
    min_size=1,
    max_size=25,
)


def _fresh() -> duckdb.DuckDBPyConnection:
    conn = connect_duckdb(":memory:")
    create_schema(conn)
    return conn


def _write(folder: Path, rows: list[tuple[str, object, int]]) -> None:
    write_csv(folder / "customers.csv", CUSTOMERS)
    write_csv(
        folder / "transactions.csv",
        [
            {
                "txn_id": f"t{i}",
                "customer_id": c,
                "amount": str(a),
                "ts": f"2024-01-{1 + s % 28:02d} 12:00",
            }
            for i, (c, a, s) in enumerate(rows)
        ],
    )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_rows)
def test_importing_twice_equals_importing_once(tmp_path_factory: object, rows: list) -> None:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("twice")  # type: ignore[attr-defined]
    _write(folder, rows)
    mapping = Mapping(sources=[SourceSpec(path=str(folder))])
    conn = _fresh()
    import_sources(conn, mapping, folder)
    once = conn.execute("SELECT * EXCLUDE (_import_id) FROM transactions ORDER BY 1").fetchall()
    import_sources(conn, mapping, folder)
    twice = conn.execute("SELECT * EXCLUDE (_import_id) FROM transactions ORDER BY 1").fetchall()
    assert once == twice
    assert len(once) == len(rows)
    assert sum(r[3] for r in once) == pytest.approx(sum(float(a) for _, a, _ in rows))  # type: ignore[misc]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_rows, data=st.data())
def test_one_bad_cell_is_named_and_nothing_is_written(
    tmp_path_factory: object,
    rows: list,
    data: st.DataObject,  # type: ignore[type-arg]
) -> None:
    folder = tmp_path_factory.mktemp("bad")  # type: ignore[attr-defined]
    _write(folder, rows)
    bad_row = data.draw(st.integers(0, len(rows) - 1))
    bad_value = data.draw(st.sampled_from(["abc", "-1", "1e", "--"]))
    path = folder / "transactions.csv"
    lines = path.read_text().splitlines()
    cells = lines[bad_row + 1].split(",")
    cells[2] = bad_value  # the amount column
    lines[bad_row + 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    conn = _fresh()
    before = dump_store(conn)
    try:
        import_sources(conn, Mapping(sources=[SourceSpec(path=str(folder))]), folder)
    except ValidationFailed as failed:
        assert failed.total == 1
        assert failed.problems[0].startswith(f"{path}:{bad_row + 2}:amount: ")
    else:
        raise AssertionError("a bad amount was accepted")
    assert dump_store(conn) == before
