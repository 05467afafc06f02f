"""Import from a PostgreSQL table reachable by a connection URL (real server on loopback)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import duckdb
import psycopg
import pytest
from tests.factories import CUSTOMERS, dump_store, write_csv

from crew.errors import SourceError, ValidationFailed
from crew.ingest import Mapping, SourceSpec, import_sources

URL = "postgresql://postgres@127.0.0.1:5432/test"
pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_table() -> Iterator[str]:
    """A fresh `orders` table in the test database, dropped afterwards."""
    name = f"crew_orders_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(URL, autocommit=True) as pg:
        pg.execute(
            f"CREATE TABLE {name} (order_no text, client text, placed_at timestamptz, "
            "total numeric(10,2), channel text)"
        )
        pg.execute(
            f"INSERT INTO {name} VALUES ('o1', 'c1', '2024-05-01 08:00+08', 19.90, 'app'), "
            "('o2', 'c2', '2024-05-02 12:30+00', 250.00, 'web'), "
            "('o3', 'c1', '2024-05-03 23:15+00', 5.00, NULL)"
        )
    yield name
    with psycopg.connect(URL, autocommit=True) as pg:
        pg.execute(f"DROP TABLE IF EXISTS {name}")


def _mapping(table: str) -> Mapping:
    return Mapping(
        sources=[
            SourceSpec(
                url=URL,
                sql_table=f"public.{table}",
                table="transactions",  # type: ignore[arg-type]
                columns={
                    "txn_id": "order_no",
                    "customer_id": "client",
                    "ts": "placed_at",
                    "amount": "total",
                },
            )
        ]
    )


def test_imports_a_postgres_table(
    db: duckdb.DuckDBPyConnection, pg_table: str, tmp_path: object
) -> None:
    folder = tmp_path / "c"  # type: ignore[operator]
    write_csv(folder / "customers.csv", CUSTOMERS)
    import_sources(db, Mapping(sources=[SourceSpec(path=str(folder))]), folder)
    (result,) = import_sources(db, _mapping(pg_table), folder)
    assert result.rows == 3
    rows = db.execute("SELECT txn_id, ts, amount, channel FROM transactions ORDER BY 1").fetchall()
    assert rows == [
        ("o1", datetime(2024, 5, 1, 0, 0, tzinfo=UTC), 19.9, "app"),
        ("o2", datetime(2024, 5, 2, 12, 30, tzinfo=UTC), 250.0, "web"),
        ("o3", datetime(2024, 5, 3, 23, 15, tzinfo=UTC), 5.0, None),
    ]


def test_bad_postgres_rows_are_named_by_table_and_row(
    db: duckdb.DuckDBPyConnection, pg_table: str
) -> None:
    # No customers imported: every order is an orphan, and nothing may be written.
    before = dump_store(db)
    with pytest.raises(ValidationFailed) as caught:
        import_sources(db, _mapping(pg_table), tmp_path_dummy())
    assert caught.value.total == 3
    assert caught.value.problems[0].startswith(
        f"postgresql://postgres@127.0.0.1:5432/test#public.{pg_table}:1:client: customer 'c1'"
    )
    assert dump_store(db) == before


def test_unreachable_database_is_a_source_error(db: duckdb.DuckDBPyConnection) -> None:
    mapping = Mapping(
        sources=[
            SourceSpec(
                url="postgresql://nobody:secret@127.0.0.1:1/none",
                sql_table="t",
                table="transactions",
            )
        ]  # type: ignore[arg-type]
    )
    with pytest.raises(SourceError) as caught:
        import_sources(db, mapping, tmp_path_dummy())
    assert "secret" not in str(caught.value)
    assert "***" in str(caught.value)


def tmp_path_dummy() -> object:
    from pathlib import Path

    return Path(".")
