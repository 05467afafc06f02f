"""One mapping from failures to answers: codes and statuses pinned, bugs are a bare 500."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crew.api.errors import error_code, status_of
from crew.errors import (
    BackpressureError,
    ConfigError,
    CrewError,
    CustomerNotFoundError,
    EventBusError,
    InvalidTokenError,
    InvalidTransitionError,
    MissingScopeError,
    OperationalStoreError,
    PayloadTooLargeError,
    RateLimitedError,
    ValidationFailed,
    WarningNotFoundError,
)


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (WarningNotFoundError("x"), "warning_not_found", 404),
        (CustomerNotFoundError("x"), "customer_not_found", 404),
        (InvalidTransitionError("x"), "invalid_transition", 409),
        (ValidationFailed("x", problems=[], total=0), "validation_failed", 422),
        (InvalidTokenError("x"), "invalid_token", 401),
        (MissingScopeError("x"), "missing_scope", 403),
        (PayloadTooLargeError("x"), "payload_too_large", 413),
        (RateLimitedError("x", retry_after=1), "rate_limited", 429),
        (BackpressureError("x", retry_after=1), "backpressure", 429),
        (OperationalStoreError("x"), "operational_store", 503),
        (EventBusError("x"), "event_bus", 503),
        (ConfigError("x"), "config", 400),
        (CrewError("x"), "crew", 400),
    ],
)
def test_error_codes_and_statuses(error: CrewError, code: str, status: int) -> None:
    assert (error_code(type(error)), status_of(error)) == (code, status)


def test_a_crew_error_is_answered_with_code_message_and_hint(app: FastAPI) -> None:
    def refuse() -> None:
        raise InvalidTransitionError("Warning 'w' is resolved.", hint="It stays closed.")

    app.add_api_route("/v1/refuse", refuse)
    with TestClient(app) as client:
        answer = client.get("/v1/refuse")
    assert answer.status_code == 409
    assert answer.json() == {
        "error": {
            "code": "invalid_transition",
            "message": "Warning 'w' is resolved.",
            "hint": "It stays closed.",
        }
    }


def test_a_bug_is_a_500_without_details(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/v1/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/v1/boom")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal"
    assert "secret internals" not in answer.text
    assert "RuntimeError" in caplog.text  # the traceback goes to the log


def test_unknown_routes_use_the_error_format(client: TestClient) -> None:
    answer = client.get("/v1/nowhere")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert client.delete("/v1/health").json()["error"]["code"] == "method_not_allowed"
