"""Tokens, scopes, rate limits and body limits; no secret and no personal data in logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crew.api import create_app
from crew.config import ApiSettings
from crew.store import Workspace
from crew.store._api_tables import tokens_table
from crew.store.tokens import TokenScope, hash_secret

EVENT = {
    "table": "interactions",
    "interaction_id": "I-1",
    "customer_id": "C1",
    "ts": "2025-06-01T09:30:00+08:00",
    "kind": "complaint",
    "text": "Call me on 13912345678 or mail wang.fang@example.com, ID 110101199003070011",
}


def test_v1_needs_a_bearer_token(client: TestClient) -> None:
    missing = client.get("/v1/alerts")
    unknown = client.get("/v1/alerts", headers={"Authorization": "Bearer crew_nope"})
    basic = client.get("/v1/alerts", headers={"Authorization": "Basic dXNlcjpwdw=="})
    for answer in (missing, unknown, basic):
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["error"]["code"] == "invalid_token"


def test_health_and_metrics_are_open(client: TestClient) -> None:
    assert client.get("/v1/health").status_code == 200
    assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize(
    ("scope", "method", "url", "allowed"),
    [
        ("read", "GET", "/v1/alerts", True),
        ("ingest", "GET", "/v1/alerts", False),
        ("admin", "GET", "/v1/alerts", True),
        ("read", "POST", "/v1/events", False),
        ("ingest", "POST", "/v1/events", True),
        ("admin", "POST", "/v1/events", True),
        ("read", "PATCH", "/v1/alerts/churn-C1-20240501", False),
        ("ingest", "PATCH", "/v1/alerts/churn-C1-20240501", False),
    ],
)
def test_scopes(
    client: TestClient,
    headers: dict[str, dict[str, str]],
    scope: str,
    method: str,
    url: str,
    allowed: bool,
) -> None:
    body = EVENT if method == "POST" else {"assignee": "li.na"}
    answer = client.request(method, url, headers=headers[scope], json=body)
    assert (answer.status_code != 403) == allowed, answer.text


def test_a_revoked_token_stops_working_at_once(
    app: FastAPI, client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    assert client.get("/v1/alerts", headers=headers["read"]).status_code == 200
    app.state.crew.store.tokens.revoke("read-bot", at=datetime.now(UTC))
    assert client.get("/v1/alerts", headers=headers["read"]).status_code == 401


def test_only_the_hash_of_a_secret_is_stored(app: FastAPI) -> None:
    token, secret = app.state.crew.store.tokens.create("ops", TokenScope.READ, at=datetime.now(UTC))
    assert secret.startswith("crew_") and len(secret) > 40
    engine = app.state.crew.store.tokens._engine
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(tokens_table.select()).mappings()]
    assert [r["secret_sha256"] for r in rows if r["name"] == "ops"] == [hash_secret(secret)]
    assert all(secret not in str(v) for r in rows for v in r.values())
    assert app.state.crew.store.tokens.authenticate(secret) == token


def test_rate_limit_answers_429_with_retry_after(workspace: Workspace) -> None:
    api = ApiSettings(rate_limit_per_second=0.5, rate_limit_burst=2)
    app = create_app(workspace, workspace.settings.model_copy(update={"api": api}))
    _, secret = app.state.crew.store.tokens.create("slow", TokenScope.READ, at=datetime.now(UTC))
    _, other = app.state.crew.store.tokens.create("other", TokenScope.READ, at=datetime.now(UTC))
    with TestClient(app) as client:
        codes = [
            client.get("/v1/alerts", headers={"Authorization": f"Bearer {secret}"})
            for _ in range(3)
        ]
        assert [c.status_code for c in codes] == [200, 200, 429]
        assert codes[-1].headers["retry-after"] == "2"
        assert codes[-1].json()["error"]["code"] == "rate_limited"
        # Buckets are per token: another token is not slowed down.
        other_answer = client.get("/v1/alerts", headers={"Authorization": f"Bearer {other}"})
        assert other_answer.status_code == 200


def test_a_body_above_the_limit_is_413(
    workspace: Workspace, headers: dict[str, dict[str, str]]
) -> None:
    api = ApiSettings(max_body_bytes=2048)
    app = create_app(workspace, workspace.settings.model_copy(update={"api": api}))
    _, secret = app.state.crew.store.tokens.create("feed", TokenScope.INGEST, at=datetime.now(UTC))
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        declared = client.post("/v1/events", headers=auth, content=b"[" + b" " * 4096 + b"]")
        chunked = client.post("/v1/events", headers=auth, content=iter([b"[", b" " * 4096, b"]"]))
        fits = client.post("/v1/events", headers=auth, json=[EVENT])
    assert declared.status_code == 413 and chunked.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"
    assert fits.status_code == 202
    assert app.state.crew.bus.backlog() == 1


def test_no_secret_and_no_personal_data_is_logged(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, secret = app.state.crew.store.tokens.create("feed", TokenScope.INGEST, at=datetime.now(UTC))
    auth = {"Authorization": f"Bearer {secret}"}
    client.post("/v1/events", headers=auth, json=[EVENT])
    client.post("/v1/events", headers=auth, json=[{**EVENT, "nps": 11}])
    client.post("/v1/events", headers={"Authorization": f"Bearer {secret}x"}, json=[EVENT])
    client.get("/v1/customers/C1/risk", headers=auth)
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert caplog.records  # the refused token was logged, without its secret
    for private in (secret, "13912345678", "wang.fang@example.com", "110101199003070011", "Alice"):
        assert private not in logged
