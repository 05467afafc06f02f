"""The outbox, deliveries and silences on a real PostgreSQL server (loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from tests.factories import postgres_schema

from crew.store import _outbox_tables
from crew.store.operational import OperationalStore, RunRecord
from crew.store.outbox import Routing
from crew.types import Level, RiskType, SuppressionReason, WarningState

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
DAY8 = DAY1 + timedelta(days=7)
NONE = pd.DataFrame()
pytestmark = pytest.mark.postgres


@pytest.fixture
def store() -> Iterator[OperationalStore]:
    """A store in a fresh schema of the test database; dropped afterwards."""
    with postgres_schema() as (_, url), OperationalStore.open(url) as store:
        yield store


def run(run_id: str, at: datetime) -> RunRecord:
    return RunRecord(run_id, at, at, at, False, "x")


def opened(*customers: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": list(customers), "risk_type": "churn", "level": "medium", "score": 0.5,
         "first_seen": DAY1, "reasons": [[{"en": "最近无购买"}] for _ in customers]}
    )  # fmt: skip


def test_every_change_writes_its_notification_on_postgres(store: OperationalStore) -> None:
    store.apply_run(run("r1", DAY1), opened("C1", "C2", "C3"), NONE, NONE)
    escalate = pd.DataFrame(
        {"id": ["churn-C1-20240501"], "level": ["high"], "score": [0.9], "last_seen": [DAY8],
         "signals": [[]], "evidence": [{}], "reasons": [[]]}
    )  # fmt: skip
    until = DAY8 + timedelta(days=28)
    close = pd.DataFrame(
        {"id": ["churn-C2-20240501"], "resolved_at": [DAY8], "cooldown_until": [until]}
    )
    store.apply_run(run("r2", DAY8), NONE, escalate, close)
    held = pd.DataFrame({"id": ["churn-C2-20240501"], "level": ["low"], "cooldown_until": [until]})
    store.apply_run(run("r3", DAY8), NONE, NONE, NONE, held=held)
    store.apply_run(run("r4", DAY8), NONE, NONE, NONE, held=held)
    store.set_state("churn-C3-20240501", WarningState.RESOLVED, actor="ana", at=DAY8)
    rows = store.outbox.listing(limit=20)[::-1]
    assert [(n.warning_id[6:8], n.event.value, n.level.value, n.at) for n in rows] == [
        ("C1", "opened", "medium", DAY1),
        ("C2", "opened", "medium", DAY1),
        ("C3", "opened", "medium", DAY1),
        ("C1", "escalated", "high", DAY8),
        ("C2", "resolved", "medium", DAY8),
        ("C2", "held", "low", DAY8),
        ("C3", "resolved", "medium", DAY8),
    ]
    assert rows[0].reasons == [{"en": "最近无购买"}]
    assert rows[3].previous_level == Level.MEDIUM
    assert (rows[5].reason, rows[5].state) == (SuppressionReason.COOLDOWN, WarningState.RESOLVED)
    assert [n.id for n in store.outbox.after(rows[4].id)] == [rows[6].id]  # held: no change


def test_a_failing_notification_write_rolls_the_run_back_on_postgres(
    store: OperationalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(_outbox_tables, "write_notifications", broken)
    with pytest.raises(RuntimeError):
        store.apply_run(run("r1", DAY1), opened("C1"), NONE, NONE)
    assert store.warnings_frame().empty and store.runs() == []
    assert store.outbox.last_id() == 0


def test_two_dispatchers_never_claim_the_same_delivery(store: OperationalStore) -> None:
    customers = [f"C{i}" for i in range(40)]
    store.apply_run(run("r1", DAY1), opened(*customers), NONE, NONE)
    routes = [Routing(n.id, webhooks=("crm",)) for n in store.outbox.pending()]
    assert store.outbox.settle(routes, DAY1) == 40
    with ThreadPoolExecutor(2) as pool:
        batches = list(pool.map(lambda _: store.outbox.claim_due(DAY1, limit=40), range(2)))
    ids = [d.id for batch in batches for d, _ in batch]
    assert len(ids) == len(set(ids)) == 40


def test_silences_on_postgres(store: OperationalStore) -> None:
    kept = store.silences.add(
        risk_type=RiskType.FRAUD, segment="north", until=DAY8, reason="audit", actor="ana", at=DAY1
    )
    assert [s.matcher for s in store.silences.active(DAY1)] == ["type=fraud segment=north"]
    store.silences.end(kept.id, DAY1 + timedelta(days=1))
    assert store.silences.active(DAY1 + timedelta(days=2)) == []
