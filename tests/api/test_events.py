"""POST /v1/events: single events and batches, validated all or nothing, backpressure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crew.api import create_app
from crew.config import StreamSettings
from crew.ingest.bus import InProcessBus
from crew.store import Workspace
from crew.store.tokens import TokenScope


def txn(n: int, **changes: object) -> dict[str, object]:
    return {
        "table": "transactions",
        "txn_id": f"T{n}",
        "customer_id": f"C{n % 3}",
        "ts": "2025-06-01T09:30:00+08:00",
        "amount": 10.0 + n,
        **changes,
    }


def test_a_single_event_and_a_batch_are_accepted(
    app: FastAPI, client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    one = client.post("/v1/events", headers=headers["ingest"], json=txn(1))
    batch = client.post(
        "/v1/events",
        headers=headers["ingest"],
        json=[
            txn(2),
            {
                "table": "events",
                "event_id": "E1",
                "customer_id": "C1",
                "kind": "login",
                "ts": "2025-06-01T01:00:00Z",
                "attributes": {"device": "ios"},
            },
            {
                "table": "interactions",
                "interaction_id": "I1",
                "customer_id": "C2",
                "ts": "2025-06-01T01:00:00Z",
                "kind": "complaint",
                "severity": 4,
            },
        ],
    )
    assert (one.status_code, one.json()) == (202, {"accepted": 1})
    assert (batch.status_code, batch.json()) == (202, {"accepted": 3})
    bus = app.state.crew.bus
    assert isinstance(bus, InProcessBus) and bus.backlog() == 4
    taken = bus.subscribe("t").new(100, 0)
    assert {d.event.key for d in taken} == {
        "transactions:T1",
        "transactions:T2",
        "events:E1",
        "interactions:I1",
    }
    assert taken[0].event.ts == datetime(2025, 6, 1, 1, 30, tzinfo=UTC)


def test_a_malformed_item_is_422_naming_index_and_field_and_nothing_is_published(
    app: FastAPI, client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    answer = client.post(
        "/v1/events",
        headers=headers["ingest"],
        json=[txn(1), txn(2), txn(3, amount=-5), txn(4, ts="2025-06-01 09:30"), {"txn_id": "x"}],
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["problems"] == [
        "[2].amount: Input should be greater than or equal to 0",
        "[3].ts: Input should have timezone info",
        "[4].table: Unable to extract tag using discriminator 'table'",
    ]
    assert "none was accepted" in error["message"]
    assert app.state.crew.bus.backlog() == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "empty"),
        (b'"text"', "[0]: Input should be a valid dictionary"),
    ],
)
def test_bodies_that_are_no_events_are_422(
    client: TestClient, headers: dict[str, dict[str, str]], body: bytes, expected: str
) -> None:
    answer = client.post("/v1/events", headers=headers["ingest"], content=body)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert expected in error["message"] + " ".join(error["problems"])


def test_a_full_stream_answers_429_with_retry_after(workspace: Workspace) -> None:
    stream = StreamSettings(max_len=3, retry_after_s=7)
    app = create_app(workspace, workspace.settings.model_copy(update={"stream": stream}))
    _, secret = app.state.crew.store.tokens.create("feed", TokenScope.INGEST, at=datetime.now(UTC))
    auth = {"Authorization": f"Bearer {secret}"}
    same_customer = [txn(n, customer_id="C1") for n in range(3)]
    with TestClient(app) as client:
        assert client.post("/v1/events", headers=auth, json=same_customer).status_code == 202
        refused = client.post("/v1/events", headers=auth, json=[txn(9, customer_id="C1")])
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "7"
    assert refused.json()["error"]["code"] == "backpressure"
    assert app.state.crew.bus.backlog() == 3
