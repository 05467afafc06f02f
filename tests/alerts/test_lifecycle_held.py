"""Warnings held back in cooldown are handed on, naming the closed warning that holds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from crew.alerts.lifecycle import plan_changes

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
NO_ACTIVE = pd.DataFrame(columns=["id", "customer_id", "segment", "risk_type", "level", "state"])


def _id(risk: str, customer: str | None, segment: str | None, at: datetime) -> str:
    return f"{risk}-{customer or 'seg.' + str(segment)}-{at:%Y%m%d}"


def test_held_rows_name_the_closed_warning_cooling_down_longest() -> None:
    now = pd.DataFrame(
        {
            "customer_id": ["c1", "c2"],
            "segment": None,
            "risk_type": "churn",
            "level": ["low", "high"],
            "score": 1.0,
        }
    )
    cooling = pd.DataFrame(
        {
            "id": ["churn-c1-20250401", "churn-c1-20250501", "churn-c2-20250501"],
            "customer_id": ["c1", "c1", "c2"],
            "segment": None,
            "risk_type": "churn",
            "level": ["medium", "low", "low"],
            "cooldown_until": [AS_OF + timedelta(days=d) for d in (3, 20, 20)],
        }
    )
    changes = plan_changes(now, NO_ACTIVE, cooling, as_of=AS_OF, run_id="r", make_id=_id)
    assert list(changes.opened["customer_id"]) == ["c2"]  # higher than its cooling level
    assert changes.held.to_dict("records") == [
        {"id": "churn-c1-20250501", "level": "low", "cooldown_until": AS_OF + timedelta(days=20)}
    ]
    assert changes.counts["held_in_cooldown"] == 1


def test_nothing_held_gives_an_empty_frame_with_the_columns() -> None:
    now = pd.DataFrame(
        {"customer_id": ["c1"], "segment": None, "risk_type": "churn", "level": "low", "score": 1}
    )
    cooling = pd.DataFrame(columns=["id", "customer_id", "segment", "risk_type", "level",
                                    "cooldown_until"])  # fmt: skip
    changes = plan_changes(now, NO_ACTIVE, cooling, as_of=AS_OF, run_id="r", make_id=_id)
    assert changes.held.empty
    assert list(changes.held.columns) == ["id", "level", "cooldown_until"]
