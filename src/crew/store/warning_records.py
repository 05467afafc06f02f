"""What the operational store holds about warnings, as values: a warning, one change of it,
one run, the states a warning may move to, and how a warning's id is made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crew.types import Level, RiskType, WarningState

# open -> acknowledged -> in_progress; every active state may close; closed is final.
ALLOWED_TRANSITIONS: dict[WarningState, tuple[WarningState, ...]] = {
    WarningState.OPEN: (
        WarningState.ACKNOWLEDGED,
        WarningState.RESOLVED,
        WarningState.FALSE_POSITIVE,
    ),
    WarningState.ACKNOWLEDGED: (
        WarningState.IN_PROGRESS,
        WarningState.RESOLVED,
        WarningState.FALSE_POSITIVE,
    ),
    WarningState.IN_PROGRESS: (WarningState.RESOLVED, WarningState.FALSE_POSITIVE),
    WarningState.RESOLVED: (),
    WarningState.FALSE_POSITIVE: (),
}


@dataclass(frozen=True)
class WarningRecord:
    """One stored warning, as the `warnings` table holds it."""

    id: str
    customer_id: str | None
    segment: str | None
    risk_type: RiskType
    level: Level
    score: float
    state: WarningState
    first_seen: datetime
    last_seen: datetime
    level_changed_at: datetime
    resolved_at: datetime | None
    cooldown_until: datetime | None
    parent_id: str | None
    signals: list[str]
    evidence: dict[str, object]
    reasons: list[dict[str, object]]
    recommended_action: str | None
    run_id: str
    assignee: str | None

    @property
    def subject(self) -> str:
        """The customer id, or `seg.<segment>` for a segment-level warning."""
        return self.customer_id if self.customer_id is not None else f"seg.{self.segment}"


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a warning: who changed which field from what to what, and when."""

    id: int
    warning_id: str
    at: datetime
    actor: str
    field: str
    old_value: str | None
    new_value: str | None
    note: str | None


@dataclass(frozen=True)
class RunRecord:
    """One evaluation run that opened, updated or closed warnings."""

    run_id: str
    as_of: datetime
    started_at: datetime
    finished_at: datetime | None
    dry_run: bool
    config_fingerprint: str
    counts: dict[str, int] = field(default_factory=dict)


def warning_id(
    risk_type: RiskType | str, customer_id: str | None, segment: str | None, first_seen: datetime
) -> str:
    """Readable, deterministic id of a warning: type, subject and the day it was first seen.

    >>> from datetime import UTC
    >>> warning_id(RiskType.CHURN, "C042", None, datetime(2024, 5, 1, tzinfo=UTC))
    'churn-C042-20240501'
    >>> warning_id("complaint_surge", None, "north", datetime(2024, 5, 1, tzinfo=UTC))
    'complaint_surge-seg.north-20240501'
    """
    subject = customer_id if customer_id is not None else f"seg.{segment}"
    return f"{RiskType(risk_type).value}-{subject}-{first_seen:%Y%m%d}"


__all__ = [
    "ALLOWED_TRANSITIONS",
    "HistoryEntry",
    "RunRecord",
    "WarningRecord",
    "warning_id",
]
