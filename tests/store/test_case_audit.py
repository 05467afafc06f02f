"""A case change and its audit record commit together, whoever makes it: a person (a step
done, a case given to a team or closed) or the system (a case opened by a run, a step
escalated when overdue). A failing audit append leaves the cases as they were, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from crew.response.cases import plan_cases, respond
from crew.response.playbooks import load_playbooks
from crew.store import OperationalStore, RunRecord
from crew.store.cases import SYSTEM
from crew.types import CaseOutcome, CaseState

from .conftest import Breaker

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
CASE = "case-churn-C1-20240501"
FRAUD = "case-fraud-C2-20240501"


def _warn(store: OperationalStore, *risks: tuple[str, str]) -> None:
    """Store one high warning per (customer, risk type), first seen on DAY1."""
    opened = pd.DataFrame({"customer_id": [c for c, _ in risks], "risk_type": [r for _, r in risks],
                           "level": "high", "score": 0.9, "first_seen": DAY1})  # fmt: skip
    store.apply_run(RunRecord("r1", DAY1, DAY1, DAY1, False, "x"), opened, pd.DataFrame(),
                    pd.DataFrame())  # fmt: skip


def _respond(store: OperationalStore, at: datetime) -> dict[str, int]:
    """What `crew run` does after storing its warnings: open their cases, escalate overdue."""
    features = pd.DataFrame(index=pd.Index(["C1", "C2"], name="customer_id"))
    return respond(store, store.active_warnings(), load_playbooks(), features=features,
                   value=None, at=at, profile=None, control_share=0.0)  # fmt: skip


@pytest.fixture
def store(
    breakable: tuple[OperationalStore, Breaker],
) -> Iterator[tuple[OperationalStore, Breaker]]:
    """A store holding one churn case with two steps, and a switch that breaks its audit log."""
    store, breaker = breakable
    _warn(store, ("C1", "churn"))
    planned = plan_cases(store.active_warnings(), load_playbooks(), {}, at=DAY1, profile=None,
                         control_share=0.0)  # fmt: skip
    store.cases.open([dataclasses.asdict(p) for p in planned], actor="crew")
    yield store, breaker


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
    assert [r.action for r in audit] == ["case.close", "case.step", "case.assign", "case.open"]
    assert audit[1].details == {"step": 1, "via": "test"}
    assert audit[2].details == {"owner_team": "compliance", "from": "retention"}
    assert audit[0].details == {"outcome": "retained"}
    assert book.audit.verify().ok


def test_cases_opened_and_escalated_by_a_run_are_audited_as_the_system(
    breakable: tuple[OperationalStore, Breaker],
) -> None:
    store, _ = breakable
    _warn(store, ("C1", "churn"), ("C2", "fraud"))
    assert _respond(store, DAY1)["cases_opened"] == 2
    opened = store.audit.records(action="case.open")
    assert {(r.actor, r.subject, r.at) for r in opened} == {(SYSTEM, CASE, DAY1),
                                                           (SYSTEM, FRAUD, DAY1)}  # fmt: skip
    fraud = next(r for r in opened if r.subject == FRAUD)
    assert fraud.details == {"warning_id": "fraud-C2-20240501", "playbook": "fraud",
                             "owner_team": "fraud_ops", "control": False}  # fmt: skip
    assert [h["actor"] for h in store.cases.get(FRAUD).history] == [SYSTEM]

    # The clock is the run's as_of: the fraud hold (2 h) is overdue at 3 h, not at 1 h.
    assert _respond(store, DAY1 + timedelta(hours=1))["cases_escalated"] == 0
    assert store.audit.records(action="case.escalate") == []
    assert _respond(store, DAY1 + timedelta(hours=3))["cases_escalated"] == 1
    (escalation,) = store.audit.records(action="case.escalate")
    assert (escalation.actor, escalation.subject) == (SYSTEM, FRAUD)
    assert escalation.at == DAY1 + timedelta(hours=3)
    assert escalation.details == {"step": 1, "due_at": (DAY1 + timedelta(hours=2)).isoformat(),
                                  "from": "fraud_ops", "owner_team": "risk_response"}  # fmt: skip
    assert _respond(store, DAY1 + timedelta(hours=4))["cases_escalated"] == 0  # not twice
    assert len(store.audit.records(action="case.escalate")) == 1
    assert store.audit.verify().ok


def test_a_failing_audit_append_opens_no_case_and_escalates_no_step(
    breakable: tuple[OperationalStore, Breaker],
) -> None:
    store, breaker = breakable
    _warn(store, ("C2", "fraud"))
    breaker(True)
    with pytest.raises(sa.exc.DBAPIError, match="audit log unavailable"):
        _respond(store, DAY1)
    assert store.cases.find(states=list(CaseState)) == [], "no case without its record"
    breaker(False)
    assert _respond(store, DAY1)["cases_opened"] == 1

    breaker(True)
    with pytest.raises(sa.exc.DBAPIError, match="audit log unavailable"):
        _respond(store, DAY1 + timedelta(hours=3))
    case = store.cases.get(FRAUD)
    assert case.state == CaseState.OPEN and case.owner_team == "fraud_ops"
    assert case.steps[0].escalated_at is None and len(case.history) == 1
    breaker(False)
    assert _respond(store, DAY1 + timedelta(hours=3))["cases_escalated"] == 1
    actions = [r.action for r in store.audit.records()]
    assert [a for a in actions if a.startswith("case.")] == ["case.escalate", "case.open"]
    assert store.audit.verify().ok
