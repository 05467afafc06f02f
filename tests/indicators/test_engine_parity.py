"""One definition, two engines: DuckDB and Spark (local mode) give the same indicators."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from crew.indicators.catalog import load_catalog
from crew.indicators.compute import Engine, compute_indicators
from crew.store import Workspace, open_workspace
from crew.types import Industry

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("fixture", "profile"),
    [("sim_workspace", None), ("finance_workspace", Industry.FINANCE)],
)
def test_duckdb_and_spark_agree_on_every_indicator(
    fixture: str, profile: Industry | None, request: pytest.FixtureRequest
) -> None:
    workspace: Workspace = request.getfixturevalue(fixture)
    catalog = load_catalog()
    as_of = datetime(2024, 10, 15, 6, 30, tzinfo=UTC)
    duck = compute_indicators(workspace, catalog, as_of, profile=profile, store=False)
    spark = compute_indicators(
        workspace, catalog, as_of, profile=profile, engine=Engine.SPARK, store=False
    )
    assert duck.values.column_names == spark.values.column_names
    assert duck.values.num_rows == spark.values.num_rows > 300
    left = duck.values.to_pandas().set_index("customer_id").sort_index()
    right = spark.values.to_pandas().set_index("customer_id").sort_index()
    assert list(left.index) == list(right.index)
    informative = 0
    for name in left.columns:
        a, b = left[name].to_numpy(float), right[name].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        assert np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True), name
        informative += int(not np.isnan(a).all() and np.nanstd(a) > 0)
    # The comparison means something only if the indicators vary across customers.
    assert informative >= 30
    if profile == Industry.FINANCE:
        assert left["rapid_in_out_count_30d"].sum() > 0


def test_text_indicators_agree_on_both_engines(sim_workspace: Workspace, tmp_path: Path) -> None:
    """interaction_text (list columns, list_contains) read from Parquet by Spark."""
    shutil.copytree(sim_workspace.root, tmp_path / "ws")
    workspace = open_workspace(tmp_path / "ws")
    with workspace.connect() as conn:
        # Deterministic stand-ins for what `crew text analyze` writes (no text extra needed).
        conn.execute(
            "INSERT INTO interaction_text (interaction_id, customer_id, ts, kind, lang, "
            "sentiment, sentiment_label, topic, topics, urgency) "
            "SELECT interaction_id, customer_id, ts, kind, 'en', s, "
            "CASE WHEN s <= -0.2 THEN 'negative' WHEN s >= 0.2 THEN 'positive' "
            "ELSE 'neutral' END, 'other', "
            "list_filter(['cancellation_intent', 'privacy_data', 'regulator_threat'], "
            "lambda x, i: (h >> i) % 3 = 0), ((h >> 7) % 100) / 100.0 "
            "FROM (SELECT *, hash(interaction_id) AS h, "
            "((hash(interaction_id) % 200) / 100.0) - 1.0 AS s FROM interactions "
            "WHERE text IS NOT NULL)"
        )
    catalog = load_catalog()
    as_of = datetime(2024, 10, 15, 6, 30, tzinfo=UTC)
    names = [
        "negative_sentiment_share_30d",
        "sentiment_trend",
        "cancellation_intent_mentions_90d",
        "urgent_contact_count_30d",
        "privacy_topic_complaints_90d",
        "regulator_threat_mentions_90d",
    ]
    duck = compute_indicators(workspace, catalog, as_of, store=False).values.to_pandas()
    spark = compute_indicators(
        workspace, catalog, as_of, engine=Engine.SPARK, store=False
    ).values.to_pandas()
    for name in names:
        a, b = duck[name].to_numpy(float), spark[name].to_numpy(float)
        assert np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True), name
        assert np.nanstd(a) > 0, name
