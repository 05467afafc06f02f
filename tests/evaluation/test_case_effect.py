"""The effect of actions from a real operational store: worked cases and their recorded
outcomes against the control group, figures computed by hand."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from crew.evaluation.effect import effect_of_actions
from crew.response.cases import plan_cases
from crew.response.playbooks import load_playbooks
from crew.store import OperationalStore, RunRecord
from crew.types import CaseOutcome

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
HORIZON = timedelta(days=90)  # judged up to 2024-07-30
CUSTOMERS = [f"C{i}" for i in range(1, 9)]
CONTROL = ["C1", "C3", "C4", "C7"]  # the hash of alerts/control.py at a share of 0.5


@pytest.fixture
def store() -> Iterator[OperationalStore]:
    """Eight high churn warnings of 2024-05-01 with their cases, half in the control group."""
    with OperationalStore.in_memory() as store:
        opened = pd.DataFrame({
            "customer_id": CUSTOMERS, "risk_type": "churn", "level": "high", "score": 0.9,
            "first_seen": DAY1,
        })  # fmt: skip
        store.apply_run(RunRecord("r1", DAY1, DAY1, DAY1, False, "x"), opened,
                        pd.DataFrame(), pd.DataFrame())  # fmt: skip
        planned = plan_cases(store.active_warnings(), load_playbooks(), {}, at=DAY1,
                             profile=None, control_share=0.5)  # fmt: skip
        store.cases.open([dataclasses.asdict(p) for p in planned], actor="crew")
        yield store


def _case(customer: str) -> str:
    return f"case-churn-{customer}-20240501"


def _effect(store: OperationalStore, *, with_cases: bool) -> dict[str, object]:
    churn = {"C1": "2024-07-01", "C2": "2024-06-15", "C3": "2024-09-10", "C7": "2024-05-20",
             "C8": "2024-06-01"}  # C3 churned after the horizon  # fmt: skip
    outcomes = pd.DataFrame({"customer_id": list(churn), "kind": "churn",
                             "ts": pd.to_datetime(list(churn.values()), utc=True)})  # fmt: skip
    panel = pd.DataFrame(
        {
            "as_of": pd.Timestamp("2024-04-30", tz="UTC"),
            "customer_id": CUSTOMERS,
            "clv": [100.0 * (i + 1) for i in range(8)],
        }
    )
    return effect_of_actions(
        store.warnings_frame(), outcomes, panel, horizon=HORIZON,
        data_end=datetime(2024, 12, 31, tzinfo=UTC), control_share=0.5, source="workspace",
        cases=store.cases.outcome_table() if with_cases else None,
    )  # fmt: skip


def test_recorded_outcomes_of_worked_cases_make_the_effect(store: OperationalStore) -> None:
    cases = store.cases.outcome_table()
    assert sorted(cases.loc[cases["control"], "warning_id"]) == sorted(
        f"churn-{c}-20240501" for c in CONTROL
    )
    # Without cases: every non-control warning is treated (C2, C5, C6, C8) and the outcomes
    # table decides: C2 and C8 churned, so 2/4 retained, as in the control group (C1 and C7
    # churned within the horizon, C3 after it): no effect.
    before = _effect(store, with_cases=False)
    assert (before["treated_n"], before["control_n"]) == (4, 4)
    assert before["treated_rate"] == 0.5 and before["control_rate"] == 0.5
    assert before["uplift"] == 0.0 and "not_worked_n" not in before

    at = DAY1 + timedelta(days=3)
    for customer in ("C2", "C5", "C6"):  # C8's case is never worked
        store.cases.complete_step(_case(customer), 1, actor="ann", at=at)
    store.cases.close(_case("C2"), CaseOutcome.RETAINED, actor="ann", at=at)  # table: churned
    store.cases.close(_case("C5"), CaseOutcome.CHURNED, actor="ann", at=at)  # table: nothing
    after = _effect(store, with_cases=True)
    # Treated: C2 kept (its case says so), C5 lost, C6 kept (no churn in the table): 2/3.
    # Control, from the outcomes table: C1 and C7 lost, C3 and C4 kept: 2/4.
    assert (after["treated_n"], after["control_n"], after["not_worked_n"]) == (3, 4, 1)
    assert after["treated_rate"] == pytest.approx(2 / 3)
    assert after["control_rate"] == 0.5
    assert after["uplift"] == pytest.approx(1 / 6)
    # CLV at the warning of C2, C5 and C6: 200 + 500 + 600 = 1,300; saved = 1/6 of it.
    assert after["saved_value"] == pytest.approx(1300 / 6)
    assert after["recorded_outcomes_n"] == 2
    assert str(after["method"]).startswith("as treated")


def test_a_recorded_outcome_in_the_control_group_counts_too(store: OperationalStore) -> None:
    at = DAY1 + timedelta(days=3)
    store.cases.complete_step(_case("C2"), 1, actor="ann", at=at)
    # C4 kept by the outcomes table, but its (control) case was closed as churned.
    store.cases.close(_case("C4"), CaseOutcome.CHURNED, actor="ann", at=at)
    effect = _effect(store, with_cases=True)
    assert (effect["treated_n"], effect["control_n"]) == (1, 4)
    assert effect["treated_rate"] == 0.0  # C2 churned by the table, no outcome recorded
    assert effect["control_rate"] == 0.25  # only C3 kept


def test_fraud_confirmed_leaves_retention_to_the_outcomes_table(store: OperationalStore) -> None:
    at = DAY1 + timedelta(days=3)
    for customer in ("C2", "C5"):
        store.cases.complete_step(_case(customer), 1, actor="ann", at=at)
        store.cases.close(_case(customer), CaseOutcome.FRAUD_CONFIRMED, actor="ann", at=at)
    effect = _effect(store, with_cases=True)
    assert effect["treated_rate"] == 0.5  # C2 churned, C5 did not, by the table
    assert effect["recorded_outcomes_n"] == 0


def test_cases_of_other_warnings_leave_the_intent_to_treat_path(store: OperationalStore) -> None:
    others = pd.DataFrame({"warning_id": ["churn-X-20240101"], "control": [False],
                           "steps_done": [1], "outcome": ["retained"]})  # fmt: skip
    plain = _effect(store, with_cases=False)
    result = effect_of_actions(
        store.warnings_frame(), pd.DataFrame(columns=["customer_id", "kind", "ts"]),
        pd.DataFrame(), horizon=HORIZON, data_end=datetime(2024, 12, 31, tzinfo=UTC),
        control_share=0.5, source="workspace", cases=others,
    )  # fmt: skip
    assert result["method"] == plain["method"] == "intent to treat, percentile bootstrap"
    assert result["treated_rate"] == 1.0 and result["treated_n"] == 4
