"""Notifiers and the dispatcher that feeds them from the outbox.

One pass of the dispatcher settles every pending notification (routed to the webhooks that
want it, or suppressed with the reason: `crew.alerts.routing`), then sends the deliveries
that are due. A failed attempt is retried after a doubling, jittered wait; after the
webhook's `max_attempts` the delivery is dead, with its last error. Payloads, secrets and
URLs are never logged: only delivery ids, webhook names and HTTP statuses.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from crew.alerts.routing import route_notification
from crew.config import NotifySettings, Settings, WebhookSettings
from crew.response.webhooks import SendResult, WebhookNotifier, backoff_seconds, webhook_secret
from crew.store.operational import OperationalStore
from crew.store.outbox import Delivery, Notification
from crew.types import Level

log = logging.getLogger(__name__)

_BATCH = 500
_RANK = {level: rank for rank, level in enumerate(Level)}


class Notifier(Protocol):
    """Something that delivers a notification to one receiver."""

    name: str

    def send(self, notification: Notification, delivery: str) -> SendResult:
        """Try once; report how it went instead of raising."""
        ...

    def close(self) -> None:
        """Release what it holds."""
        ...


@dataclass(frozen=True)
class DrainReport:
    """What one pass of the dispatcher did."""

    routed: int = 0
    suppressed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0


class Dispatcher:
    """Routes pending notifications and delivers them to webhooks, with retries."""

    def __init__(
        self,
        store: OperationalStore,
        webhooks: Sequence[WebhookSettings],
        notifiers: Mapping[str, Notifier],
        settings: NotifySettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._webhooks = list(webhooks)
        self._notifiers = dict(notifiers)
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()

    def drain(self) -> DrainReport:
        """Settle every pending notification, then send every delivery that is due."""
        routed = suppressed = 0
        while True:
            r, s = self._route(self._clock())
            routed, suppressed = routed + r, suppressed + s
            if r + s < _BATCH:
                break
        sent = retrying = dead = 0
        while batch := self._store.outbox.claim_due(self._clock()):
            for delivery, notification in batch:
                outcome = self._attempt(delivery, notification)
                sent += outcome == "sent"
                retrying += outcome == "retrying"
                dead += outcome == "dead"
        return DrainReport(routed, suppressed, sent, retrying, dead)

    def run(self, stop: threading.Event) -> None:
        """Drain every `notify.interval_s` seconds until `stop` is set."""
        while not stop.is_set():
            try:
                self.drain()
            except Exception:  # a database hiccup must not end notifications for good
                log.exception("notification pass failed; trying again shortly")
            stop.wait(self._settings.interval_s)

    def close(self) -> None:
        """Release the notifiers' connections."""
        for notifier in self._notifiers.values():
            notifier.close()

    def _route(self, now: datetime) -> tuple[int, int]:
        pending = self._store.outbox.pending(_BATCH)
        if not pending:
            return 0, 0
        silences = self._store.silences.active(now)
        notified: dict[str, Level] = self._store.outbox.notified_levels(
            sorted({n.warning_id for n in pending})
        )
        decisions = []
        for n in pending:
            decision = route_notification(
                n, self._webhooks, silences=silences, notified=notified, at=now
            )
            told = notified.get(n.warning_id, Level.NONE)
            if decision.reason is None and _RANK[n.level] > _RANK[told]:
                notified[n.warning_id] = n.level  # later rows of this batch see it told
            decisions.append(decision)
        self._store.outbox.settle(decisions, now)
        routed = sum(d.reason is None for d in decisions)
        return routed, len(decisions) - routed

    def _attempt(self, delivery: Delivery, notification: Notification) -> str:
        outbox = self._store.outbox
        notifier = self._notifiers.get(delivery.webhook)
        settings = next((w for w in self._webhooks if w.name == delivery.webhook), None)
        if notifier is None or settings is None:
            error = f"webhook '{delivery.webhook}' is no longer configured in crew.toml"
            outbox.record_attempt(delivery.id, at=self._clock(), ok=False, error=error)
            log.warning("delivery %s dead: %s", delivery.id, error)
            return "dead"
        result = notifier.send(notification, delivery.id)
        now, attempt = self._clock(), delivery.attempts + 1
        if result.ok:
            outbox.record_attempt(delivery.id, at=now, ok=True, status=result.status)
            log.info("delivery %s to %s sent (attempt %d)", delivery.id, notifier.name, attempt)
            return "sent"
        if attempt >= settings.max_attempts:
            outbox.record_attempt(
                delivery.id, at=now, ok=False, status=result.status, error=result.error
            )
            log.warning(
                "delivery %s to %s dead after %d attempts: %s",
                delivery.id, notifier.name, attempt, result.error,
            )  # fmt: skip
            return "dead"
        wait = backoff_seconds(
            attempt, self._settings.backoff_s, self._settings.backoff_max_s, self._rng
        )
        outbox.record_attempt(
            delivery.id,
            at=now,
            ok=False,
            status=result.status,
            error=result.error,
            retry_at=now + timedelta(seconds=wait),
        )
        log.info(
            "delivery %s to %s failed (attempt %d: %s); next try in %.0f s",
            delivery.id, notifier.name, attempt, result.error, wait,
        )  # fmt: skip
        return "retrying"


def webhook_dispatcher(store: OperationalStore, settings: Settings) -> Dispatcher:
    """A dispatcher to the webhooks of `settings`, each signing with its secret.

    Raises:
        WebhookSecretError: a webhook's secret environment variable is not set.
    """
    secrets = {w.name: webhook_secret(w) for w in settings.webhooks}  # fail before connecting
    notifiers = {w.name: WebhookNotifier(w, secrets[w.name]) for w in settings.webhooks}
    return Dispatcher(store, settings.webhooks, notifiers, settings.notify)


__all__ = ["Dispatcher", "DrainReport", "Notifier", "webhook_dispatcher"]
