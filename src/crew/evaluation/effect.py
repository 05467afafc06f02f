"""Did acting on warnings keep customers? Treated against a random control group (uplift).

Warnings are split by a deterministic hash of their id: a configured share (default 10%)
forms the control group that receives no action. The comparison is *intent to treat*: each
customer counts in the group their first churn-related warning was assigned to, whether or
not an action was recorded, which keeps the two groups comparable.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from crew.alerts.control import in_control_group
from crew.evaluation.uplift import uplift
from crew.types import RiskType

RETENTION_TYPES = frozenset(
    {RiskType.CHURN, RiskType.SATISFACTION_DECLINE, RiskType.COMPLAINT_SURGE,
     RiskType.TRUST_BREAKDOWN}
)  # fmt: skip
"""Warning types whose response aims at keeping the customer."""


def effect_of_actions(
    warnings: pd.DataFrame,
    outcomes: pd.DataFrame,
    panel: pd.DataFrame,
    *,
    horizon: timedelta,
    data_end: datetime,
    control_share: float,
    source: str,
    seed: int = 0,
) -> dict[str, object]:
    """Retention within `horizon` of treated vs control customers, uplift and saved CLV."""
    w = warnings[warnings["customer_id"].notna() & warnings["risk_type"].isin(RETENTION_TYPES)]
    w = w[w["first_seen"] + horizon <= data_end].sort_values("first_seen", kind="stable")
    first = w.drop_duplicates("customer_id")
    base: dict[str, object] = {
        "source": source,
        "control_share": control_share,
        "method": "intent to treat, percentile bootstrap",
        "note": _note(source),
    }
    if first.empty:
        return {**base, "treated_n": 0, "control_n": 0, "uplift": None}
    control = in_control_group(first["id"].astype(str).tolist(), control_share)
    churned = _churned_within(first, outcomes, horizon)
    retained = (~churned).astype(int)
    value = _value_at_warning(first, panel)
    result = uplift(retained[~control], retained[control], treated_value=value[~control],
                    seed=seed)  # fmt: skip
    return {**base, **result.as_dict()}


def _note(source: str) -> str:
    if source == "replay":
        return (
            "Replayed history: nobody acted on these warnings, so treated and control should "
            "retain alike; an effect appears once warnings are worked."
        )
    return "Warnings kept by the workspace's runs, as the response team worked them."


def _churned_within(first: pd.DataFrame, outcomes: pd.DataFrame, horizon: timedelta) -> np.ndarray:
    churn = outcomes[outcomes["kind"] == RiskType.CHURN.value][["customer_id", "ts"]]
    joined = first[["customer_id", "first_seen"]].reset_index(drop=True).reset_index()
    joined = joined.merge(churn, on="customer_id", how="left")
    inside = (joined["ts"] >= joined["first_seen"]) & (
        joined["ts"] < joined["first_seen"] + horizon
    )
    hit = set(joined.loc[inside, "index"])
    return np.array([i in hit for i in range(len(first))], dtype=bool)


def _value_at_warning(first: pd.DataFrame, panel: pd.DataFrame) -> np.ndarray:
    """Each customer's CLV at the latest assessment on or before the warning (0 if none)."""
    if "clv" not in panel.columns or panel.empty:
        return np.zeros(len(first))
    left = first[["customer_id", "first_seen"]].reset_index(drop=True)
    left["order"] = range(len(left))
    right = panel[["as_of", "customer_id", "clv"]].dropna().sort_values("as_of")
    left = left.sort_values("first_seen")
    right = right.assign(as_of=right["as_of"].astype(left["first_seen"].dtype))
    joined = pd.merge_asof(left, right, left_on="first_seen", right_on="as_of", by="customer_id")
    return joined.sort_values("order")["clv"].fillna(0.0).to_numpy(dtype=float)


__all__ = ["RETENTION_TYPES", "effect_of_actions"]
