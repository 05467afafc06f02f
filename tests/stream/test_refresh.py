"""Model scores refreshed by the stream: same scores as the batch, only on material moves."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import SCORED_AT
from tests.factories import postgres_schema
from typer.testing import CliRunner

from crew.api import create_app
from crew.api.web.customer import customer_360
from crew.cli import app
from crew.indicators.catalog import load_catalog
from crew.indicators.online_state import micros
from crew.ingest.bus import InProcessBus
from crew.ingest.events import EVENT
from crew.models.dataset import features_at
from crew.models.registry import load_bundle
from crew.models.scoring import score_features
from crew.store import OperationalStore, Workspace, open_workspace
from crew.store.operational import open_operational_store
from crew.store.tokens import TokenScope
from crew.store.users import Role
from crew.stream.handler import InstantWarnings
from crew.stream.online import latest_instant
from crew.stream.refresh import ScoreRefresh, score_refresh
from crew.stream.worker import HandlerContext, load_handler

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

RUN = SCORED_AT
"""The scheduled run whose scores the stream refreshes."""


@pytest.fixture
def workspace_copy(scored_workspace: Workspace, tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    shutil.copytree(scored_workspace.root, root)
    return open_workspace(root)


@pytest.fixture
def handler(workspace_copy: Workspace) -> InstantWarnings:
    context = HandlerContext(workspace_copy, workspace_copy.settings)
    made = load_handler("crew.stream.handler:instant_warnings", context)
    assert isinstance(made, InstantWarnings) and made.refresh is not None
    return made


def _refresh(handler: InstantWarnings) -> ScoreRefresh:
    assert handler.refresh is not None
    return handler.refresh


def _now(workspace: Workspace) -> datetime:
    """An instant after every stored row: where the online state answers for the present."""
    with workspace.reading() as conn:
        newest = latest_instant(conn)
    assert newest is not None
    return newest + timedelta(days=3)


def test_a_refreshed_score_equals_the_batch_score_at_the_same_instant(
    handler: InstantWarnings, workspace_copy: Workspace
) -> None:
    refresh = _refresh(handler)
    refresh.shift = 1e-9  # every move is material here
    refresh.budget_s = 60.0
    at = _now(workspace_copy)
    customers = sorted(handler.state.customers)
    refresh.mark({c: refresh._watched for c in customers})
    refreshed = refresh.run(micros(at))
    assert refreshed > 200 and not refresh.dirty

    with workspace_copy.reading() as conn:
        catalog = load_catalog(workspace_copy.root)
        bundle, _ = load_bundle(workspace_copy)
        features = features_at(conn, catalog, at)
        run = conn.execute(
            "SELECT customer_id, clv, clv_decline FROM scores WHERE as_of = ?", [RUN]
        ).df()
        at_run = features_at(conn, catalog, RUN)
    # What the stream cannot keep online comes from the run: the segment-wide index.
    assert refresh.offline == ["segment_shock_index"]
    features["segment_shock_index"] = at_run["segment_shock_index"].reindex(features.index)
    carried = run.set_index("customer_id").reindex(features.index)
    batch = score_features(
        catalog, bundle, features, at, rule=refresh.rule,
        clv=carried["clv"].to_numpy(), clv_decline=carried["clv_decline"].to_numpy(),
    )  # fmt: skip
    store = refresh.store
    compared = with_clv = 0
    for customer in customers:
        live = store.get(customer)
        if live is None:
            continue
        compared += 1
        expected = batch.loc[customer]
        assert live["as_of"] == at
        assert live["churn_probability"] == pytest.approx(expected["churn_probability"], abs=1e-9)
        assert live["risk_index"] == pytest.approx(expected["risk_index"], abs=1e-9)
        assert live["level"] == expected["level"]
        if np.isnan(expected["clv"]):
            assert live["clv"] is None
        else:
            assert live["clv"] == pytest.approx(expected["clv"])
            with_clv += 1
        assert [r["indicator"] for r in live["reasons"]] == [
            r["indicator"] for r in expected["reasons"]
        ]
        assert live["moved"], customer
    assert compared == refreshed
    assert with_clv > 0 or bundle.clv is None


def test_a_customer_is_scored_again_only_when_its_inputs_moved(
    handler: InstantWarnings, workspace_copy: Workspace
) -> None:
    refresh = _refresh(handler)
    refresh.budget_s = 60.0
    at = micros(_now(workspace_copy))
    customers = sorted(handler.state.customers)
    refresh.mark({c: refresh._watched for c in customers})
    first = refresh.run(at)
    assert 0 < first < len(customers)  # a month after the run, some moved ten points
    refresh.mark({c: refresh._watched for c in customers})
    assert refresh.run(at) == 0  # nothing moved since their last score
    assert refresh.stats.checked == 2 * len(customers)
    assert refresh.store.count() == first


def test_marks_ignore_aggregates_the_model_does_not_read(handler: InstantWarnings) -> None:
    refresh = _refresh(handler)
    refresh.mark({"C1": {"no_such_aggregate"}})
    assert not refresh.dirty
    refresh.mark({"C1": set(refresh._watched)})
    assert list(refresh.dirty) == ["C1"]


def test_a_round_stops_at_its_budget_and_keeps_the_rest(handler: InstantWarnings) -> None:
    refresh = _refresh(handler)
    ticks = iter(np.arange(0.0, 1000.0, 0.01))
    refresh.clock = lambda: float(next(ticks))
    refresh.budget_s = 0.035  # three clock readings per customer: one customer fits
    refresh.mark({c: refresh._watched for c in sorted(handler.state.customers)[:5]})
    refresh.run(micros(datetime(2025, 1, 5, tzinfo=UTC)))
    assert refresh.stats.checked < 5 and len(refresh.dirty) == 5 - refresh.stats.checked


def _purchases(customer: str, start: datetime, n: int) -> list[dict[str, object]]:
    return [
        {"table": "transactions", "txn_id": f"LIVE-{customer}-{i}", "customer_id": customer,
         "ts": (start + timedelta(hours=i)).isoformat(), "amount": 900.0 + i, "type": "purchase"}
        for i in range(n)
    ]  # fmt: skip


def test_a_burst_of_purchases_refreshes_the_score_the_api_shows(
    handler: InstantWarnings, workspace_copy: Workspace
) -> None:
    with workspace_copy.reading() as conn:
        customer, newest = conn.execute(
            "SELECT customer_id, max(ts) FROM transactions GROUP BY 1 ORDER BY 2 LIMIT 1"
        ).fetchone()  # the least recent buyer: twenty purchases move it
    start = max(newest, datetime(2025, 1, 1, tzinfo=UTC))
    handler([EVENT.validate_python(p) for p in _purchases(customer, start, 20)])
    handler.idle()  # the worker found nothing to read: the refresh's turn
    assert handler.stats.refreshed == 1
    live = _refresh(handler).store.get(customer)
    assert live is not None and live["as_of"] > RUN
    assert any(m["indicator"].startswith("txn_") for m in live["moved"])

    api = create_app(workspace_copy, workspace_copy.settings, bus=InProcessBus(
        workspace_copy.settings.stream))  # fmt: skip
    _, secret = api.state.crew.store.tokens.create("bot", TokenScope.READ, at=datetime.now(UTC))
    with TestClient(api) as client:
        body = client.get(
            f"/v1/customers/{customer}/risk", headers={"Authorization": f"Bearer {secret}"}
        ).json()
        other = next(c for c in sorted(handler.state.customers) if c != customer)
        untouched = client.get(
            f"/v1/customers/{other}/risk", headers={"Authorization": f"Bearer {secret}"}
        ).json()
    with workspace_copy.reading() as conn:
        page = customer_360(conn, handler.store, load_catalog(workspace_copy.root), customer,
                            Role.ANALYST)  # fmt: skip
    assert page.latest is not None and page.latest["source"] == "stream"
    assert page.latest["as_of"] == live["as_of"]
    assert body["score"]["source"] == "stream"
    assert body["score"]["churn_probability"] == pytest.approx(live["churn_probability"])
    assert body["score"]["moved"] == live["moved"]
    assert untouched["score"]["source"] == "run" and untouched["score"]["moved"] is None


def test_without_a_model_or_when_switched_off_nothing_is_refreshed(
    sim_workspace: Workspace, workspace_copy: Workspace, handler: InstantWarnings
) -> None:
    store = open_operational_store(sim_workspace, None)
    state = handler.state
    assert score_refresh(sim_workspace, sim_workspace.settings.stream, state,
                         store.live_scores) is None  # fmt: skip
    off = workspace_copy.settings.stream.model_copy(update={"refresh_scores": False})
    assert score_refresh(workspace_copy, off, state, store.live_scores) is None


def _frame(as_of: datetime, probability: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"as_of": [as_of], "state": ["scored"], "churn_probability": [probability],
         "risk_index": [50.0], "level": ["low"], "colour": ["yellow"], "fuzzy_index": [np.nan],
         "coverage": [1.0], "clv": [np.nan], "clv_decline": [np.nan],
         "dimension_scores": [{"behaviour": np.nan}], "reasons": [[]],
         "evidence_note": [None]},
        index=pd.Index(["C1"], name="customer_id"),
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[OperationalStore]:
    if request.param == "sqlite":
        with OperationalStore.in_memory() as store:
            yield store
        return
    with postgres_schema() as (_, url), OperationalStore.open(url) as store:
        yield store


def test_an_older_live_score_never_replaces_a_newer_one(store: OperationalStore) -> None:
    live = store.live_scores
    t1, t2 = datetime(2025, 1, 2, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC)
    now = datetime.now(UTC)
    live.save(_frame(t2, 0.3), model_version=1, moved=[[{"indicator": "x"}]], at=now)
    live.save(_frame(t1, 0.9), model_version=1, moved=[[]], at=now)  # a late, older refresh
    row = live.get("C1")
    assert row is not None and row["as_of"] == t2 and row["churn_probability"] == 0.3
    assert row["dimension_scores"] == {"behaviour": None}  # JSON has no NaN
    live.save(_frame(t2 + timedelta(hours=1), 0.5), model_version=2, moved=[[]], at=now)
    row = live.get("C1")
    assert row is not None and row["churn_probability"] == 0.5 and row["model_version"] == 2
    assert live.count() == 1


def test_a_failing_refresh_never_fails_the_batch(
    handler: InstantWarnings, workspace_copy: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(at: int) -> int:
        raise RuntimeError("model file unreadable")

    monkeypatch.setattr(_refresh(handler), "run", broken)
    with workspace_copy.reading() as conn:
        (customer,) = conn.execute("SELECT min(customer_id) FROM customers").fetchall()[0]
    handler(
        [
            EVENT.validate_python(p)
            for p in _purchases(customer, datetime(2025, 1, 2, tzinfo=UTC), 3)
        ]
    )
    handler.idle()
    assert handler.stats.events == 3 and handler.stats.refreshed == 0


def test_a_newer_run_becomes_the_reference(
    handler: InstantWarnings, workspace_copy: Workspace, cli: CliRunner
) -> None:
    refresh = _refresh(handler)
    refresh.reload_every_s = refresh._next_reload = 0.0
    assert refresh.reference.as_of == RUN
    later = RUN + timedelta(days=14)
    result = cli.invoke(app, ["-w", str(workspace_copy.root), "score", "--as-of",
                              later.date().isoformat()])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    refresh.run(micros(later))  # looks for it, on a thread of its own
    assert refresh._pending is not None
    refresh._pending.result(timeout=60)
    refresh.run(micros(later))  # applies it
    assert refresh.reference.as_of == later
    customer = sorted(handler.state.customers)[0]
    refresh.mark({customer: refresh._watched})
    refresh.shift = 1e-9
    assert refresh.run(micros(later)) == 0  # its inputs at the new run are its baseline now
