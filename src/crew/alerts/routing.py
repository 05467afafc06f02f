"""Routing: who hears of a warning change, or why nobody does (pure, no I/O).

In order: a warning grouped under a segment warning is left to that one; a silenced one is
held back; receivers already told as much are not told again; then each webhook whose
filter (events, lowest level, risk types) admits the change gets it, and without one the
change is recorded as having no receiver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from crew.alerts.silences import silence_for
from crew.config import WebhookSettings
from crew.store.outbox import Notification, Routing
from crew.store.silences import Silence
from crew.types import Level, NotificationEvent, SuppressionReason

_RANK = {level: rank for rank, level in enumerate(Level)}


def webhook_wants(webhook: WebhookSettings, notification: Notification) -> bool:
    """Whether `webhook`'s filter admits `notification` (event, level and risk type)."""
    return (
        notification.event in webhook.events
        and _RANK[notification.level] >= _RANK[webhook.min_level]
        and (not webhook.risk_types or notification.risk_type in webhook.risk_types)
    )


def route_notification(
    notification: Notification,
    webhooks: Sequence[WebhookSettings],
    *,
    silences: Sequence[Silence],
    notified: Mapping[str, Level],
    at: datetime,
) -> Routing:
    """The receivers of `notification`, or the reason it is not sent.

    `notified` is the highest level receivers were already told of, per warning id.
    """
    n = notification
    if n.parent_id is not None:
        return _held(n, SuppressionReason.GROUPED, f"grouped under segment warning {n.parent_id}")
    silence = silence_for(n, silences, at)
    if silence is not None:
        detail = (
            f"silence {silence.id} ({silence.matcher}) until {silence.ends_at:%Y-%m-%d %H:%M} "
            f"UTC, set by {silence.created_by}: {silence.reason}"
        )
        return _held(n, SuppressionReason.SILENCED, detail)
    told = notified.get(n.warning_id)
    if told is not None and n.event != NotificationEvent.RESOLVED and _RANK[told] >= _RANK[n.level]:
        return _held(n, SuppressionReason.DEDUPLICATED, f"receivers were told of {told.value}")
    names = tuple(w.name for w in webhooks if webhook_wants(w, n))
    if not names:
        return _held(n, SuppressionReason.NO_RECEIVER, "no webhook's filter admits it")
    return Routing(n.id, webhooks=names)


def _held(n: Notification, reason: SuppressionReason, detail: str) -> Routing:
    return Routing(n.id, reason=reason, detail=detail)


__all__ = ["route_notification", "webhook_wants"]
