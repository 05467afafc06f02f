"""A case change and its audit record commit together: a failing audit append leaves the case
as it was, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from crew.response.cases import plan_cases
from crew.response.playbooks import load_playbooks
from crew.store import OperationalStore, RunRecord
from crew.types import CaseOutcome, CaseState

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
CASE = "case-churn-C1-20240501"
SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END"
)
PG_TRIGGER = (
    "CREATE FUNCTION audit_fails() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'audit log unavailable'; END $$ LANGUAGE plpgsql; "
    "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log FOR EACH ROW "
    "EXECUTE FUNCTION audit_fails()"
)

Breaker = Callable[[bool], None]  # True: make audit appends fail; False: let them work


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[OperationalStore, Breaker]]:
    """A store holding one churn case with two steps, and a switch that breaks its audit log."""
    if request.param == "sqlite":
        path = tmp_path / "ops.sqlite"
        store = OperationalStore.open(f"sqlite:///{path}")

        def breaker(on: bool) -> None:
            with sqlite3.connect(path) as db:
                db.execute(SQLITE_TRIGGER if on else "DROP TRIGGER audit_fails")

        cleanup: Callable[[], None] = lambda: None  # noqa: E731
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

    opened = pd.DataFrame({"customer_id": ["C1"], "risk_type": "churn", "level": "high",
                           "score": 0.9, "first_seen": DAY1})  # fmt: skip
    store.apply_run(RunRecord("r1", DAY1, DAY1, DAY1, False, "x"), opened, pd.DataFrame(),
                    pd.DataFrame())  # fmt: skip
    planned = plan_cases(store.active_warnings(), load_playbooks(), {}, at=DAY1, profile=None,
                         control_share=0.0)  # fmt: skip
    store.cases.open([dataclasses.asdict(p) for p in planned], actor="crew")
    try:
        yield store, breaker
    finally:
        store.close()
        cleanup()


def _snapshot(store: OperationalStore) -> tuple[object, ...]:
    case = store.cases.get(CASE)
    return (case.state, case.owner_team, case.outcome, case.closed_at,
            [(s.done_at, s.done_by) for s in case.steps], len(case.history))  # fmt: skip


def test_a_failing_audit_append_leaves_the_case_unchanged(
    store: tuple[OperationalStore, Breaker],
) -> None:
    book, breaker = store
    before, records = _snapshot(book), book.audit.verify().records
    at = DAY1 + timedelta(hours=1)
    breaker(True)
    changes: list[Callable[[], object]] = [
        lambda: book.cases.reassign(CASE, "compliance", actor="ann", at=at),
        lambda: book.cases.complete_step(CASE, 1, actor="ann", at=at, audit={"via": "test"}),
        lambda: book.cases.close(CASE, CaseOutcome.RETAINED, actor="ann", at=at),
    ]
    for change in changes:
        with pytest.raises(sa.exc.DBAPIError, match="audit log unavailable"):
            change()
        assert _snapshot(book) == before, "the case change was rolled back with its record"
    check = book.audit.verify()
    assert check.ok and check.records == records
    assert before[0] == CaseState.OPEN

    breaker(False)
    for change in changes:
        change()
    case = book.cases.get(CASE)
    assert case.state == CaseState.CLOSED and case.outcome == CaseOutcome.RETAINED
    assert case.owner_team == "compliance" and case.steps[0].done_by == "ann"
    audit = book.audit.records(subject=CASE)
    assert [r.action for r in audit] == ["case.close", "case.step", "case.assign"]
    assert audit[1].details == {"step": 1, "via": "test"}
    assert audit[2].details == {"owner_team": "compliance", "from": "retention"}
    assert audit[0].details == {"outcome": "retained"}
    assert book.audit.verify().ok
