"""`GET /v1/stream/alerts`: Server-Sent Events from a real server, resumed by Last-Event-ID."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
import pytest
import uvicorn
from fastapi import FastAPI

from crew.api import create_app
from crew.api.routes.stream import STREAM_READER, _MaskTokens
from crew.config import NotifySettings
from crew.store import RunRecord, Workspace
from crew.store.tokens import TokenScope

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def app(workspace: Workspace) -> FastAPI:
    notify = NotifySettings(stream_poll_s=0.05, stream_heartbeat_s=0.3)
    settings = workspace.settings.model_copy(update={"notify": notify})
    return create_app(workspace, settings)


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


def secret(app: FastAPI, scope: TokenScope = TokenScope.READ) -> str:
    _, value = app.state.crew.store.tokens.create(f"{scope.value}-bot", scope, at=DAY1)
    return str(value)


def open_warning(app: FastAPI, customer: str, day: int) -> None:
    at = DAY1 + timedelta(days=day)
    opened = pd.DataFrame(
        {"customer_id": [customer], "risk_type": "churn", "level": "high", "score": 0.9,
         "first_seen": at}
    )  # fmt: skip
    run = RunRecord(f"r{day}", at, at, at, False, "x")
    app.state.crew.store.apply_run(run, opened, pd.DataFrame(), pd.DataFrame())


def next_event(lines: Iterator[str]) -> dict[str, str]:
    """The fields of the next event (comments and `retry:` skipped)."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if "event" in fields:
                return fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value
    raise AssertionError("the stream ended")


def test_a_warning_opened_while_connected_arrives_as_an_event(app: FastAPI, base_url: str) -> None:
    open_warning(app, "C0", 0)  # before connecting: not sent again
    headers = {"Authorization": f"Bearer {secret(app)}"}
    with (
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", f"{base_url}/v1/stream/alerts", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "retry: 3000"
        open_warning(app, "C1", 1)
        event = next_event(lines)
    assert event["event"] == "warning"
    data = json.loads(event["data"])
    assert (data["event"], data["warning_id"], data["level"]) == (
        "opened",
        "churn-C1-20240502",
        "high",
    )
    assert event["id"] == str(data["id"]) == "2"


def test_last_event_id_resumes_with_only_the_later_events(app: FastAPI, base_url: str) -> None:
    for day, customer in enumerate(("C1", "C2", "C3")):
        open_warning(app, customer, day)
    url = f"{base_url}/v1/stream/alerts?token={secret(app)}"  # as EventSource must send it
    with (
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", url, headers={"Last-Event-ID": "1"}) as response,
    ):
        lines = response.iter_lines()
        seen = [next_event(lines)["id"], next_event(lines)["id"]]
        open_warning(app, "C4", 3)
        seen.append(next_event(lines)["id"])
    assert seen == ["2", "3", "4"]


def test_a_quiet_stream_sends_heartbeats(app: FastAPI, base_url: str) -> None:
    headers = {"Authorization": f"Bearer {secret(app)}"}
    with (
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", f"{base_url}/v1/stream/alerts", headers=headers) as response,
    ):
        lines = response.iter_lines()
        assert [next(lines), next(lines), next(lines)] == ["retry: 3000", "", ": heartbeat"]


def test_the_stream_needs_a_read_token(app: FastAPI, base_url: str) -> None:
    url = f"{base_url}/v1/stream/alerts"
    with httpx.Client(timeout=5.0) as client:
        missing = client.get(url)
        assert (missing.status_code, missing.json()["error"]["code"]) == (401, "invalid_token")
        wrong = client.get(url, params={"token": "crew_nope"})
        assert wrong.status_code == 401
        ingest = client.get(url, params={"token": secret(app, TokenScope.INGEST)})
        assert (ingest.status_code, ingest.json()["error"]["code"]) == (403, "missing_scope")
        bad_id = client.get(url, params={"token": secret(app)}, headers={"Last-Event-ID": "latest"})
        assert bad_id.status_code == 422


def test_tokens_in_query_strings_are_masked_in_the_access_log() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/v1/stream/alerts?token=crew_s3cret&x=1", "1.1", 200), None,
    )  # fmt: skip
    assert _MaskTokens().filter(record)
    assert "crew_s3cret" not in record.getMessage()
    assert "/v1/stream/alerts?token=***&x=1" in record.getMessage()


def test_another_authenticator_can_stand_in_for_the_token(app: FastAPI, base_url: str) -> None:
    app.dependency_overrides[STREAM_READER] = lambda: "dashboard user"
    with (
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", f"{base_url}/v1/stream/alerts") as response,
    ):
        assert response.status_code == 200
        assert next(response.iter_lines()) == "retry: 3000"


def test_a_dashboard_user_reads_the_stream_with_the_session_cookie(
    app: FastAPI, base_url: str
) -> None:
    from crew.response.access import Role

    app.state.crew.store.users.add("ann", Role.ANALYST, "a good password", at=DAY1)
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(10.0)) as client:
        refused = client.get("/v1/stream/alerts")
        assert refused.status_code == 401  # no cookie, no token
        form = client.get("/login").text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        answer = client.post(
            "/login", data={"user": "ann", "password": "a good password", "csrf": csrf}
        )
        assert answer.status_code in (200, 303)
        with client.stream("GET", "/v1/stream/alerts") as response:
            assert response.status_code == 200
            assert next(response.iter_lines()) == "retry: 3000"
