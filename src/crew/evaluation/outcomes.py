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
_ALL_TYPES = frozenset(t.value for t in RiskType)


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


def outcome_leads(
    warnings: pd.DataFrame, outcomes: pd.DataFrame, *, start: datetime, end: datetime
) -> pd.DataFrame:
    """One row per outcome in (start, end]: was it warned, first when, at which level, how early.

    A warning foresees an outcome when it is for the same customer, of a matching type, and
    opened before the outcome and at most `LOOKBACK_DAYS` before it. Columns: customer_id,
    kind, ts, warned, first_warning, first_level, lead_days.
    """
    window = outcomes[(outcomes["ts"] > start) & (outcomes["ts"] <= end)]
    window = window[["customer_id", "kind", "ts"]].reset_index(drop=True)
    mine = warnings[warnings["customer_id"].notna()]
    mine = mine.assign(level=mine.get("level", None))
    mine = mine[["customer_id", "risk_type", "first_seen", "level"]]
    joined = window.reset_index().merge(mine, on="customer_id", how="inner")
    matching = [
        r in WARNED_BY.get(str(k), _ALL_TYPES)
        for k, r in zip(joined["kind"], joined["risk_type"], strict=True)
    ]
    before = joined[
        pd.Series(matching, index=joined.index, dtype=bool)
        & (joined["first_seen"] < joined["ts"])
        & (joined["first_seen"] >= joined["ts"] - timedelta(days=LOOKBACK_DAYS))
    ].sort_values(["index", "first_seen"], kind="stable")
    first = before.drop_duplicates("index").set_index("index")
    out = window.copy()
    out["warned"] = out.index.isin(first.index)
    out["first_warning"] = first["first_seen"].reindex(out.index)
    out["first_level"] = first["level"].reindex(out.index)
    out["lead_days"] = (out["ts"] - out["first_warning"]).dt.total_seconds() / 86400
    return out


def check_outcomes(
    warnings: pd.DataFrame, outcomes: pd.DataFrame, *, start: datetime, end: datetime
) -> list[OutcomeFigures]:
    """For each outcome kind in (start, end]: how many a matching warning foresaw, how early."""
    leads = outcome_leads(warnings, outcomes, start=start, end=end)
    figures = []
    for kind, group in leads.groupby("kind"):
        lead = group["lead_days"].dropna()
        figures.append(
            OutcomeFigures(
                str(kind),
                len(group),
                int(group["warned"].sum()),
                float(lead.median()) if len(lead) else None,
            )
        )
    return figures


__all__ = ["LOOKBACK_DAYS", "WARNED_BY", "OutcomeFigures", "check_outcomes", "outcome_leads"]
