"""Cases: planned from warnings by playbook and tier, worked, escalated, closed, audited."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from crew.errors import CaseNotFoundError, CrewError
from crew.response.cases import plan_cases, tiers_by_value
from crew.response.playbooks import Tier, Tiers, load_playbooks
from crew.store.operational import OperationalStore
from crew.types import CaseOutcome, CaseState

AT = datetime(2025, 3, 1, 9, tzinfo=UTC)


def _warnings(n: int, risk: str = "churn", level: str = "high") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"{risk}-C{i:04d}-20250301" for i in range(n)],
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "segment": ["retail"] * n,
            "risk_type": [risk] * n,
            "level": [level] * n,
            "reasons": [[{"en": "Purchases fell 72%.", "zh": "购买次数下降72%。"}]] * n,
        }
    )


@pytest.fixture
def store() -> Iterator[OperationalStore]:
    with OperationalStore.in_memory() as s:
        yield s


def test_tiers_come_from_the_customer_or_from_clv_rank() -> None:
    clv = pd.Series([900.0, 50.0, 40.0, 30.0, 1.0], index=list("abcde"))
    tiers = tiers_by_value(clv, pd.Series({"e": "KEY"}), Tiers(key_share=0.2, important_share=0.2))
    assert [tiers[c] for c in "abcde"] == [
        Tier.KEY, Tier.IMPORTANT, Tier.REGULAR, Tier.REGULAR, Tier.KEY,
    ]  # fmt: skip


def test_plan_fills_messages_deadlines_and_owner() -> None:
    book = load_playbooks()
    (case,) = plan_cases(_warnings(1), book, {"C0000": Tier.KEY}, at=AT, profile=None,
                         control_share=0.0)  # fmt: skip
    assert case.playbook == "key_customer_churn" and case.owner_team == "risk_response"
    assert [s.due_at - AT for s in case.steps] == [timedelta(hours=24), timedelta(hours=96)]
    assert case.steps[0].message_en == "Call C0000: Purchases fell 72%"
    assert case.steps[0].message_zh == "致电客户C0000：购买次数下降72%"


def test_the_control_group_gets_a_case_without_steps() -> None:
    planned = plan_cases(_warnings(2000), load_playbooks(), {}, at=AT, profile=None,
                         control_share=0.1)  # fmt: skip
    control = [c for c in planned if c.control]
    assert 150 < len(control) < 250
    assert all(not c.steps and c.owner_team is None for c in control)
    again = plan_cases(_warnings(2000), load_playbooks(), {}, at=AT, profile=None,
                       control_share=0.1)  # fmt: skip
    assert [c.control for c in again] == [c.control for c in planned]


def test_cases_open_once_and_are_worked_to_an_outcome(store: OperationalStore) -> None:
    planned = plan_cases(_warnings(3), load_playbooks(), {}, at=AT, profile=None,
                         control_share=0.0)  # fmt: skip
    rows = [dataclasses.asdict(p) for p in planned]
    assert store.cases.open(rows, actor="crew") == 3
    assert store.cases.open(rows, actor="crew") == 0  # one case per warning
    case_id = planned[0].id
    done = store.cases.complete_step(case_id, 1, actor="ann", at=AT + timedelta(hours=2))
    assert done.state == CaseState.AWAITING_OUTCOME  # churn_high has one step
    closed = store.cases.close(
        case_id, CaseOutcome.RETAINED, actor="ann", at=AT + timedelta(days=9)
    )
    assert closed.state == CaseState.CLOSED and closed.outcome == CaseOutcome.RETAINED
    changes = [(h["actor"], h["field"], h["new"]) for h in closed.history]
    assert changes == [
        ("crew", "state", "open"), ("ann", "step 1", "done"),
        ("ann", "state", "awaiting_outcome"), ("ann", "state", "closed"),
        ("ann", "outcome", "retained"),
    ]  # fmt: skip
    with pytest.raises(CrewError, match="is closed already"):
        store.cases.close(case_id, CaseOutcome.CHURNED, actor="bob", at=AT + timedelta(days=10))
    with pytest.raises(CaseNotFoundError, match="No case 'nope'"):
        store.cases.get("nope")


def test_an_overdue_step_escalates_once_to_the_next_owner(store: OperationalStore) -> None:
    planned = plan_cases(_warnings(1, risk="fraud"), load_playbooks(), {}, at=AT, profile=None,
                         control_share=0.0)  # fmt: skip
    store.cases.open([dataclasses.asdict(p) for p in planned], actor="crew")
    case_id = planned[0].id
    assert store.cases.escalate_overdue(AT + timedelta(hours=1)) == []  # fraud hold: 2 h
    assert store.cases.escalate_overdue(AT + timedelta(hours=3)) == [case_id]
    assert store.cases.escalate_overdue(AT + timedelta(hours=4)) == []  # not twice
    case = store.cases.get(case_id)
    assert case.state == CaseState.ESCALATED and case.owner_team == "risk_response"
    assert case.steps[0].escalated_at == AT + timedelta(hours=3)
    assert any(h["field"] == "owner_team" and h["old"] == "fraud_ops" for h in case.history)
    with pytest.raises(CrewError, match="has no step 5"):
        store.cases.complete_step(case_id, 5, actor="ann", at=AT)
