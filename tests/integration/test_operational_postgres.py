"""The operational store on a real PostgreSQL server (loopback), one schema per test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from tests.factories import PG_ADMIN, postgres_schema

from crew.errors import (
    DuplicateWarningError,
    InvalidBlacklistEntryError,
    OperationalStoreError,
)
from crew.store.blacklist import EntryStatus, IdentifierType, NewEntry
from crew.store.operational import MIGRATIONS, OperationalStore, RunRecord

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
NONE = pd.DataFrame()
pytestmark = pytest.mark.postgres


@pytest.fixture
def schema_url() -> Iterator[tuple[str, str]]:
    """A fresh schema and a SQLAlchemy URL whose search_path points at it; dropped afterwards."""
    with postgres_schema() as (schema, url):
        yield schema, url


def run(run_id: str) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        as_of=DAY1,
        started_at=DAY1,
        finished_at=DAY1,
        dry_run=False,
        config_fingerprint="x",
    )


def churn(*customers: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": list(customers),
            "risk_type": "churn",
            "level": "high",
            "score": 0.9,
            "first_seen": DAY1,
            "evidence": [{"recency_days": 80, "note": "最近无购买"}] * len(customers),
        }
    )


def test_the_schema_is_made_in_the_search_path_schema(schema_url: tuple[str, str]) -> None:
    schema, url = schema_url
    with OperationalStore.open(url):
        pass
    with psycopg.connect(PG_ADMIN) as pg:
        tables = pg.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [schema],
        ).fetchall()
        version = pg.execute(f"SELECT version_num FROM {schema}.alembic_version").fetchone()
        (index,) = pg.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
            [schema, "uq_warnings_active_subject"],
        ).fetchone() or ("",)
    assert {t for (t,) in tables} >= {
        "alembic_version",
        "warnings",
        "warning_history",
        "runs",
        "api_tokens",
        "cases",
        "case_steps",
        "case_history",
        "blacklist_entries",
        "live_scores",
    }
    # One line of migrations, applied to its end (two heads would raise here).
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert version == (ScriptDirectory.from_config(config).get_current_head(),)
    assert "UNIQUE" in index and "WHERE" in index and "COALESCE" in index.upper()


def test_evidence_is_jsonb_the_server_can_query(schema_url: tuple[str, str]) -> None:
    _, url = schema_url
    with OperationalStore.open(url) as store:
        store.apply_run(run("r1"), churn("C1"), NONE, NONE)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT evidence->>'note', jsonb_typeof(evidence) FROM warnings")
        ).one()
    engine.dispose()
    assert tuple(value) == ("最近无购买", "object")


def test_a_second_process_cannot_open_a_duplicate(schema_url: tuple[str, str]) -> None:
    _, url = schema_url
    with OperationalStore.open(url) as first, OperationalStore.open(url) as second:
        first.apply_run(run("r1"), churn("C1"), NONE, NONE)
        later = churn("C1").assign(id="churn-C1-later")
        with pytest.raises(DuplicateWarningError, match="second active churn warning for C1"):
            second.apply_run(run("r2"), later, NONE, NONE)
        assert [r.run_id for r in second.runs()] == ["r1"]


def test_a_missing_database_is_named_without_the_password() -> None:
    with pytest.raises(OperationalStoreError) as caught:
        OperationalStore.open("postgresql+psycopg://postgres:pa55word@127.0.0.1:5432/no_such_db")
    assert "pa55word" not in caught.value.message + str(caught.value.hint)
    assert "127.0.0.1" in caught.value.message and "no_such_db" in caught.value.message
    assert caught.value.exit_code == 8


def test_blacklist_entries_keep_one_listing_per_source(schema_url: tuple[str, str]) -> None:
    _, url = schema_url
    entry = NewEntry(IdentifierType.PHONE, "a" * 64, "fraud", date(2024, 5, 1), "bank-x")
    with OperationalStore.open(url) as store:
        (first,) = store.blacklist.add([entry], actor="t", at=DAY1)
        with pytest.raises(InvalidBlacklistEntryError):
            store.blacklist.add([entry], actor="t", at=DAY1)
        store.blacklist.set_status(first, EntryStatus.WITHDRAWN, actor="t", at=DAY1)
        store.blacklist.add([entry], actor="t", at=DAY1)
        assert [e.listed_on for e in store.blacklist.in_force(date(2024, 5, 2))] == [
            date(2024, 5, 1)
        ]


def test_the_migration_downgrades_and_upgrades_again(schema_url: tuple[str, str]) -> None:
    _, url = schema_url
    with OperationalStore.open(url):
        pass
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    engine.dispose()
    with OperationalStore.open(url) as store:
        store.apply_run(run("r1"), churn("C1"), NONE, NONE)
        assert len(store.active_warnings()) == 1


@pytest.mark.slow
def test_fifty_thousand_warnings_are_written_in_one_run(schema_url: tuple[str, str]) -> None:
    _, url = schema_url
    n = 50_000
    opened = churn(*(f"C{i:06d}" for i in range(n)))
    with OperationalStore.open(url) as store:
        store.apply_run(run("r1"), opened, NONE, NONE)
        assert len(store.active_warnings(DAY1 + timedelta(days=1))) == n
        assert store.outbox.last_id() == n  # one notification each, in the same transaction
