"""Timeliness of the warnings: outcomes warned or missed, how early, false alarms, volume."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from crew.evaluation.backtest import Backtest
from crew.evaluation.metrics import lead_time_summary
from crew.evaluation.outcomes import WARNED_BY, outcome_leads

LEVELS = ("high", "medium", "low")


def timeliness(bt: Backtest) -> dict[str, object]:
    end = bt.instants[-1] + timedelta(days=bt.horizon_days)
    end = min(end, bt.data_end)
    leads = outcome_leads(bt.warnings, bt.outcomes, start=bt.instants[0], end=end)
    kinds = []
    for kind, group in leads.groupby("kind"):
        first = group["first_level"].dropna().value_counts()
        kinds.append(
            {
                "kind": str(kind),
                "outcomes": len(group),
                "warned": int(group["warned"].sum()),
                "missed": int((~group["warned"]).sum()),
                "missed_share": float((~group["warned"]).mean()),
                "lead": lead_time_summary(group["lead_days"].dropna().to_numpy()),
                "first_level": {lv: int(first.get(lv, 0)) for lv in LEVELS},
            }
        )
    return {
        "by_kind": kinds,
        "lead": lead_time_summary(leads["lead_days"].dropna().to_numpy()),
        **_false_alarms(bt),
    }


def _false_alarms(bt: Backtest) -> dict[str, object]:
    """Customer warnings with no matching outcome within the horizon after they opened."""
    w = bt.warnings[bt.warnings["customer_id"].notna()]
    horizon = timedelta(days=bt.horizon_days)
    judged = w[w["first_seen"] + horizon <= bt.data_end]
    followed = _followed(judged, bt.outcomes, horizon)
    weeks = max(len(bt.instants) * 1.0, 1.0)
    false = int((~followed).sum())
    judged_weeks = max(len(set(judged["first_seen"])) * 1.0, 1.0) if len(judged) else weeks
    return {
        "customer_warnings": len(w),
        "judged_warnings": len(judged),
        "false_alarms": false,
        "false_alarm_share": float(false / len(judged)) if len(judged) else None,
        "false_alarms_per_1000_per_week": 1000 * false / max(bt.customers, 1) / judged_weeks,
    }


def _followed(warnings: pd.DataFrame, outcomes: pd.DataFrame, horizon: timedelta) -> pd.Series:
    """Per warning: did a matching outcome follow within `horizon` of its opening?"""
    joined = warnings[["id", "customer_id", "risk_type", "first_seen"]].merge(
        outcomes, on="customer_id", how="inner"
    )
    match = [r in WARNED_BY.get(k, set()) for k, r in zip(joined["kind"], joined["risk_type"],
                                                          strict=True)]  # fmt: skip
    inside = (joined["ts"] >= joined["first_seen"]) & (
        joined["ts"] < joined["first_seen"] + horizon
    )
    hit = set(joined.loc[inside & pd.Series(match, index=joined.index, dtype=bool), "id"])
    return warnings["id"].isin(hit)


def warning_volume(bt: Backtest) -> dict[str, object]:
    w = bt.warnings
    if w.empty:
        return {"per_week": [], "by_type": []}
    week = w["first_seen"].dt.tz_convert("UTC").dt.strftime("%G-W%V")
    per_week = (
        w.assign(week=week).groupby(["week", "risk_type", "level"]).size().rename("count")
    ).reset_index()
    horizon = timedelta(days=bt.horizon_days)
    customer = w[w["customer_id"].notna()]
    judged = customer[customer["first_seen"] + horizon <= bt.data_end]
    followed = _followed(judged, bt.outcomes, horizon)
    leads = outcome_leads(w, bt.outcomes, start=bt.instants[0],
                          end=min(bt.instants[-1] + horizon, bt.data_end))  # fmt: skip
    by_type = []
    for risk, group in w.groupby("risk_type"):
        mine = judged["risk_type"] == risk
        kinds = [k for k, types in WARNED_BY.items() if risk in types]
        foreseen = leads[leads["kind"].isin(kinds)]
        warned = _warned_by_type(foreseen, w, str(risk), horizon)
        by_type.append(
            {
                "risk_type": str(risk),
                "warnings": len(group),
                "judged": int(mine.sum()),
                "followed": int(followed[mine].sum()),
                "precision": float(followed[mine].mean()) if mine.any() and kinds else None,
                "outcomes": len(foreseen),
                "recall": float(warned / len(foreseen)) if len(foreseen) else None,
            }
        )
    return {"per_week": per_week.to_dict("records"), "by_type": by_type}


def _warned_by_type(
    leads: pd.DataFrame, warnings: pd.DataFrame, risk: str, horizon: timedelta
) -> int:
    """Outcomes that a warning of type `risk` opened before (within the look-back)."""
    mine = warnings[(warnings["risk_type"] == risk) & warnings["customer_id"].notna()]
    joined = leads.reset_index().merge(mine[["customer_id", "first_seen"]], on="customer_id")
    inside = (joined["first_seen"] < joined["ts"]) & (
        joined["first_seen"] >= joined["ts"] - horizon
    )
    return int(joined.loc[inside, "index"].nunique())


__all__ = ["timeliness", "warning_volume"]
