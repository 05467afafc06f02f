"""The lifecycle diff: open, update, escalate, resolve, hold back in cooldown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from crew.alerts.lifecycle import plan_changes

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


def _id(risk: str, customer: str | None, segment: str | None, at: datetime) -> str:
    return f"{risk}-{customer or 'seg.' + str(segment)}-{at:%Y%m%d}"


def _now(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "segment": None,
            "risk_type": [r[1] for r in rows],
            "level": [r[2] for r in rows],
            "score": 1.0,
            "signals": [["s"] for _ in rows],
        }
    )


def _active(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"{r[1]}-{r[0]}-20250501" for r in rows],
            "customer_id": [r[0] for r in rows],
            "segment": None,
            "risk_type": [r[1] for r in rows],
            "level": [r[2] for r in rows],
            "state": [r[3] for r in rows],
        }
    )


EMPTY_COOLING = pd.DataFrame(columns=["id", "customer_id", "segment", "risk_type", "level",
                                      "cooldown_until"])  # fmt: skip


def test_new_updated_escalated_and_resolved() -> None:
    now = _now([("c1", "churn", "high"), ("c2", "fraud", "low"), ("c3", "churn", "low")])
    active = _active(
        [("c1", "churn", "low", "open"), ("c4", "churn", "low", "open"),
         ("c5", "churn", "medium", "acknowledged")]
    )  # fmt: skip
    changes = plan_changes(
        now, active, EMPTY_COOLING, as_of=AS_OF, run_id="r", make_id=_id,
        cooldown_days={"churn": 10},
    )  # fmt: skip
    assert sorted(changes.opened["id"]) == ["churn-c3-20250601", "fraud-c2-20250601"]
    assert list(changes.updated["id"]) == ["churn-c1-20250501"]
    assert changes.counts["escalated"] == 1
    # c4 is no longer raised and resolves; c5 is acknowledged: a person owns it.
    assert list(changes.closed["id"]) == ["churn-c4-20250501"]
    assert changes.closed["cooldown_until"].iloc[0] == AS_OF + timedelta(days=10)
    assert changes.opened["customer_id"].notna().all()
    assert changes.opened["segment"].isna().all()


def test_cooldown_holds_back_a_repeat_but_not_a_worse_warning() -> None:
    cooling = pd.DataFrame(
        {
            "id": ["churn-c1-20250501", "churn-c2-20250501"],
            "customer_id": ["c1", "c2"],
            "segment": None,
            "risk_type": ["churn", "churn"],
            "level": ["medium", "low"],
            "cooldown_until": [AS_OF + timedelta(days=3)] * 2,
        }
    )
    now = _now([("c1", "churn", "medium"), ("c2", "churn", "high")])
    changes = plan_changes(now, _active([]), cooling, as_of=AS_OF, run_id="r", make_id=_id)
    assert list(changes.opened["customer_id"]) == ["c2"]
    assert changes.counts["held_in_cooldown"] == 1
