"""The API in server mode: the operational store (warnings, tokens) on PostgreSQL."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import psycopg
import pytest
from tests.factories import PG_ADMIN, postgres_schema

from crew.api import create_app
from crew.config import StoreSettings
from crew.store import RunRecord, Workspace
from crew.store.tokens import TokenScope

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
pytestmark = pytest.mark.postgres


@pytest.fixture
def url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    with postgres_schema() as (_, url):
        yield url


def test_tokens_and_state_changes_on_postgres(workspace: Workspace, url: str) -> None:
    settings = workspace.settings.model_copy(update={"store": StoreSettings(operational_url=url)})
    app = create_app(workspace, settings)
    store = app.state.crew.store
    opened = pd.DataFrame(
        {
            "customer_id": ["C1"],
            "risk_type": ["churn"],
            "level": ["high"],
            "score": [0.9],
            "first_seen": [DAY1],
        }
    )
    store.apply_run(
        RunRecord("r1", DAY1, DAY1, DAY1, False, "x"), opened, pd.DataFrame(), pd.DataFrame()
    )
    _, secret = store.tokens.create("ops", TokenScope.ADMIN, at=DAY1)
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        health = client.get("/v1/health").json()
        assert health["checks"]["operational"] == {"ok": True, "kind": "postgresql", "detail": None}
        url_of = "/v1/alerts/churn-C1-20240501"
        done = client.patch(url_of, headers=auth, json={"state": "resolved", "assignee": "li"})
        assert done.status_code == 200 and done.json()["state"] == "resolved"
        again = client.patch(
            url_of, headers=auth, json={"state": "acknowledged", "assignee": "wang"}
        )
        assert again.status_code == 409
        stored = client.get(url_of, headers=auth).json()
    assert stored["assignee"] == "li"
    assert [(h["field"], h["actor"]) for h in stored["history"]] == [
        ("created", "crew run"),
        ("state", "ops"),
        ("assignee", "ops"),
    ]
    with psycopg.connect(PG_ADMIN) as pg:
        hashes = pg.execute(
            "SELECT secret_sha256 FROM " + url.rsplit("%3D", 1)[1] + ".api_tokens"
        ).fetchall()
    assert len(hashes) == 1 and secret not in hashes[0][0]
