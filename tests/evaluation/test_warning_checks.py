"""Warnings against outcomes and against ground-truth episodes, on hand-made cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from crew.evaluation.episodes import check_episodes
from crew.evaluation.outcomes import check_outcomes

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _day(n: int) -> datetime:
    return T0 + timedelta(days=n)


WARNINGS = pd.DataFrame(
    {
        "id": ["w1", "w2", "w3", "w4", "w5"],
        "customer_id": ["A", "B", "C", "D", None],
        "segment": [None, None, None, None, "retail"],
        "risk_type": ["churn", "fraud", "churn", "churn", "external_shock"],
        "first_seen": [_day(10), _day(20), _day(30), _day(40), _day(63)],
    }
)


def test_outcomes_foreseen_missed_and_lead() -> None:
    outcomes = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "E"],
            "kind": ["churn", "churn", "churn", "fraud_confirmed"],
            "ts": [_day(50), _day(25), _day(200), _day(60)],
        }
    )
    figures = {f.kind: f for f in check_outcomes(WARNINGS, outcomes, start=T0, end=_day(365))}
    churn = figures["churn"]
    # A: warned 40 days ahead. B: only a fraud warning, no churn one. C: 170 days ahead is
    # beyond the 90-day look-back.
    assert (churn.outcomes, churn.warned, churn.missed) == (3, 1, 2)
    assert churn.median_lead_days == pytest.approx(40.0)
    assert figures["fraud_confirmed"].warned == 0


def test_episodes_recall_lead_false_alarms_and_shock() -> None:
    episodes = pd.DataFrame(
        {
            "customer_id": ["A", "C", "X", None],
            "segment": ["retail", "retail", "retail", "retail"],
            "risk_type": ["churn", "churn", "churn", "external_shock"],
            "onset_ts": [_day(5), _day(100), _day(10), _day(60)],
            "outcome": ["churn", "no_outcome", "churn", "no_outcome"],
            "outcome_ts": [_day(50), pd.NaT, _day(90), pd.NaT],
        }
    )
    outcomes = pd.DataFrame({"customer_id": ["D"], "kind": ["churn"], "ts": [_day(80)]})
    check = check_episodes(WARNINGS, episodes, outcomes, start=T0, end=_day(365), customers=1000)
    churn = next(f for f in check.by_type if f.risk_type == "churn")
    # A caught 40 days before churning; C's warning came 70 days before its onset; X missed.
    assert (churn.episodes, churn.caught) == (3, 1)
    assert churn.median_lead_days == pytest.approx(40.0)
    # w2 (B, no episode, no outcome) and w3 (C, long before its episode) are false alarms;
    # w4 is explained by D's churn 40 days later.
    assert check.false_alarms == 2
    assert check.shock_found_after_days == pytest.approx(3.0)
