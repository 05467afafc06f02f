"""Warnings against the simulator's ground-truth episodes: recall, lead time, false alarms.

An episode is *caught* when a warning of a matching risk type opens for its customer between
`EARLY_DAYS` before its onset and its outcome (or `OPEN_DAYS` after onset when it has none).
A customer warning is a *false alarm* when its customer has no episode live around it and no
outcome in the `FALSE_ALARM_HORIZON_DAYS` after it opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from crew.types import RiskType

EARLY_DAYS = 14
OPEN_DAYS = 120
FALSE_ALARM_HORIZON_DAYS = 90
JUDGED_AFTER_DAYS = {RiskType.CHURN.value: 56, RiskType.SATISFACTION_DECLINE.value: 56}
"""Days an episode must have run inside the replay to be judged (default 28): a slow
disengagement is not yet visible, to anyone, a month after it starts."""
MATCHING: dict[str, set[str]] = {
    RiskType.CHURN.value: {RiskType.CHURN.value},
    RiskType.COMPLAINT_SURGE.value: {RiskType.COMPLAINT_SURGE.value,
                                     RiskType.TRUST_BREAKDOWN.value},
    RiskType.FRAUD.value: {RiskType.FRAUD.value},
    RiskType.DATA_LEAKAGE.value: {RiskType.DATA_LEAKAGE.value},
    RiskType.SATISFACTION_DECLINE.value: {RiskType.SATISFACTION_DECLINE.value,
                                          RiskType.CHURN.value, RiskType.COMPLAINT_SURGE.value},
    RiskType.FAKE_REVIEW.value: {RiskType.FAKE_REVIEW.value},
}  # fmt: skip
"""Warning types that count as catching an episode of each risk type."""


@dataclass(frozen=True)
class TypeFigures:
    """Recall and lead time of one episode type."""

    risk_type: str
    episodes: int
    caught: int
    median_lead_days: float | None  # before the outcome, over caught episodes with one

    @property
    def recall(self) -> float | None:
        """Share of episodes caught."""
        return self.caught / self.episodes if self.episodes else None


@dataclass(frozen=True)
class EpisodeCheck:
    """All figures of one replay against the ground truth."""

    start: datetime
    end: datetime
    customers: int
    weeks: float
    by_type: list[TypeFigures] = field(default_factory=list)
    false_alarms: int = 0
    customer_warnings: int = 0
    shock_found_after_days: float | None = None

    @property
    def false_alarms_per_1000_per_week(self) -> float:
        """False alarms per 1,000 customers per week of replay."""
        return 1000 * self.false_alarms / max(self.customers, 1) / max(self.weeks, 1e-9)


def check_episodes(
    warnings: pd.DataFrame,
    episodes: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    start: datetime,
    end: datetime,
    customers: int,
) -> EpisodeCheck:
    """Score the warnings opened in [start, end] against episodes and outcomes."""
    w = warnings[(warnings["first_seen"] >= start) & (warnings["first_seen"] <= end)]
    per_customer = w[w["customer_id"].notna()]
    figures = [
        _type_figures(risk, per_customer, episodes, start, end)
        for risk in (RiskType.CHURN, RiskType.COMPLAINT_SURGE, RiskType.FRAUD,
                     RiskType.DATA_LEAKAGE, RiskType.SATISFACTION_DECLINE, RiskType.FAKE_REVIEW)
    ]  # fmt: skip
    false_alarms = _false_alarms(per_customer, episodes, outcomes)
    weeks = (end - start).total_seconds() / (7 * 86400) + 1
    return EpisodeCheck(
        start=start,
        end=end,
        customers=customers,
        weeks=weeks,
        by_type=[f for f in figures if f.episodes],
        false_alarms=false_alarms,
        customer_warnings=len(per_customer),
        shock_found_after_days=_shock_delay(w, episodes, start, end),
    )


def _type_figures(
    risk: RiskType, warnings: pd.DataFrame, episodes: pd.DataFrame, start: datetime, end: datetime
) -> TypeFigures:
    # Judged: episodes starting in the replay with time left to see them unfold.
    room = timedelta(days=JUDGED_AFTER_DAYS.get(risk.value, 28))
    eps = episodes[
        (episodes["risk_type"] == risk.value)
        & episodes["customer_id"].notna()
        & (episodes["onset_ts"] >= start)
        & (episodes["onset_ts"] <= end - room)
    ]
    if eps.empty:
        return TypeFigures(risk.value, 0, 0, None)
    kinds = MATCHING[risk.value]
    mine = warnings[warnings["risk_type"].isin(kinds)][["customer_id", "first_seen"]]
    joined = eps.reset_index().merge(mine, on="customer_id", how="left")
    stop = joined["outcome_ts"].fillna(joined["onset_ts"] + pd.Timedelta(days=OPEN_DAYS))
    inside = (joined["first_seen"] >= joined["onset_ts"] - pd.Timedelta(days=EARLY_DAYS)) & (
        joined["first_seen"] < stop
    )
    hits = joined[inside].groupby("index")["first_seen"].min()
    lead = (eps.loc[hits.index, "outcome_ts"] - hits).dt.total_seconds() / 86400
    lead = lead[eps.loc[hits.index, "outcome"].ne("no_outcome") & lead.notna()]
    median = float(np.median(lead)) if len(lead) else None
    return TypeFigures(risk.value, len(eps), len(hits), median)


def _false_alarms(warnings: pd.DataFrame, episodes: pd.DataFrame, outcomes: pd.DataFrame) -> int:
    if warnings.empty:
        return 0
    eps = episodes[episodes["customer_id"].notna()][["customer_id", "onset_ts", "outcome_ts"]]
    joined = warnings[["id", "customer_id", "first_seen"]].merge(eps, on="customer_id", how="left")
    stop = joined["outcome_ts"].fillna(joined["onset_ts"] + pd.Timedelta(days=OPEN_DAYS))
    live = (joined["first_seen"] >= joined["onset_ts"] - pd.Timedelta(days=EARLY_DAYS)) & (
        joined["first_seen"] < stop + pd.Timedelta(days=30)
    )
    explained = set(joined.loc[live, "id"])
    horizon = pd.Timedelta(days=FALSE_ALARM_HORIZON_DAYS)
    out = warnings[["id", "customer_id", "first_seen"]].merge(
        outcomes[["customer_id", "ts"]], on="customer_id", how="inner"
    )
    followed = out[(out["ts"] >= out["first_seen"]) & (out["ts"] < out["first_seen"] + horizon)]
    explained |= set(followed["id"])
    return int((~warnings["id"].isin(explained)).sum())


def _shock_delay(
    warnings: pd.DataFrame, episodes: pd.DataFrame, start: datetime, end: datetime
) -> float | None:
    shock = episodes[episodes["risk_type"] == RiskType.EXTERNAL_SHOCK.value]
    if shock.empty:
        return None
    onset, segment = shock["onset_ts"].iloc[0], shock["segment"].iloc[0]
    if not start <= onset <= end:
        return None
    found = warnings[
        (warnings["risk_type"] == RiskType.EXTERNAL_SHOCK.value)
        & (warnings["segment"] == segment)
        & (warnings["first_seen"] >= onset)
    ]
    if found.empty:
        return None
    return float((found["first_seen"].min() - onset).total_seconds() / 86400)


__all__ = ["MATCHING", "EpisodeCheck", "TypeFigures", "check_episodes"]
