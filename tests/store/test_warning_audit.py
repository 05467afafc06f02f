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
    assert check.ok and check.records == 0

    breaker(False)
    for change in changes:
        change()
    after = store.get_warning(WARNING)
    assert after.state == WarningState.FALSE_POSITIVE and after.assignee == "bob"
    assert after.cooldown_until == until
    records = store.audit.records(subject=WARNING)
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
    assert len(store.audit.records(subject=WARNING)) == 3
    assert store.audit.verify().ok
