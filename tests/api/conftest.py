"""An app over a fresh workspace with two customers, one score, stored warnings and tokens."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest
from fastapi import FastAPI

from crew.api import create_app
from crew.store import RunRecord, Workspace
from crew.store.tokens import TokenScope

with warnings.catch_warnings():
    # Starlette asks for httpx2 at import; the dev extra pins httpx, which works the same.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def app(workspace: Workspace) -> FastAPI:
    """The API of a workspace with customers C1 (scored) and C2, and three warnings."""
    with workspace.connect() as conn:
        conn.execute(
            "INSERT INTO customers (customer_id, name) VALUES ('C1', 'Alice'), ('C2', 'Bob')"
        )
        conn.execute(
            "INSERT INTO scores VALUES ('C1', ?, 1, 'scored', 0.82, 77.5, 'high', 'red', 0.6, "
            "0.9, 'NaN', NULL, ?, ?, NULL, ?)",
            [
                DAY1,
                json.dumps({"value": 0.4, "trust": 0.9}),
                json.dumps([{"indicator": "recency_days", "sentence": "No purchase in 80 days"}]),
                DAY1,
            ],
        )
    app = create_app(workspace, workspace.settings)
    opened = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2"],
            "risk_type": ["churn", "complaint_surge", "churn"],
            "level": ["high", "medium", "low"],
            "score": [0.9, 0.6, 0.3],
            "first_seen": [DAY1, DAY1, DAY1],
            "evidence": [{"recency_days": 80, "note": "最近无购买"}, {}, {}],
        }
    )
    run = RunRecord("r1", DAY1, DAY1, DAY1, False, "x")
    app.state.crew.store.apply_run(run, opened, pd.DataFrame(), pd.DataFrame())
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client of `app`, started and shut down around the test."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def headers(app: FastAPI) -> dict[str, dict[str, str]]:
    """Authorization headers of one token per scope, by scope name."""
    tokens = app.state.crew.store.tokens
    result = {}
    for scope in TokenScope:
        _, secret = tokens.create(f"{scope.value}-bot", scope, at=DAY1)
        result[scope.value] = {"Authorization": f"Bearer {secret}"}
    return result
