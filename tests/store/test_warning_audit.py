"""A warning's state change or assignment and its audit record commit together: a failing
audit append leaves the warning, its history and its notifications as they were, on SQLite
and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from crew.store import OperationalStore, RunRecord
from crew.types import WarningState

from .conftest import Breaker

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
WARNING = "churn-C1-20240501"


def _snapshot(store: OperationalStore) -> tuple[object, ...]:
    record = store.get_warning(WARNING)
    return (record.state, record.assignee, record.resolved_at, record.cooldown_until,
            len(store.history(WARNING)), len(store.outbox.of_warning(WARNING)))  # fmt: skip


def test_a_failing_audit_append_leaves_the_warning_unchanged(
    breakable: tuple[OperationalStore, Breaker],
) -> None:
    store, breaker = breakable
    opened = pd.DataFrame({"customer_id": ["C1"], "risk_type": "churn", "level": "high",
                           "score": 0.9, "first_seen": DAY1})  # fmt: skip
    store.apply_run(RunRecord("r1", DAY1, DAY1, DAY1, False, "x"), opened, pd.DataFrame(),
                    pd.DataFrame())  # fmt: skip
    at, until = DAY1 + timedelta(hours=1), DAY1 + timedelta(days=28)
    changes: list[Callable[[], object]] = [
        lambda: store.set_state(
            WARNING, WarningState.ACKNOWLEDGED, actor="ann", at=at, audit={"via": "dashboard"}
        ),
        lambda: store.assign(WARNING, "bob", actor="ann", at=at),
        lambda: store.set_state(
            WARNING,
            WarningState.FALSE_POSITIVE,
            actor="ann",
            at=at,
            note="test data",
            cooldown_until=until,
        ),
    ]
    before = _snapshot(store)
    assert before[0] == WarningState.OPEN
    breaker(True)
    for change in changes:
        with pytest.raises(sa.exc.DBAPIError, match="audit log unavailable"):
            change()
        assert _snapshot(store) == before, "the change was rolled back with its record"
    check = store.audit.verify()
    assert check.ok and check.records == 1  # the run's warning.open only

    breaker(False)
    for change in changes:
        change()
    after = store.get_warning(WARNING)
    assert after.state == WarningState.FALSE_POSITIVE and after.assignee == "bob"
    assert after.cooldown_until == until
    records = [r for r in store.audit.records(subject=WARNING) if r.actor != "system"]
    assert [(r.actor, r.action, r.at) for r in records] == [
        ("ann", "warning.state", at), ("ann", "warning.assign", at),
        ("ann", "warning.state", at),
    ]  # fmt: skip
    assert [r.details for r in records] == [
        {"field": "state", "from": "acknowledged", "to": "false_positive"},
        {"field": "assignee", "from": None, "to": "bob"},
        {"field": "state", "from": "open", "to": "acknowledged", "via": "dashboard"},
    ]
    # Giving it to whom it has already changes nothing and is not audited.
    store.assign(WARNING, "bob", actor="ann", at=at)
    assert len(store.audit.records(subject=WARNING)) == 4  # and the run's warning.open
    assert store.audit.verify().ok


def test_a_runs_warning_changes_are_audited_with_the_run_or_not_at_all(
    breakable: tuple[OperationalStore, Breaker],
) -> None:
    store, breaker = breakable
    opened = pd.DataFrame({"customer_id": ["C1", "C2"], "risk_type": "churn", "level": "low",
                           "score": 0.5, "first_seen": DAY1})  # fmt: skip
    breaker(True)
    with pytest.raises(sa.exc.DBAPIError, match="audit log unavailable"):
        store.apply_run(RunRecord("r0", DAY1, DAY1, DAY1, False, "x"), opened, pd.DataFrame(),
                        pd.DataFrame())  # fmt: skip
    assert store.active_warnings().empty and store.runs() == [], "no warning without its record"
    breaker(False)
    store.apply_run(RunRecord("r1", DAY1, DAY1, DAY1, False, "x"), opened, pd.DataFrame(),
                    pd.DataFrame())  # fmt: skip
    later = DAY1 + timedelta(days=7)
    raised = pd.DataFrame({"id": [WARNING], "level": ["high"], "score": [0.9],
                           "last_seen": [later], "signals": [["s"]], "evidence": [{}],
                           "reasons": [[]], "recommended_action": [None]})  # fmt: skip
    store.apply_run(RunRecord("r2", later, later, later, False, "x"), pd.DataFrame(), raised,
                    pd.DataFrame())  # fmt: skip
    records = store.audit.records()
    assert sorted((r.action, r.subject, r.actor) for r in records) == [
        ("warning.escalate", WARNING, "system"),
        ("warning.open", WARNING, "system"),
        ("warning.open", "churn-C2-20240501", "system"),
    ]
    escalation = next(r for r in records if r.action == "warning.escalate")
    assert escalation.details["run_id"] == "r2" and escalation.details["to"] == "high"
    assert store.audit.verify().ok
