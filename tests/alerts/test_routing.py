"""Routing a notification: grouped, silenced, deduplicated, filtered or sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crew.alerts.routing import route_notification, webhook_wants
from crew.config import WebhookSettings
from crew.store.outbox import Notification
from crew.store.silences import Silence
from crew.types import (
    Level,
    NotificationEvent,
    NotificationStatus,
    RiskType,
    SuppressionReason,
    WarningState,
)

AT = datetime(2024, 5, 1, tzinfo=UTC)
SECRET = "0123456789abcdef"


def notification(
    *,
    customer: str | None = "C1",
    segment: str | None = None,
    risk_type: RiskType = RiskType.CHURN,
    level: Level = Level.MEDIUM,
    event: NotificationEvent = NotificationEvent.OPENED,
    parent_id: str | None = None,
) -> Notification:
    return Notification(
        id=7,
        warning_id=f"{risk_type.value}-{customer or 'seg.' + str(segment)}-20240501",
        event=event,
        at=AT,
        customer_id=customer,
        segment=segment,
        risk_type=risk_type,
        level=level,
        previous_level=None,
        state=WarningState.OPEN,
        score=0.5,
        parent_id=parent_id,
        reasons=[],
        recommended_action=None,
        status=NotificationStatus.PENDING,
        reason=None,
        reason_detail=None,
        routed_at=None,
    )


def hook(name: str, **filters: object) -> WebhookSettings:
    return WebhookSettings.model_validate(
        {"name": name, "url": "http://127.0.0.1:9/x", "secret": SECRET, **filters}
    )


HOOKS = [hook("all"), hook("urgent", min_level="high"), hook("fraud", risk_types=["fraud"])]


def route(n: Notification, **kwargs: object) -> tuple[object, ...]:
    options: dict[str, object] = {"silences": [], "notified": {}, "at": AT} | kwargs
    r = route_notification(n, HOOKS, **options)  # type: ignore[arg-type]
    return (r.webhooks, r.reason)


def test_each_webhook_whose_filter_admits_it_gets_it() -> None:
    assert route(notification()) == (("all",), None)
    assert route(notification(level=Level.HIGH)) == (("all", "urgent"), None)
    assert route(notification(risk_type=RiskType.FRAUD)) == (("all", "fraud"), None)
    resolved_only = hook("closing", events=["resolved"])
    assert not webhook_wants(resolved_only, notification())
    assert webhook_wants(resolved_only, notification(event=NotificationEvent.RESOLVED))


def test_without_a_wanting_webhook_the_reason_is_no_receiver() -> None:
    r = route_notification(notification(), [HOOKS[1]], silences=[], notified={}, at=AT)
    assert (r.webhooks, r.reason) == ((), SuppressionReason.NO_RECEIVER)


def test_a_warning_grouped_under_a_segment_warning_is_left_to_it() -> None:
    r = route_notification(
        notification(parent_id="external_shock-seg.north-20240501"),
        HOOKS, silences=[], notified={}, at=AT,
    )  # fmt: skip
    assert r.reason == SuppressionReason.GROUPED
    assert r.detail == "grouped under segment warning external_shock-seg.north-20240501"


def test_a_silenced_warning_names_the_silence_until_it_expires() -> None:
    mute = Silence(3, "C1", None, None, AT, AT + timedelta(days=1), "on holiday", "ana")
    r = route_notification(notification(), HOOKS, silences=[mute], notified={}, at=AT)
    assert r.reason == SuppressionReason.SILENCED
    assert r.detail == "silence 3 (customer=C1) until 2024-05-02 00:00 UTC, set by ana: on holiday"
    later = AT + timedelta(days=1)
    assert route(notification(), silences=[mute], at=later) == (("all",), None)


def test_receivers_are_not_told_a_level_they_already_heard() -> None:
    n = notification(event=NotificationEvent.ESCALATED, level=Level.HIGH)
    told = {n.warning_id: Level.HIGH}
    assert route(n, notified=told) == ((), SuppressionReason.DEDUPLICATED)
    assert route(n, notified={n.warning_id: Level.MEDIUM}) == (("all", "urgent"), None)
    closing = notification(event=NotificationEvent.RESOLVED, level=Level.HIGH)
    assert route(closing, notified=told) == (("all", "urgent"), None)
