"""The outbox: a notification per warning change, written in the change's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from crew.errors import DuplicateWarningError
from crew.store import _outbox_tables
from crew.store.operational import OperationalStore, RunRecord
from crew.store.outbox import DeliveryState, Routing
from crew.types import (
    Level,
    NotificationEvent,
    NotificationStatus,
    SuppressionReason,
    WarningState,
)

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
DAY8 = DAY1 + timedelta(days=7)
NONE = pd.DataFrame()


def run(run_id: str, at: datetime = DAY1) -> RunRecord:
    return RunRecord(run_id, at, at, at, False, "x")


def opened(*customers: str, level: str = "medium") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": list(customers),
            "risk_type": "churn",
            "level": level,
            "score": 0.6,
            "first_seen": DAY1,
            "reasons": [[{"en": f"{c} stopped buying"}] for c in customers],
        }
    )


def updated(warning: str, level: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [warning],
            "level": [level],
            "score": [0.9],
            "last_seen": [DAY8],
            "signals": [[]],
            "evidence": [{}],
            "reasons": [[{"en": "worse"}]],
        }
    )


@pytest.fixture
def store() -> OperationalStore:
    store = OperationalStore.in_memory()
    store.apply_run(run("r1"), opened("C1", "C2"), NONE, NONE)
    return store


def test_each_opened_warning_gets_a_pending_notification_with_its_snapshot(
    store: OperationalStore,
) -> None:
    rows = store.outbox.pending()
    assert [(n.warning_id, n.event, n.status) for n in rows] == [
        ("churn-C1-20240501", NotificationEvent.OPENED, NotificationStatus.PENDING),
        ("churn-C2-20240501", NotificationEvent.OPENED, NotificationStatus.PENDING),
    ]
    first = rows[0]
    assert (first.level, first.state, first.at, first.customer_id) == (
        Level.MEDIUM,
        WarningState.OPEN,
        DAY1,
        "C1",
    )
    assert first.payload()["reasons"] == [{"en": "C1 stopped buying"}]  # type: ignore[index]


def test_escalation_and_resolution_notify_but_a_same_level_update_does_not(
    store: OperationalStore,
) -> None:
    closed = pd.DataFrame(
        {"id": ["churn-C2-20240501"], "resolved_at": [DAY8], "cooldown_until": [DAY8]}
    )
    store.apply_run(run("r2", DAY8), NONE, updated("churn-C1-20240501", "high"), closed)
    store.apply_run(run("r3", DAY8), NONE, updated("churn-C1-20240501", "high"), NONE)
    events = [(n.warning_id, n.event, n.previous_level, n.level) for n in store.outbox.after(2)]
    assert events == [
        ("churn-C1-20240501", NotificationEvent.ESCALATED, Level.MEDIUM, Level.HIGH),
        ("churn-C2-20240501", NotificationEvent.RESOLVED, None, Level.MEDIUM),
    ]


def test_a_user_closing_a_warning_notifies_in_the_same_transaction(
    store: OperationalStore,
) -> None:
    store.set_state("churn-C1-20240501", WarningState.ACKNOWLEDGED, actor="ana", at=DAY8)
    store.set_state("churn-C1-20240501", WarningState.FALSE_POSITIVE, actor="ana", at=DAY8)
    last = store.outbox.of_warning("churn-C1-20240501")[-1]
    assert (last.event, last.state, last.at) == (
        NotificationEvent.RESOLVED,
        WarningState.FALSE_POSITIVE,
        DAY8,
    )
    assert len(store.outbox.of_warning("churn-C1-20240501")) == 2  # acknowledging is not told


def test_a_held_warning_is_recorded_once_per_level_with_its_cooldown(
    store: OperationalStore,
) -> None:
    until = DAY8 + timedelta(days=28)
    closed = pd.DataFrame(
        {"id": ["churn-C2-20240501"], "resolved_at": [DAY8], "cooldown_until": [until]}
    )
    store.apply_run(run("r2", DAY8), NONE, NONE, closed)
    held = pd.DataFrame({"id": ["churn-C2-20240501"], "level": ["low"], "cooldown_until": [until]})
    for i in range(3):
        store.apply_run(run(f"r{3 + i}", DAY8), NONE, NONE, NONE, held=held)
    rows = [n for n in store.outbox.of_warning("churn-C2-20240501") if n.event == "held"]
    assert len(rows) == 1
    assert (rows[0].status, rows[0].reason, rows[0].level) == (
        NotificationStatus.SUPPRESSED,
        SuppressionReason.COOLDOWN,
        Level.LOW,
    )
    assert rows[0].reason_detail == "cooling down until 2024-06-05 00:00 UTC"
    assert all(n.event != "held" for n in store.outbox.after(0))  # no warning change


def test_a_failing_notification_write_leaves_neither_warning_nor_notification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = OperationalStore.in_memory()

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(_outbox_tables, "write_notifications", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        store.apply_run(run("r1"), opened("C1"), NONE, NONE)
    assert store.warnings_frame().empty
    assert store.runs() == []
    assert store.outbox.pending() == []


def test_a_failing_warning_write_leaves_no_notification(store: OperationalStore) -> None:
    with pytest.raises(DuplicateWarningError):
        store.apply_run(run("r1"), opened("C3"), NONE, NONE)  # the run id is taken
    assert [n.warning_id for n in store.outbox.pending()] == [
        "churn-C1-20240501",
        "churn-C2-20240501",
    ]


def test_a_refused_state_change_writes_no_notification(store: OperationalStore) -> None:
    store.set_state("churn-C1-20240501", WarningState.RESOLVED, actor="ana", at=DAY8)
    with pytest.raises(Exception, match="cannot become"):
        store.set_state("churn-C1-20240501", WarningState.FALSE_POSITIVE, actor="ana", at=DAY8)
    assert len(store.outbox.of_warning("churn-C1-20240501")) == 2


def test_settling_routes_once_and_deliveries_are_claimed_by_one_dispatcher(
    store: OperationalStore,
) -> None:
    c1, c2 = store.outbox.pending()
    decisions = [
        Routing(c1.id, webhooks=("crm", "ops")),
        Routing(c2.id, reason=SuppressionReason.SILENCED, detail="silence 1"),
    ]
    assert store.outbox.settle(decisions, DAY8) == 2
    assert store.outbox.settle(decisions, DAY8) == 0  # already settled: no second delivery
    assert store.outbox.pending() == []
    assert store.outbox.notified_levels(["churn-C1-20240501", "churn-C2-20240501"]) == {
        "churn-C1-20240501": Level.MEDIUM
    }
    claimed = store.outbox.claim_due(DAY8)
    assert sorted(d.id for d, _ in claimed) == [f"{c1.id}-crm", f"{c1.id}-ops"]
    assert store.outbox.claim_due(DAY8 + timedelta(minutes=1)) == []  # leased
    delivery = store.outbox.record_attempt(
        f"{c1.id}-crm", at=DAY8, ok=False, status=500, error="HTTP 500", retry_at=DAY8
    )
    assert (delivery.state, delivery.attempts, delivery.last_error) == (
        DeliveryState.PENDING,
        1,
        "HTTP 500",
    )
    store.outbox.record_attempt(f"{c1.id}-ops", at=DAY8, ok=True, status=204)
    assert store.outbox.counts() == {
        "notifications": {"routed": 1, "suppressed": 1},
        "suppressed": {"silenced": 1},
        "webhook:crm": {"pending": 1},
        "webhook:ops": {"sent": 1},
    }


def test_the_outbox_table_matches_the_migration(store: OperationalStore) -> None:
    engine = store._engine
    columns = {c["name"] for c in sa.inspect(engine).get_columns("outbox")}
    assert columns == {c.name for c in _outbox_tables.outbox_table.columns}
    for table in ("deliveries", "silences"):
        found = {c["name"] for c in sa.inspect(engine).get_columns(table)}
        assert found == set(_outbox_tables.metadata.tables[table].columns.keys())
