"""Closed sets and small value types shared by every stage."""

from __future__ import annotations

import math
from enum import StrEnum


class Table(StrEnum):
    """The canonical tables of a workspace."""

    CUSTOMERS = "customers"
    TRANSACTIONS = "transactions"
    INTERACTIONS = "interactions"
    EVENTS = "events"
    OUTCOMES = "outcomes"
    # Derived, not imported: written by `crew text analyze` (see crew.store.schema.DERIVED).
    INTERACTION_TEXT = "interaction_text"


class Industry(StrEnum):
    """Industry profiles: they choose indicators, weights and thresholds."""

    ECOMMERCE = "ecommerce"
    FINANCE = "finance"
    TELECOM = "telecom"
    HEALTHCARE = "healthcare"
    GENERIC = "generic"


class TxnType(StrEnum):
    """Kinds of money movement in `transactions.type`."""

    PURCHASE = "purchase"
    REFUND = "refund"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRANSFER = "transfer"
    CHARGEBACK = "chargeback"


class InteractionKind(StrEnum):
    """Kinds of customer contact in `interactions.kind`."""

    COMPLAINT = "complaint"
    TICKET = "ticket"
    SURVEY = "survey"
    CALL = "call"
    CHAT = "chat"
    REVIEW = "review"
    DISPUTE = "dispute"
    REGULATOR_COMPLAINT = "regulator_complaint"


class EventKind(StrEnum):
    """Well-known account events in `events.kind`; other snake_case kinds are allowed."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    DEVICE_CHANGE = "device_change"
    DATA_ACCESS = "data_access"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PRIVACY_REQUEST = "privacy_request"
    DATA_EXPOSURE = "data_exposure"


class OutcomeKind(StrEnum):
    """Well-known outcomes (labels) in `outcomes.kind`; other snake_case kinds are allowed."""

    CHURN = "churn"
    FRAUD_CONFIRMED = "fraud_confirmed"
    REGULATOR_CASE = "regulator_case"
    COMPLAINT_ESCALATED = "complaint_escalated"
    DATA_INCIDENT = "data_incident"


class RiskType(StrEnum):
    """Kinds of customer relationship risk (客户关系风险类型)."""

    CHURN = "churn"
    COMPLAINT_SURGE = "complaint_surge"
    FRAUD = "fraud"
    DATA_LEAKAGE = "data_leakage"
    SATISFACTION_DECLINE = "satisfaction_decline"
    TRUST_BREAKDOWN = "trust_breakdown"
    FAKE_REVIEW = "fake_review"
    EXTERNAL_SHOCK = "external_shock"


class Level(StrEnum):
    """Warning levels (预警等级), mildest first."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class WarningState(StrEnum):
    """Lifecycle states of a warning (预警状态)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    FALSE_POSITIVE = "false_positive"

    @property
    def is_active(self) -> bool:
        """Whether the warning still counts as raised (not resolved, not dismissed).

        >>> WarningState.ACKNOWLEDGED.is_active, WarningState.RESOLVED.is_active
        (True, False)
        """
        return self in (WarningState.OPEN, WarningState.ACKNOWLEDGED, WarningState.IN_PROGRESS)


class NotificationEvent(StrEnum):
    """What happened to a warning that people may be told about (通知事件)."""

    OPENED = "opened"
    ESCALATED = "escalated"
    RESOLVED = "resolved"  # closed as resolved or as a false positive
    HELD = "held"  # raised again while its closed namesake cools down: never sent


class NotificationStatus(StrEnum):
    """Where a notification is: waiting to be routed, handed to receivers, or held back."""

    PENDING = "pending"
    ROUTED = "routed"
    SUPPRESSED = "suppressed"


class SuppressionReason(StrEnum):
    """Why a notification was not sent."""

    DEDUPLICATED = "deduplicated"  # receivers were already told this much about the warning
    COOLDOWN = "cooldown"  # the warning was held back: its closed namesake cools down
    GROUPED = "grouped"  # the segment warning it is grouped under speaks for it
    SILENCED = "silenced"  # a user silenced its customer, type or segment for a while
    NO_RECEIVER = "no_receiver"  # no configured webhook wants it


class CaseState(StrEnum):
    """Lifecycle states of a response case (处置工单)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    AWAITING_OUTCOME = "awaiting_outcome"  # every step done; what happened is still to record
    CLOSED = "closed"
    CONTROL = "control"  # the warning is in the control group: deliberately no action


class CaseOutcome(StrEnum):
    """What happened after a case: the label that measures the response."""

    RETAINED = "retained"
    CHURNED = "churned"
    FRAUD_CONFIRMED = "fraud_confirmed"
    FALSE_ALARM = "false_alarm"
    RESOLVED = "resolved"


def finite(value: object) -> object:
    """`value` with every NaN or infinity, however deeply nested, replaced by None (JSON has
    neither); numpy scalars become Python numbers.

    >>> finite({"a": [1.0, float("nan")]})
    {'a': [1.0, None]}
    """
    if hasattr(value, "item") and not isinstance(value, list | tuple | dict):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


__all__ = [
    "CaseOutcome",
    "CaseState",
    "EventKind",
    "Industry",
    "InteractionKind",
    "Level",
    "NotificationEvent",
    "NotificationStatus",
    "OutcomeKind",
    "RiskType",
    "SuppressionReason",
    "Table",
    "TxnType",
    "WarningState",
    "finite",
]
