"""GET /v1/health, GET /metrics, and the OpenAPI description behind /docs."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from crew.api import create_app
from crew.errors import EventBusError
from crew.ingest.bus import InProcessBus
from crew.store import Workspace


def test_health_names_each_check_and_the_version(client: TestClient) -> None:
    body = client.get("/v1/health").json()
    assert body["status"] == "ok" and body["version"] == "0.1.0"
    assert {k: (v["ok"], v["kind"]) for k, v in body["checks"].items()} == {
        "operational": (True, "sqlite"),
        "analytical": (True, "duckdb"),
        "bus": (True, "in-process"),
    }


class _FlakyBus(InProcessBus):
    down = False

    def ping(self) -> None:
        if self.down:
            raise EventBusError("down")


def test_health_is_503_when_the_bus_is_unreachable(workspace: Workspace) -> None:
    bus = _FlakyBus(workspace.settings.stream)
    app = create_app(workspace, workspace.settings, bus=bus)
    bus.down = True
    with TestClient(app) as client:
        answer = client.get("/v1/health")
    assert answer.status_code == 503
    assert answer.json()["status"] == "degraded"
    assert answer.json()["checks"]["bus"] == {
        "ok": False,
        "kind": "in-process",
        "detail": "EventBusError",
    }


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name + ("{" + wanted + "}" if labels else "")) + r" ([0-9.e+]+)"
    match = re.search(pattern, text)
    assert match, f"{name} {labels} not in metrics"
    return float(match.group(1))


def test_metrics_count_requests_events_warnings_and_latency(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    client.get("/v1/alerts/nope", headers=headers["read"])
    client.get("/v1/alerts/nope-either", headers=headers["read"])
    event = {
        "table": "transactions",
        "txn_id": "T1",
        "customer_id": "C1",
        "ts": "2025-06-01T00:00:00Z",
        "amount": 3,
    }
    client.post("/v1/events", headers=headers["ingest"], json=[event, {**event, "txn_id": "T2"}])
    answer = client.get("/metrics")
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    route = "/v1/alerts/{warning_id}"
    assert _sample(text, "crew_http_requests_total", method="GET", route=route, status="404") == 2
    assert _sample(text, "crew_events_ingested_total", table="transactions") == 2
    assert _sample(text, "crew_warnings_active", level="high") == 1
    assert _sample(text, "crew_warnings_active", level="low") == 1
    assert _sample(text, "crew_stream_backlog_events") == 2
    assert _sample(text, "crew_live_scores") == 0  # no stream refresh yet
    assert _sample(text, "crew_http_request_duration_seconds_count", route=route) == 2
    assert "nope" not in text  # paths are templated: no ids in label values


def test_each_app_has_its_own_registry(workspace: Workspace, client: TestClient) -> None:
    client.get("/v1/health")
    other = create_app(workspace, workspace.settings)
    with TestClient(other) as other_client:
        text = other_client.get("/metrics").text
    assert 'route="/v1/health"' not in text


def test_openapi_describes_every_route_and_field(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {
        "/v1/health",
        "/v1/alerts",
        "/v1/alerts/{warning_id}",
        "/v1/customers/{customer_id}/risk",
        "/v1/events",
        "/v1/blacklist",
        "/v1/blacklist/{entry_id}",
        "/v1/quarantine",
        "/v1/stream/alerts",
        "/metrics",
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), (path, method)
    body = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    assert "anyOf" in body["schema"]
    schemas = spec["components"]["schemas"]
    ours = [
        "WarningOut",
        "WarningDetail",
        "CustomerRisk",
        "ScoreOut",
        "Health",
        "ErrorOut",
        "TransactionEvent",
        "InteractionEvent",
        "AccountEvent",
        "WarningChange",
    ]
    for name in ours:
        undocumented = [
            field
            for field, prop in schemas[name]["properties"].items()
            if not prop.get("description")
        ]
        assert undocumented == [], name
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "swagger-ui" in client.get("/docs").text
