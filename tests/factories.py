"""Small, seeded, hand-readable inputs for the tests."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from crew.store.schema import CANONICAL
from crew.types import Table

CUSTOMERS = [
    {
        "customer_id": "c1",
        "segment": "mass",
        "tier": "regular",
        "signup_date": "2024-01-03",
        "name": "Alice Wang",
        "phone": "13800000001",
    },
    {
        "customer_id": "c2",
        "segment": "affluent",
        "tier": "key",
        "signup_date": "2024-02-10",
        "name": "李雷",
        "phone": "13800000002",
    },
    {
        "customer_id": "c3",
        "segment": "mass",
        "tier": "regular",
        "signup_date": "2024-03-15",
        "name": "Bob Li",
        "phone": "13800000003",
    },
]

TRANSACTIONS = [
    {
        "txn_id": "t1",
        "customer_id": "c1",
        "ts": "2024-03-01 10:00:00",
        "amount": "12.50",
        "type": "purchase",
    },
    {
        "txn_id": "t2",
        "customer_id": "c1",
        "ts": "2024-03-02T10:00:00+08:00",
        "amount": "3",
        "type": "refund",
    },
    {"txn_id": "t3", "customer_id": "c2", "ts": "2024-03-04", "amount": "250", "type": "purchase"},
    {
        "txn_id": "t4",
        "customer_id": "c3",
        "ts": "2024-04-01 23:59:59",
        "amount": "0.99",
        "type": "purchase",
    },
]


def write_csv(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    """Write `rows` (dicts with the same keys) as a CSV file with a header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def dump_store(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the store, sorted: equal dumps mean equal stores."""
    names = [t.value for t in Table] + [
        "customer_attributes",
        "attribute_catalog",
        "pii_columns",
        "imports",
    ]
    dump = {}
    for name in names:
        rows = conn.execute(f"SELECT * FROM {name}").fetchall()
        dump[name] = sorted(rows, key=repr)
    return dump


def canonical_columns(table: Table) -> list[str]:
    """Column names of a canonical table, in order."""
    return list(CANONICAL[table].names)


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
"""The test database on loopback, as a psycopg URL (trust auth)."""


@contextmanager
def postgres_schema() -> Iterator[tuple[str, str]]:
    """A fresh schema of the test database and a SQLAlchemy URL whose search_path points
    at it; dropped (with everything in it) when the block ends."""
    import psycopg

    schema = f"crew_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as pg:
        pg.execute(f"CREATE SCHEMA {schema}")
    try:
        yield (
            schema,
            (f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"),
        )
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as pg:
            pg.execute(f"DROP SCHEMA {schema} CASCADE")
