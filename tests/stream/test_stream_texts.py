"""Texts in the stream: a streamed interaction's text is analysed before its signals are
graded, and the online text indicators end where `crew text analyze` + the batch do."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.stream._replay import started_handler

from crew.indicators.compute import compute_indicators
from crew.indicators.online_state import micros
from crew.ingest.events import EVENT
from crew.pipeline import RunSetup
from crew.store import Workspace, open_workspace
from crew.stream.handler import InstantWarnings
from crew.stream.monitor import Monitor
from crew.stream.online import stored_events
from crew.stream.texts import TextRows
from crew.text import analyze_store, build_analyzer
from crew.types import Table

DAY = datetime(2024, 10, 15, tzinfo=UTC)
END = DAY + timedelta(days=3)
TEXT_INDICATORS = (
    "negative_sentiment_share_30d",
    "sentiment_trend",
    "cancellation_intent_mentions_90d",
    "urgent_contact_count_30d",
    "privacy_topic_complaints_90d",
    "regulator_threat_mentions_90d",
)


def handler_for(workspace: Workspace, texts: TextRows | None) -> InstantWarnings:
    return started_handler(workspace, DAY, END, texts)


@pytest.fixture(scope="module")
def analysed(sim_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A copy of the simulated shop whose texts before DAY were analysed."""
    root = Path(tmp_path_factory.mktemp("texts")) / "ws"
    shutil.copytree(sim_workspace.root, root)
    workspace = open_workspace(root)
    with workspace.connect() as conn:
        analyze_store(conn, build_analyzer(root, conn), as_of=DAY)
    return workspace


@pytest.mark.slow
def test_streamed_texts_end_where_the_batch_analysis_does(analysed: Workspace) -> None:
    with analysed.connect() as conn:
        texts = TextRows.of_workspace(analysed, conn, _columns(analysed))
        days = list(stored_events(conn, since=DAY, until=END))
    assert texts is not None, "a workspace with analysed texts analyses them in the stream"
    handler = handler_for(analysed, texts)
    for start in range(0, len(days), 50):
        handler(days[start : start + 50])
    with analysed.connect() as conn:
        report = analyze_store(conn, texts.analyzer)  # the batch side reads the days' texts too
    assert report.analysed > 10
    batch = compute_indicators(analysed, handler.monitor.catalog, END, store=False)
    rows = batch.values.to_pylist()
    differences = []
    moved = 0
    for row in rows:
        online = handler.state.values(row["customer_id"], micros(END), TEXT_INDICATORS)
        for name in TEXT_INDICATORS:
            if not _same(row[name], online[name]):
                differences.append((row["customer_id"], name, row[name], online[name]))
        moved += bool(row["cancellation_intent_mentions_90d"] or row["urgent_contact_count_30d"])
    assert differences == []
    assert moved > 0, "no text indicator was non-zero: the comparison proves nothing"


def test_a_cancel_my_account_complaint_moves_the_indicator_in_its_own_batch(
    analysed: Workspace,
) -> None:
    with analysed.connect() as conn:
        texts = TextRows.of_workspace(analysed, conn, _columns(analysed))
        customer = conn.execute("SELECT min(customer_id) FROM customers").fetchone()[0]
    handler = handler_for(analysed, texts)
    at = micros(DAY + timedelta(hours=1))
    before = handler.state.values(customer, at, ["cancellation_intent_mentions_90d"])
    complaint = EVENT.validate_python({
        "table": "interactions", "interaction_id": "I-live-1", "customer_id": customer,
        "ts": (DAY + timedelta(minutes=5)).isoformat(), "kind": "complaint", "severity": 4,
        "text": "I want to close my account today, this is the last straw.",
    })  # fmt: skip
    changed = handler.update([complaint])
    after = handler.state.values(customer, at, ["cancellation_intent_mentions_90d"])
    assert (
        after["cancellation_intent_mentions_90d"] == before["cancellation_intent_mentions_90d"] + 1
    )
    assert "cancellation_intent_mentions_90d" in changed[customer]


def test_a_workspace_without_text_analysis_does_not_analyse_in_the_stream(
    sim_workspace: Workspace,
) -> None:
    with sim_workspace.connect() as conn:
        assert TextRows.of_workspace(sim_workspace, conn, _columns(sim_workspace)) is None


def _columns(workspace: Workspace) -> tuple[str, ...]:
    setup = RunSetup.load(workspace.root, None, None)
    return Monitor(setup.catalog, setup.specs, setup.rules).plan.columns[Table.INTERACTION_TEXT]


def _same(batch: object, online: object) -> bool:
    if batch is None or (isinstance(batch, float) and batch != batch):
        return online is None or (isinstance(online, float) and online != online)
    return online is not None and abs(float(online) - float(batch)) <= 1e-9  # type: ignore[arg-type]


def test_a_cancel_my_account_complaint_opens_a_churn_warning_at_once(analysed: Workspace) -> None:
    with analysed.connect() as conn:
        texts = TextRows.of_workspace(analysed, conn, _columns(analysed))
        customer = conn.execute(
            "SELECT max(customer_id) FROM customers WHERE customer_id NOT IN "
            "(SELECT customer_id FROM interaction_text WHERE list_contains(topics, "
            "'cancellation_intent'))"
        ).fetchone()[0]
    handler = handler_for(analysed, texts)
    complaint = EVENT.validate_python({
        "table": "interactions", "interaction_id": "I-live-2", "customer_id": customer,
        "ts": (DAY + timedelta(minutes=7)).isoformat(), "kind": "complaint",
        "text": "请帮我销户，我不想再用你们的服务了",
    })  # fmt: skip
    handler([complaint])
    opened = handler.store.active_warnings(customers=[customer])
    churn = opened[opened["risk_type"] == "churn"]
    assert len(churn) == 1, opened[["risk_type", "level"]].to_dict("records")
    assert "cancellation_intent" in str(churn.iloc[0].to_dict())
