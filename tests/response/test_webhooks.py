"""Webhook deliveries to a real HTTP receiver on loopback: retries, signatures, dead letters."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from crew.config import NotifySettings, Settings, WebhookSettings
from crew.errors import ConfigError, WebhookSecretError
from crew.response.notifiers import Dispatcher, webhook_dispatcher
from crew.response.webhooks import WebhookNotifier, verify_signature, webhook_secret
from crew.store.operational import OperationalStore, RunRecord
from crew.store.outbox import DeliveryState
from crew.types import NotificationStatus, RiskType, SuppressionReason, WarningState

SECRET = "whsec-0123456789abcdef"
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@dataclass
class Receiver:
    """A webhook receiver answering with `script` statuses in turn, then 204."""

    url: str
    script: list[int]
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def accepted(self) -> list[tuple[dict[str, str], bytes]]:
        return [r for r, status in zip(self.requests, self.statuses(), strict=True) if status < 300]

    def statuses(self) -> list[int]:
        return [self.script[i] if i < len(self.script) else 204 for i in range(len(self.requests))]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="", script=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            index = len(state.requests)
            state.requests.append((dict(self.headers.items()), body))
            status = state.script[index] if index < len(state.script) else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/crew?key=abc"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def open_warnings(store: OperationalStore, *customers: str, at: datetime = T0) -> None:
    opened = pd.DataFrame(
        {
            "customer_id": list(customers),
            "risk_type": "churn",
            "level": "high",
            "score": 0.9,
            "first_seen": at,
        }
    )
    store.apply_run(
        RunRecord(f"r-{at:%d%H}", at, at, at, False, "x"), opened, *[pd.DataFrame()] * 2
    )


def dispatcher(
    store: OperationalStore, url: str, clock: Clock, *, max_attempts: int = 6
) -> Dispatcher:
    hook = WebhookSettings(name="crm", url=url, secret=SECRET, max_attempts=max_attempts)  # type: ignore[arg-type]
    notifier = WebhookNotifier(hook, SECRET.encode())
    settings = NotifySettings(backoff_s=30, backoff_max_s=3600)
    return Dispatcher(store, [hook], {"crm": notifier}, settings, clock=clock)


def test_a_receiver_failing_twice_gets_exactly_one_accepted_signed_delivery(
    receiver: Receiver,
) -> None:
    receiver.script = [500, 500]
    store, clock = OperationalStore.in_memory(), Clock()
    open_warnings(store, "C1")
    send = dispatcher(store, receiver.url, clock)
    reports = []
    for _ in range(5):  # each pass: whatever is due, then the clock moves past the backoff
        reports.append(send.drain())
        clock.now += timedelta(hours=2)
    assert [(r.sent, r.retrying) for r in reports[:3]] == [(0, 1), (0, 1), (1, 0)]
    assert len(receiver.requests) == 3
    [(headers, body)] = receiver.accepted()
    assert verify_signature(body, SECRET.encode(), headers["X-Crew-Signature"])
    assert not verify_signature(body, b"another secret", headers["X-Crew-Signature"])
    ids = {h["X-Crew-Delivery"] for h, _ in receiver.requests}
    assert len(ids) == 1  # one idempotency key across the retries
    payload = json.loads(body)
    assert payload["delivery"] == ids.pop()
    assert (payload["event"], payload["warning_id"]) == ("opened", "churn-C1-20240501")
    [delivery] = store.outbox.deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.SENT,
        3,
        204,
    )


def test_a_receiver_that_always_fails_gets_a_dead_letter_after_max_attempts(
    receiver: Receiver,
) -> None:
    receiver.script = [500] * 10
    store, clock = OperationalStore.in_memory(), Clock()
    open_warnings(store, "C1")
    send = dispatcher(store, receiver.url, clock, max_attempts=4)
    waits = []
    for _ in range(4):
        send.drain()
        [delivery] = store.outbox.deliveries()
        if delivery.state == DeliveryState.DEAD:
            break
        waits.append((delivery.next_attempt_at - clock.now).total_seconds())
        clock.now = delivery.next_attempt_at
    assert (delivery.state, delivery.attempts, delivery.last_error) == (
        DeliveryState.DEAD,
        4,
        "HTTP 500",
    )
    assert len(receiver.requests) == 4
    assert len(waits) == 3 and waits == sorted(waits) and waits[0] < waits[-1]
    assert 15 <= waits[0] <= 30 and 60 <= waits[2] <= 120  # 30 s doubling, jittered
    send.drain()
    assert len(receiver.requests) == 4  # dead letters are not retried
    assert store.outbox.counts()["webhook:crm"] == {"dead": 1}


def test_silenced_warnings_are_held_back_with_the_reason_until_the_silence_expires(
    receiver: Receiver,
) -> None:
    store, clock = OperationalStore.in_memory(), Clock()
    store.silences.add(
        customer_id="C1", until=T0 + timedelta(days=1), reason="renewal talks", actor="ana", at=T0
    )
    open_warnings(store, "C1", "C2")
    report = dispatcher(store, receiver.url, clock).drain()
    assert (report.routed, report.suppressed, report.sent) == (1, 1, 1)
    c1 = store.outbox.of_warning("churn-C1-20240501")[0]
    assert (c1.status, c1.reason) == (NotificationStatus.SUPPRESSED, SuppressionReason.SILENCED)
    assert c1.reason_detail is not None and "renewal talks" in c1.reason_detail
    assert [json.loads(b)["customer_id"] for _, b in receiver.requests] == ["C2"]

    clock.now = T0 + timedelta(days=2)  # the silence has expired
    store.set_state("churn-C1-20240501", WarningState.RESOLVED, actor="ana", at=clock.now)
    dispatcher(store, receiver.url, clock).drain()
    last = json.loads(receiver.requests[-1][1])
    assert (last["event"], last["customer_id"]) == ("resolved", "C1")


def test_network_failures_are_retried_and_nothing_secret_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, clock = OperationalStore.in_memory(), Clock()
    open_warnings(store, "C1")
    url = "http://127.0.0.1:9/hooks?key=topsecret"  # discard port: nothing listens
    with caplog.at_level(logging.DEBUG):
        report = dispatcher(store, url, clock).drain()
    assert report.retrying == 1
    [delivery] = store.outbox.deliveries()
    assert delivery.last_error is not None and delivery.last_error.startswith("ConnectError")
    for text in (caplog.text, delivery.last_error):
        assert SECRET not in text and "topsecret" not in text and "C1" not in text


def test_a_secret_comes_from_its_environment_variable_or_fails_naming_it() -> None:
    hook = WebhookSettings(name="crm", url="http://127.0.0.1:9/x", secret_env="CRM_HOOK_SECRET")
    assert webhook_secret(hook, {"CRM_HOOK_SECRET": "abc"}) == b"abc"
    with pytest.raises(WebhookSecretError) as raised:
        webhook_secret(hook, {})
    assert str(raised.value) == (
        "crew.toml: webhooks 'crm': secret_env names CRM_HOOK_SECRET, which is not set."
    )
    assert raised.value.hint is not None and "Export CRM_HOOK_SECRET" in raised.value.hint
    assert isinstance(raised.value, ConfigError) and raised.value.exit_code == 2


def test_the_dispatcher_of_the_settings_checks_every_secret_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CRM_HOOK_SECRET", raising=False)
    settings = Settings.model_validate(
        {"webhooks": [{"name": "crm", "url": "http://x/", "secret_env": "CRM_HOOK_SECRET"}]}
    )
    with pytest.raises(WebhookSecretError):
        webhook_dispatcher(OperationalStore.in_memory(), settings)


def test_a_resolved_warning_is_sent_to_webhooks_wanting_resolutions(receiver: Receiver) -> None:
    store, clock = OperationalStore.in_memory(), Clock()
    open_warnings(store, "C1")
    hook = WebhookSettings.model_validate(
        {"name": "closing", "url": receiver.url, "secret": SECRET, "events": ["resolved"]}
    )
    notifier = WebhookNotifier(hook, SECRET.encode())
    send = Dispatcher(store, [hook], {"closing": notifier}, NotifySettings(), clock=clock)
    assert send.drain().suppressed == 1  # the opening: no receiver wants it
    store.set_state("churn-C1-20240501", WarningState.RESOLVED, actor="ana", at=T0)
    assert send.drain().sent == 1
    assert receiver.requests[0][0]["X-Crew-Event"] == "resolved"
    assert RiskType.CHURN.value in receiver.requests[0][1].decode()
