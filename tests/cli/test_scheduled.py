"""The built-in scheduler of crew serve: landed events imported, then one batch run."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crew.cli.scheduled import ScheduledRuns
from crew.config import ScheduleSettings
from crew.ingest.events import EVENT
from crew.ingest.landing import Landing, landed_files
from crew.store import Workspace, open_operational_store, open_workspace

AT = datetime(2024, 12, 2, tzinfo=UTC)


@pytest.fixture
def shop(sim_workspace: Workspace, tmp_path: Path) -> Workspace:
    shutil.copytree(sim_workspace.root, tmp_path / "ws")
    return open_workspace(tmp_path / "ws")


def test_a_scheduled_run_imports_landed_events_then_runs(shop: Workspace) -> None:
    with shop.connect() as conn:
        customer = conn.execute("SELECT min(customer_id) FROM customers").fetchone()[0]  # type: ignore[index]
        before = conn.execute("SELECT count(*) FROM transactions").fetchone()[0]  # type: ignore[index]
    event = EVENT.validate_python({
        "table": "transactions", "txn_id": "T-live-1", "customer_id": customer,
        "ts": "2024-12-01T10:00:00Z", "amount": 40.0, "type": "purchase",
    })  # fmt: skip
    Landing(shop.root, "w1").write([event])
    runs = ScheduledRuns(shop, 3600, clock=lambda: AT)
    result = runs.run_once()
    assert result.as_of == AT and result.customers > 300
    assert landed_files(shop.root) == {}
    with shop.connect() as conn:
        assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == before + 1  # type: ignore[index]
    with open_operational_store(shop, shop.settings.store.operational_url) as store:
        assert result.run_id in {r.run_id for r in store.runs()}


def test_the_loop_runs_until_stopped_and_survives_a_failed_run(shop: Workspace) -> None:
    calls: list[datetime] = []

    def clock() -> datetime:
        calls.append(AT)
        if len(calls) == 1:
            raise RuntimeError("first run fails")
        return AT

    runs = ScheduledRuns(shop, 0.05, clock=clock)
    stop = threading.Event()
    thread = threading.Thread(target=runs.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 120
    while runs.runs < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(120)
    assert runs.failures >= 1 and runs.runs >= 1 and not thread.is_alive()


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800.0), ("6h", 21600.0), ("1d", 86400.0)])
def test_run_every_reads_minutes_hours_days(text: str, seconds: float) -> None:
    assert ScheduleSettings(run_every=text).every_s == seconds
    assert ScheduleSettings().every_s is None
