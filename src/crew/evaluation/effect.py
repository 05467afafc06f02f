"""Did acting on warnings keep customers? Treated against a random control group (uplift).

Warnings are split by a deterministic hash of their id: a configured share (default 10%)
forms the control group that receives no action. Each customer counts once, by their first
churn-related warning whose horizon is complete.

Without cases (history replayed, or a workspace that opens none) the comparison is *intent
to treat*: every warning outside the control group counts as treated, and retention is "no
churn outcome within the horizon" from the outcomes table. When the response team works
cases, the treated are the warnings whose case had at least one step done, and a case closed
with an outcome says what happened: churned is lost; retained, resolved and false alarm are
kept; fraud confirmed says nothing about retention, so the outcomes table decides, as it does
for every warning without a recorded outcome (the control group's, usually).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from crew.alerts.control import in_control_group
from crew.evaluation.uplift import uplift
from crew.types import CaseOutcome, RiskType

RETENTION_TYPES = frozenset(
    {RiskType.CHURN, RiskType.SATISFACTION_DECLINE, RiskType.COMPLAINT_SURGE,
     RiskType.TRUST_BREAKDOWN}
)  # fmt: skip
"""Warning types whose response aims at keeping the customer."""
KEPT = frozenset({CaseOutcome.RETAINED, CaseOutcome.RESOLVED, CaseOutcome.FALSE_ALARM})
"""Case outcomes that mean the customer stayed; CHURNED means they left."""


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
    cases: pd.DataFrame | None = None,
) -> dict[str, object]:
    """Retention within `horizon` of treated vs control customers, uplift and saved CLV.

    `cases` (warning_id, control, steps_done, outcome: `CaseBook.outcome_table()`) switches
    to the worked cases and their recorded outcomes when any of them belongs to a warning.
    """
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
    worked = _case_columns(first, cases)
    if worked is None:
        result = uplift(retained[~control], retained[control], treated_value=value[~control],
                        seed=seed)  # fmt: skip
        return {**base, **result.as_dict()}
    control = worked["control"].to_numpy(dtype=bool)
    recorded = worked["recorded"].to_numpy(dtype=float)
    retained = np.where(np.isnan(recorded), retained, recorded).astype(int)
    treated = ~control & (worked["steps_done"].to_numpy() > 0)
    result = uplift(retained[treated], retained[control], treated_value=value[treated],
                    seed=seed)  # fmt: skip
    return {
        **base,
        "method": "as treated: worked cases against the control group, recorded case outcomes "
        "where closed, percentile bootstrap",
        **result.as_dict(),
        "not_worked_n": int((~control & ~treated).sum()),
        "recorded_outcomes_n": int((~np.isnan(recorded) & (treated | control)).sum()),
    }


def _note(source: str) -> str:
    if source == "replay":
        return (
            "Replayed history: nobody acted on these warnings, so treated and control should "
            "retain alike; an effect appears once warnings are worked."
        )
    return "Warnings kept by the workspace's runs, as the response team worked them."


def _case_columns(first: pd.DataFrame, cases: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per warning of `first`: control group, steps done, recorded retention (1, 0 or NaN).

    None when no warning of `first` has a case: the intent-to-treat path applies then.
    """
    if cases is None or cases.empty or not first["id"].isin(cases["warning_id"]).any():
        return None
    mine = cases.drop_duplicates("warning_id").set_index("warning_id")
    joined = first[["id"]].join(mine, on="id")
    # A warning without a case (no playbook took it) counts as neither worked nor control;
    # a case's control flag is the hash of alerts/control.py, taken when it was opened.
    control = joined["control"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    outcome = joined["outcome"]
    recorded = np.where(
        outcome.isin([o.value for o in KEPT]), 1.0,
        np.where(outcome == CaseOutcome.CHURNED.value, 0.0, np.nan),
    )  # fmt: skip
    return pd.DataFrame(
        {"control": control, "steps_done": joined["steps_done"].fillna(0).to_numpy(),
         "recorded": recorded},
        index=first.index,
    )  # fmt: skip


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


__all__ = ["KEPT", "RETENTION_TYPES", "effect_of_actions"]
