"""A store, on SQLite or on PostgreSQL, whose audit log can be made to fail on demand."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from crew.store import OperationalStore

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END"
)
PG_TRIGGER = (
    "CREATE OR REPLACE FUNCTION audit_fails() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'audit log unavailable'; END $$ LANGUAGE plpgsql; "
    "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log FOR EACH ROW "
    "EXECUTE FUNCTION audit_fails()"
)

Breaker = Callable[[bool], None]
"""True: every insert into the audit log fails from now on; False: inserts work again."""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def breakable(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[OperationalStore, Breaker]]:
    """An empty store and the switch that breaks its audit log (a trigger, from outside)."""
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if request.param == "sqlite":
        path = tmp_path / "ops.sqlite"
        store = OperationalStore.open(f"sqlite:///{path}")

        def breaker(on: bool) -> None:
            with sqlite3.connect(path) as db:
                db.execute(SQLITE_TRIGGER if on else "DROP TRIGGER audit_fails")

    else:
        schema = f"crew_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(ADMIN, autocommit=True) as pg:
            pg.execute(f"CREATE SCHEMA {schema}")
        store = OperationalStore.open(
            f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
        )

        def breaker(on: bool) -> None:
            with psycopg.connect(ADMIN, autocommit=True) as pg:
                pg.execute(f"SET search_path TO {schema}")
                pg.execute(PG_TRIGGER if on else "DROP TRIGGER audit_fails ON audit_log")

        def cleanup() -> None:
            with psycopg.connect(ADMIN, autocommit=True) as pg:
                pg.execute(f"DROP SCHEMA {schema} CASCADE")

    try:
        yield store, breaker
    finally:
        store.close()
        cleanup()
