"""The default stream handler: instant warnings through the API, quarantine, re-delivery."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import redis

from crew.api import create_app
from crew.config import StreamSettings
from crew.indicators.online_state import micros
from crew.ingest.bus import InProcessBus
from crew.ingest.events import EVENT, Event
from crew.store import RunRecord, Workspace
from crew.store.tokens import TokenScope
from crew.stream.handler import UNKNOWN_CUSTOMER, InstantWarnings
from crew.stream.online import CustomerDirectory
from crew.stream.worker import HandlerContext, Worker, load_handler
from crew.types import WarningState

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

NOW = datetime.now(UTC).replace(microsecond=0)


def contact(n: int, kind: str, customer: str = "C1", days_ago: float = 0.01) -> dict[str, object]:
    ts = NOW - timedelta(days=days_ago)
    return {"table": "interactions", "interaction_id": f"I{n}", "customer_id": customer,
            "ts": ts.isoformat(), "kind": kind}  # fmt: skip


def events(*payloads: dict[str, object]) -> list[Event]:
    return [EVENT.validate_python(p) for p in payloads]


@pytest.fixture
def known(workspace: Workspace) -> Workspace:
    """A workspace with customers C1 and C2 and a complaint of C1 two months ago."""
    with workspace.connect() as conn:
        conn.execute(
            "INSERT INTO customers (customer_id, segment, signup_date) "
            "VALUES ('C1', 'mass', DATE '2023-01-01'), ('C2', 'mass', DATE '2023-01-01')"
        )
        conn.execute(
            "INSERT INTO interactions (interaction_id, customer_id, ts, kind) "
            "VALUES ('I0', 'C1', ?, 'complaint')",
            [NOW - timedelta(days=60)],
        )
    return workspace


@pytest.fixture
def handler(known: Workspace) -> InstantWarnings:
    made = load_handler(
        "crew.stream.handler:instant_warnings", HandlerContext(known, known.settings)
    )
    assert isinstance(made, InstantWarnings)
    return made


def test_a_regulator_complaint_posted_to_the_api_opens_a_warning(known: Workspace) -> None:
    bus = InProcessBus(known.settings.stream)
    app = create_app(known, known.settings, bus=bus)
    context = HandlerContext(known, known.settings)
    handle = load_handler("crew.stream.handler:instant_warnings", context)
    worker = Worker(bus.subscribe("embedded"), handle, block_ms=10)
    _, secret = app.state.crew.store.tokens.create("bot", TokenScope.ADMIN, at=NOW)
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        posted = client.post("/v1/events", headers=auth, json=contact(1, "regulator_complaint"))
        assert posted.status_code == 202
        assert worker.run_once() == 1
        listed = client.get("/v1/alerts", headers=auth, params={"customer": "C1"}).json()
    assert listed["count"] == 1
    warning = listed["warnings"][0]
    assert (warning["risk_type"], warning["level"], warning["state"]) == (
        "trust_breakdown", "high", "open",
    )  # fmt: skip
    assert warning["signals"] == ["regulator_complaint"]
    assert warning["id"].startswith("trust_breakdown-C1-")
    assert warning["evidence"]["regulator_complaint"]["regulator_complaint_count"] == 1
    assert warning["reasons"][0]["signal"] == "regulator_complaint"


def test_an_unknown_customer_is_accepted_then_quarantined_with_the_reason(known: Workspace) -> None:
    bus = InProcessBus(known.settings.stream)
    app = create_app(known, known.settings, bus=bus)
    context = HandlerContext(known, known.settings)
    handle = load_handler("crew.stream.handler:instant_warnings", context)
    assert isinstance(handle, InstantWarnings)
    worker = Worker(bus.subscribe("embedded"), handle, block_ms=10)
    _, secret = app.state.crew.store.tokens.create("reader", TokenScope.READ, at=NOW)
    _, feed = app.state.crew.store.tokens.create("feed", TokenScope.INGEST, at=NOW)
    with TestClient(app) as client:
        posted = client.post(
            "/v1/events",
            headers={"Authorization": f"Bearer {feed}"},
            json=[contact(1, "regulator_complaint", customer="C404"), contact(2, "call")],
        )
        assert posted.status_code == 202 and posted.json() == {"accepted": 2}
        assert worker.run_once() == 2
        auth = {"Authorization": f"Bearer {secret}"}
        held = client.get("/v1/quarantine", headers=auth).json()
        alerts = client.get("/v1/alerts", headers=auth).json()
        refused = client.get("/v1/quarantine", headers={"Authorization": f"Bearer {feed}"})
    assert held["count"] == 1
    item = held["events"][0]
    assert (item["customer_id"], item["reason"]) == ("C404", UNKNOWN_CUSTOMER)
    assert item["event_key"] == "interactions:I1" and item["event"]["kind"] == "regulator_complaint"
    assert "C404" not in handle.state.customers
    assert alerts["count"] == 0
    assert refused.status_code == 403


def test_the_same_batch_delivered_twice_counts_once(handler: InstantWarnings) -> None:
    batch = events(
        contact(1, "regulator_complaint"),
        contact(2, "complaint"),
        contact(3, "complaint", customer="C404"),
    )
    handler(batch)
    handler(batch)  # the worker died before acknowledging: the bus hands it out again
    values = handler.state.values("C1", handler.event_time)
    assert values["regulator_complaint_count"] == 1
    assert values["complaint_count_prior_90d"] == 1  # the stored complaint, from the bootstrap
    assert values["complaint_count_30d"] == 1
    assert handler.stats.repeats == 2 and handler.stats.opened == 1
    assert len(handler.store.list_warnings()) == 1
    assert handler.store.quarantine.count() == 1


def test_a_complaint_surge_raises_a_warning(handler: InstantWarnings) -> None:
    weekly = [1, 2, 4, 8]  # complaints in each of the last four weeks, the newest last
    payloads = []
    for week, count in enumerate(weekly):
        for _ in range(count):
            ago = 7 * (3 - week) + 0.5 - len(payloads) / 1000  # later ones are newer
            payloads.append(contact(len(payloads) + 1, "complaint", "C2", days_ago=ago))
    handler(events(*payloads))
    raised = handler.store.list_warnings(customer_id="C2")
    assert [w.risk_type.value for w in raised] == ["complaint_surge"]
    assert raised[0].evidence["complaint_surge"]["weekly_counts"][-4:] == weekly


def test_the_stream_escalates_but_never_lowers_or_resolves(handler: InstantWarnings) -> None:
    first_seen = NOW - timedelta(days=3)
    opened = pd.DataFrame(
        {
            "customer_id": ["C1", "C1"],
            "risk_type": ["churn", "data_leakage"],
            "level": ["high", "low"],
            "score": [0.9, 2.0],
            "first_seen": [first_seen, first_seen],
        }
    )
    run = RunRecord("r1", first_seen, first_seen, first_seen, False, "x")
    handler.store.apply_run(run, opened, pd.DataFrame(), pd.DataFrame())
    ts = (NOW - timedelta(minutes=1)).isoformat()
    exposure = {"table": "events", "event_id": "E1", "customer_id": "C1", "ts": ts}
    exposure["kind"] = "data_exposure"
    handler(events(exposure, contact(1, "call")))
    by_type = {w.risk_type.value: w for w in handler.store.list_warnings(customer_id="C1")}
    assert by_type["churn"].level.value == "high" and by_type["churn"].state == WarningState.OPEN
    assert by_type["data_leakage"].level.value == "high"  # escalated in place, same id
    assert by_type["data_leakage"].first_seen == first_seen


def test_a_warning_in_cooldown_is_not_opened_again(handler: InstantWarnings) -> None:
    handler(events(contact(1, "regulator_complaint")))
    (warning,) = handler.store.list_warnings(customer_id="C1")
    handler.store.set_state(
        warning.id, WarningState.RESOLVED, actor="ops", at=NOW,
        cooldown_until=NOW + timedelta(days=90),
    )  # fmt: skip
    handler(events(contact(2, "regulator_complaint")))
    assert handler.store.list_warnings(customer_id="C1") == []
    assert handler.state.values("C1", micros(NOW))["regulator_complaint_count"] == 2


def test_events_stamped_in_the_future_are_quarantined(handler: InstantWarnings) -> None:
    handler(events(contact(1, "complaint", days_ago=-1)))
    (held,) = handler.store.quarantine.list()
    assert "ahead of the clock" in held.reason
    assert handler.state.values("C1", micros(NOW))["complaint_count_30d"] == 0


def test_a_customer_imported_later_is_known_after_a_reload() -> None:
    imported: dict[str, dict[str, object]] = {}
    directory = CustomerDirectory({}, lambda: dict(imported), refresh_s=0.0)
    assert not directory.knows("C9")
    imported["C9"] = {"segment": "mass"}
    assert directory.knows("C9") and directory.attributes("C9") == {"segment": "mass"}


REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def server_mode(known: Workspace) -> Iterator[HandlerContext]:
    """A context whose settings put the bus and the state log on Redis (own key prefix)."""
    prefix = f"crewtest-{uuid.uuid4().hex[:10]}"
    stream = StreamSettings(redis_url=REDIS, key_prefix=prefix)
    yield HandlerContext(known, known.settings.model_copy(update={"stream": stream}))
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_a_worker_continues_from_what_another_logged(server_mode: HandlerContext) -> None:
    first = load_handler("crew.stream.handler:instant_warnings", server_mode)
    second = load_handler("crew.stream.handler:instant_warnings", server_mode)  # restarted
    assert isinstance(first, InstantWarnings) and isinstance(second, InstantWarnings)
    first(events(contact(1, "complaint", days_ago=0.3)))
    second(events(contact(2, "complaint", days_ago=0.2)))
    assert second.state.values("C1", micros(NOW))["complaint_count_30d"] == 2
    first(events(contact(3, "complaint", days_ago=0.1)))  # the partition came back
    first(events(contact(2, "complaint", days_ago=0.2)))  # and an old delivery with it
    assert first.state.values("C1", micros(NOW))["complaint_count_30d"] == 3
    assert first.stats.repeats == 1
