"""Cases from warnings: which playbook, which tier, which steps by when — or the control group.

Pure planning; `crew.store.cases.CaseBook` keeps what is planned here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from crew.alerts.control import in_control_group
from crew.response.playbooks import PlaybookBook, Tier, Tiers
from crew.store.operational import OperationalStore
from crew.types import Industry, Level, RiskType


@dataclass(frozen=True)
class PlannedStep:
    """One step of a new case, with its deadline."""

    position: int
    action: str
    team: str
    channel: str
    message_en: str
    message_zh: str
    due_at: datetime
    escalate_to: str | None


@dataclass(frozen=True)
class PlannedCase:
    """A case to open for one warning (no steps when the warning is in the control group)."""

    id: str
    warning_id: str
    customer_id: str | None
    segment: str | None
    risk_type: str
    level: str
    tier: Tier
    playbook: str | None
    control: bool
    owner_team: str | None
    opened_at: datetime
    steps: list[PlannedStep] = field(default_factory=list)


def tiers_by_value(
    clv: pd.Series, given: pd.Series | None = None, tiers: Tiers | None = None
) -> dict[str, Tier]:
    """Tier per customer: the customer's own tier when given, else by CLV rank.

    >>> t = tiers_by_value(pd.Series([100.0, 5.0, 1.0, 0.5], index=["a", "b", "c", "d"]),
    ...                    tiers=Tiers(key_share=0.25, important_share=0.25))
    >>> [t[c].value for c in "abcd"]
    ['key', 'important', 'regular', 'regular']
    """
    tiers = tiers or Tiers()
    share = clv.rank(ascending=False, method="first", pct=True)
    out = {
        str(c): Tier.KEY if s <= tiers.key_share
        else Tier.IMPORTANT if s <= tiers.key_share + tiers.important_share
        else Tier.REGULAR
        for c, s in share.items()
    }  # fmt: skip
    if given is not None:
        known = {t.value for t in Tier}
        for customer, tier in given.dropna().items():
            if str(tier).lower() in known:
                out[str(customer)] = Tier(str(tier).lower())
    return out


def plan_cases(
    warnings: pd.DataFrame,
    book: PlaybookBook,
    tiers: Mapping[str, Tier],
    *,
    at: datetime,
    profile: Industry | None,
    control_share: float,
) -> list[PlannedCase]:
    """A case for each newly opened warning, by the first matching playbook.

    `warnings` has id, customer_id, segment, risk_type, level and reasons. Warnings no
    playbook takes get no case; warnings in the control group get a step-less case.
    """
    if warnings.empty:
        return []
    ids = warnings["id"].astype(str).tolist()
    customers = warnings["customer_id"]
    control = in_control_group(ids, control_share) & customers.notna().to_numpy()
    planned = []
    for (_, row), in_control in zip(warnings.iterrows(), control, strict=True):
        customer = None if pd.isna(row["customer_id"]) else str(row["customer_id"])
        tier = tiers.get(customer, Tier.REGULAR) if customer else Tier.REGULAR
        playbook = book.find(RiskType(row["risk_type"]), Level(row["level"]), tier, profile)
        if playbook is None:
            continue
        case = PlannedCase(
            id=f"case-{row['id']}", warning_id=str(row["id"]), customer_id=customer,
            segment=None if pd.isna(row["segment"]) else str(row["segment"]),
            risk_type=str(row["risk_type"]), level=str(row["level"]), tier=tier,
            playbook=playbook.name, control=bool(in_control), owner_team=None, opened_at=at,
        )  # fmt: skip
        if case.control:
            planned.append(case)
            continue
        reason = _first_reason(row.get("reasons"))
        subject = customer or f"segment {case.segment}"
        steps, due = [], at
        for position, step in enumerate(playbook.steps, start=1):
            due = due + timedelta(hours=step.sla_hours)
            steps.append(
                PlannedStep(
                    position, step.action, step.team, step.channel.value,
                    step.message.en.format(customer=subject, reason=reason[0]),
                    step.message.zh.format(customer=subject, reason=reason[1]),
                    due, step.escalate_to,
                )
            )  # fmt: skip
        planned.append(replace(case, owner_team=steps[0].team, steps=steps))
    return planned


def respond(
    store: OperationalStore,
    opened: pd.DataFrame,
    book: PlaybookBook,
    *,
    features: pd.DataFrame,
    value: pd.Series | None,
    at: datetime,
    profile: Industry | None,
    control_share: float,
) -> dict[str, int]:
    """Open the cases of a run's new warnings and escalate the steps now overdue."""
    clv = value if value is not None else pd.Series(0.0, index=features.index)
    given = features["tier"] if "tier" in features.columns else None
    tiers = tiers_by_value(clv, given, book.tiers)
    planned = plan_cases(opened, book, tiers, at=at, profile=profile, control_share=control_share)
    # Opened and escalated by the system: the store audits both as actor "system".
    opened_n = store.cases.open([asdict(p) for p in planned])
    escalated = store.cases.escalate_overdue(at)
    return {
        "cases_opened": opened_n,
        "cases_control": sum(p.control for p in planned),
        "cases_escalated": len(escalated),
    }


def _first_reason(reasons: object) -> tuple[str, str]:
    """The leading reason of a warning, in English and Chinese."""
    if isinstance(reasons, list | np.ndarray) and len(reasons):
        first = reasons[0]
        if isinstance(first, dict):
            en = str(first.get("en", "")).rstrip(".")
            return en, str(first.get("zh", en)).rstrip("。")
    return "see the warning", "详见预警"


__all__ = ["PlannedCase", "PlannedStep", "plan_cases", "respond", "tiers_by_value"]
