"""Records of the notification outbox: notifications, their routing and deliveries.

Plain values read from the `outbox` and `deliveries` tables (see `crew.store.outbox`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from crew.types import (
    Level,
    NotificationEvent,
    NotificationStatus,
    RiskType,
    SuppressionReason,
    WarningState,
)


class DeliveryState(StrEnum):
    """Where one delivery to one receiver is."""

    PENDING = "pending"  # not sent yet; tried again at next_attempt_at
    SENT = "sent"  # the receiver answered 2xx
    DEAD = "dead"  # every attempt failed; last_error says why


@dataclass(frozen=True)
class Notification:
    """One outbox row: a warning change as it was when it happened."""

    id: int
    warning_id: str
    event: NotificationEvent
    at: datetime
    customer_id: str | None
    segment: str | None
    risk_type: RiskType
    level: Level
    previous_level: Level | None
    state: WarningState
    score: float
    parent_id: str | None
    reasons: list[dict[str, object]]
    recommended_action: str | None
    status: NotificationStatus
    reason: SuppressionReason | None
    reason_detail: str | None
    routed_at: datetime | None

    def payload(self) -> dict[str, object]:
        """The JSON body receivers get (webhooks, Server-Sent Events): no PII, ids only."""
        return {
            "id": self.id,
            "event": self.event.value,
            "at": self.at.isoformat(),
            "warning_id": self.warning_id,
            "customer_id": self.customer_id,
            "segment": self.segment,
            "risk_type": self.risk_type.value,
            "level": self.level.value,
            "previous_level": self.previous_level.value if self.previous_level else None,
            "state": self.state.value,
            "score": self.score,
            "parent_id": self.parent_id,
            "reasons": self.reasons,
            "recommended_action": self.recommended_action,
        }


@dataclass(frozen=True)
class Delivery:
    """One notification's delivery to one webhook."""

    id: str
    outbox_id: int
    webhook: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_status: int | None
    last_error: str | None


@dataclass(frozen=True)
class Routing:
    """What a dispatcher decided for one pending notification."""

    outbox_id: int
    webhooks: tuple[str, ...] = ()
    reason: SuppressionReason | None = None
    detail: str | None = None


def delivery_id(outbox_id: int, webhook: str) -> str:
    """The idempotency key of a delivery: the same across its retries.

    >>> delivery_id(42, "crm")
    '42-crm'
    """
    return f"{outbox_id}-{webhook}"


def notification_of(values: dict[str, object]) -> Notification:
    """A `Notification` from one `outbox` row."""
    previous = values["previous_level"]
    reason = values["reason"]
    return Notification(
        **{
            **values,  # type: ignore[arg-type]
            "id": int(str(values["id"])),
            "event": NotificationEvent(str(values["event"])),
            "risk_type": RiskType(str(values["risk_type"])),
            "level": Level(str(values["level"])),
            "previous_level": Level(str(previous)) if previous is not None else None,
            "state": WarningState(str(values["state"])),
            "score": float(str(values["score"])),
            "status": NotificationStatus(str(values["status"])),
            "reason": SuppressionReason(str(reason)) if reason is not None else None,
        }
    )


def delivery_of(values: dict[str, object]) -> Delivery:
    """A `Delivery` from one `deliveries` row."""
    return Delivery(
        **{**values, "state": DeliveryState(str(values["state"]))}  # type: ignore[arg-type]
    )


__all__ = [
    "Delivery",
    "DeliveryState",
    "Notification",
    "Routing",
    "delivery_id",
    "delivery_of",
    "notification_of",
]
