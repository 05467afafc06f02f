"""Streamed events land as Parquet and reach the analytical store with the next run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.errors import ValidationFailed
from crew.ingest.events import EVENT, Event
from crew.ingest.landing import Landing, import_landed, landed_files, landing_dir
from crew.store import Workspace
from crew.types import Table

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)


def streamed() -> list[Event]:
    return [
        EVENT.validate_python(p)
        for p in (
            {"table": "transactions", "txn_id": "T1", "customer_id": "C1", "ts": T0.isoformat(),
             "amount": 12.5, "type": "purchase"},
            {"table": "interactions", "interaction_id": "I1", "customer_id": "C1",
             "ts": (T0 + timedelta(hours=1)).isoformat(), "kind": "complaint", "severity": 3,
             "text": "Please close my account."},
            {"table": "events", "event_id": "E1", "customer_id": "C2",
             "ts": (T0 + timedelta(hours=2)).isoformat(), "kind": "login",
             "attributes": {"device_id": "d1", "new": True}},
        )
    ]  # fmt: skip


@pytest.fixture
def shop(workspace: Workspace) -> Workspace:
    with workspace.connect() as conn:
        conn.execute("INSERT INTO customers (customer_id) VALUES ('C1'), ('C2')")
    return workspace


def counts(workspace: Workspace) -> dict[str, int]:
    with workspace.connect() as conn:
        return {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t in ("transactions", "interactions", "events")
        }


def test_a_landed_batch_is_imported_once_and_moved_aside(shop: Workspace) -> None:
    landing = Landing(shop.root, "w1")
    first = landing.write(streamed())
    again = landing.write(streamed())  # a redelivered batch lands a second time
    assert len(first) == len(again) == 3 and not any(p.name.startswith(".") for p in first)
    assert set(landed_files(shop.root)) == {Table.TRANSACTIONS, Table.INTERACTIONS, Table.EVENTS}
    with shop.connect() as conn:
        rows = import_landed(conn, shop.root)
        stored = conn.execute(
            "SELECT e.attributes, i.text, i.severity FROM events e, interactions i"
        ).fetchone()
    assert rows == {Table.TRANSACTIONS: 2, Table.INTERACTIONS: 2, Table.EVENTS: 2}
    assert counts(shop) == {"transactions": 1, "interactions": 1, "events": 1}
    assert stored is not None and '"device_id"' in str(stored[0])
    assert stored[1:] == ("Please close my account.", 3)
    assert landed_files(shop.root) == {}
    assert len(list((landing_dir(shop.root) / "imported").rglob("*.parquet"))) == 6
    with shop.connect() as conn:
        assert import_landed(conn, shop.root) == {}


def test_a_bad_landed_file_imports_nothing_and_stays(shop: Workspace) -> None:
    Landing(shop.root, "w1").write(streamed())
    folder = landing_dir(shop.root) / "transactions"
    bad = pa.table({"txn_id": ["T9"], "customer_id": ["C1"], "ts": [T0], "amount": [-3.0]})
    pq.write_table(bad, folder / "zz-bad.parquet")
    with shop.connect() as conn, pytest.raises(ValidationFailed):
        import_landed(conn, shop.root)
    assert counts(shop) == {"transactions": 0, "interactions": 0, "events": 0}
    assert sum(len(f) for f in landed_files(shop.root).values()) == 4


def test_crew_run_imports_the_landed_events_first(shop: Workspace, cli: CliRunner) -> None:
    Landing(shop.root, "w1").write(streamed())
    result = cli.invoke(app, ["-w", str(shop.root), "run", "--as-of", "2025-03-02"])
    assert result.exit_code == 0, result.output
    assert "Imported streamed events: 1 transactions, 1 interactions, 1 events" in result.output
    assert counts(shop) == {"transactions": 1, "interactions": 1, "events": 1}


def test_landing_names_are_safe_whatever_the_worker_is_called(tmp_path: Path) -> None:
    (written,) = Landing(tmp_path, "host/../1 2").write(streamed()[:1])
    assert written.parent == landing_dir(tmp_path) / "transactions"


def test_crew_import_landed(shop: Workspace, cli: CliRunner) -> None:
    Landing(shop.root, "w1").write(streamed())
    result = cli.invoke(app, ["-w", str(shop.root), "import", "--landed"])
    assert result.exit_code == 0, result.output
    assert "1 transactions, 1 interactions, 1 events" in result.output
    again = cli.invoke(app, ["-w", str(shop.root), "import", "--landed"])
    assert "nothing waiting" in again.output


def test_crew_import_landed_with_files_too_is_refused(
    shop: Workspace, cli: CliRunner, tmp_path: Path
) -> None:
    Landing(shop.root, "w1").write(streamed())
    result = cli.invoke(app, ["-w", str(shop.root), "import", "--landed", str(tmp_path)])
    assert result.exit_code != 0 and "not both" in result.output
    assert "Traceback" not in result.output
    assert counts(shop) == {"transactions": 0, "interactions": 0, "events": 0}
