"""Warnings against what really happened (the outcomes table): caught, missed, how early."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from crew.types import OutcomeKind, RiskType

LOOKBACK_DAYS = 90
"""A warning counts for an outcome when it opened at most this long before it."""

WARNED_BY: dict[str, set[str]] = {
    OutcomeKind.CHURN.value: {RiskType.CHURN.value, RiskType.SATISFACTION_DECLINE.value,
                              RiskType.COMPLAINT_SURGE.value, RiskType.TRUST_BREAKDOWN.value},
    OutcomeKind.FRAUD_CONFIRMED.value: {RiskType.FRAUD.value},
    OutcomeKind.REGULATOR_CASE.value: {RiskType.COMPLAINT_SURGE.value,
                                       RiskType.TRUST_BREAKDOWN.value,
                                       RiskType.DATA_LEAKAGE.value},
    OutcomeKind.DATA_INCIDENT.value: {RiskType.DATA_LEAKAGE.value},
    OutcomeKind.COMPLAINT_ESCALATED.value: {RiskType.COMPLAINT_SURGE.value,
                                            RiskType.TRUST_BREAKDOWN.value},
}  # fmt: skip
"""Warning types that count as foreseeing each kind of outcome."""


@dataclass(frozen=True)
class OutcomeFigures:
    """Outcomes of one kind in the replay window and how many were warned, how early."""

    kind: str
    outcomes: int
    warned: int
    median_lead_days: float | None

    @property
    def missed(self) -> int:
        """Outcomes no warning foresaw."""
        return self.outcomes - self.warned


def check_outcomes(
    warnings: pd.DataFrame, outcomes: pd.DataFrame, *, start: datetime, end: datetime
) -> list[OutcomeFigures]:
    """For each outcome kind in (start, end]: how many a matching warning foresaw, how early.

    A warning foresees an outcome when it is for the same customer, of a matching type, and
    opened before the outcome and at most `LOOKBACK_DAYS` before it.
    """
    window = outcomes[(outcomes["ts"] > start) & (outcomes["ts"] <= end)]
    mine = warnings[warnings["customer_id"].notna()][["customer_id", "risk_type", "first_seen"]]
    figures = []
    for kind, group in window.groupby("kind"):
        types = WARNED_BY.get(str(kind), {t.value for t in RiskType})
        joined = group.reset_index().merge(
            mine[mine["risk_type"].isin(types)], on="customer_id", how="inner"
        )
        before = joined[
            (joined["first_seen"] < joined["ts"])
            & (joined["first_seen"] >= joined["ts"] - timedelta(days=LOOKBACK_DAYS))
        ]
        first = before.groupby("index")["first_seen"].min()
        lead = (group.loc[first.index, "ts"] - first).dt.total_seconds() / 86400
        figures.append(
            OutcomeFigures(
                str(kind), len(group), len(first), float(lead.median()) if len(lead) else None
            )
        )
    return figures


__all__ = ["LOOKBACK_DAYS", "WARNED_BY", "OutcomeFigures", "check_outcomes"]
