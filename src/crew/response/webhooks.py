"""Webhooks: the signed JSON POST a receiver gets for each warning change.

Each request carries `X-Crew-Delivery: <id>` (the same across retries: receivers drop
repeats by it) and `X-Crew-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body with the
webhook's secret. Neither the secret nor the URL (which may hold a token) is ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from crew import __version__
from crew.config import WebhookSettings
from crew.errors import WebhookSecretError
from crew.store.outbox import Notification

SIGNATURE_HEADER = "X-Crew-Signature"
DELIVERY_HEADER = "X-Crew-Delivery"
EVENT_HEADER = "X-Crew-Event"


def signature(body: bytes, secret: bytes) -> str:
    """The `X-Crew-Signature` value of `body`: `sha256=` and the hex HMAC-SHA256.

    >>> signature(b'{"id": 1}', b"s3cret")
    'sha256=ce7b1d91808093594a0f70ed92273f41c635e01459fed39f7f0bcbe09ca3cbc7'
    """
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, secret: bytes, header: str) -> bool:
    """Whether `header` is the signature of `body` (compared in constant time).

    >>> verify_signature(b"{}", b"k", signature(b"{}", b"k")), verify_signature(b"{}", b"k", "x")
    (True, False)
    """
    return hmac.compare_digest(signature(body, secret), header)


def webhook_body(notification: Notification, delivery: str) -> bytes:
    """The raw JSON body of one delivery (what the signature covers)."""
    payload = {"delivery": delivery, **notification.payload()}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Wait after failed attempt number `attempt` (1, 2, ...): doubling, capped, jittered.

    The jitter keeps each wait between half and all of `base * 2**(attempt - 1)`, so waits
    still grow (until the cap) while receivers that failed together are retried apart.

    >>> rng = random.Random(1)
    >>> [round(backoff_seconds(n, 10, 3600, rng)) for n in (1, 2, 3, 4)]
    [6, 18, 35, 50]
    """
    ceiling = min(cap, base * 2.0 ** (attempt - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def webhook_secret(webhook: WebhookSettings, env: Mapping[str, str] | None = None) -> bytes:
    """The signing secret of `webhook`, from its environment variable or crew.toml.

    Raises:
        WebhookSecretError: the environment variable is not set or empty.
    """
    if webhook.secret is not None:
        return webhook.secret.get_secret_value().encode()
    name = str(webhook.secret_env)
    value = (os.environ if env is None else env).get(name, "")
    if not value:
        raise WebhookSecretError(
            f"crew.toml: webhooks '{webhook.name}': secret_env names {name}, which is not set.",
            hint=f"Export {name} with the secret shared with the receiver (16+ characters) "
            "before starting crew.",
        )
    return value.encode()


@dataclass(frozen=True)
class SendResult:
    """How one POST went: `ok` for a 2xx answer; otherwise the status or error."""

    ok: bool
    status: int | None = None
    error: str | None = None


class WebhookNotifier:
    """Sends deliveries to one webhook over HTTP (a `Notifier`)."""

    def __init__(
        self, settings: WebhookSettings, secret: bytes, client: httpx.Client | None = None
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self._secret = secret
        self._client = client or httpx.Client(timeout=settings.timeout_s)

    def send(self, notification: Notification, delivery: str) -> SendResult:
        """POST one delivery; never raises for network trouble (it is a failed attempt)."""
        body = webhook_body(notification, delivery)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"crew/{__version__}",
            DELIVERY_HEADER: delivery,
            EVENT_HEADER: notification.event.value,
            SIGNATURE_HEADER: signature(body, self._secret),
        }
        try:
            response = self._client.post(
                self.settings.url, content=body, headers=headers, timeout=self.settings.timeout_s
            )
        except httpx.HTTPError as exc:
            return SendResult(ok=False, error=self._scrubbed(exc))
        if response.is_success:
            return SendResult(ok=True, status=response.status_code)
        return SendResult(
            ok=False, status=response.status_code, error=f"HTTP {response.status_code}"
        )

    def close(self) -> None:
        """Release the connections."""
        self._client.close()

    def _scrubbed(self, exc: httpx.HTTPError) -> str:
        """The error's kind and text, without the URL (it may carry a token)."""
        text = str(exc).replace(self.settings.url, f"<webhook {self.name}>")
        return f"{type(exc).__name__}: {text}"[:500]


__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "SendResult",
    "WebhookNotifier",
    "backoff_seconds",
    "signature",
    "verify_signature",
    "webhook_body",
    "webhook_secret",
]
