"""`crew score --engine spark`: the registered model in mapInPandas gives the local scores."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.errors import EngineError
from crew.indicators.catalog import load_catalog
from crew.indicators.engines import spark_session
from crew.models.combining import CombineRule
from crew.models.dataset import features_at
from crew.models.registry import load_bundle
from crew.models.scoring import score_features
from crew.models.spark import assess_on_spark
from crew.store import Workspace, open_workspace

AS_OF = "2024-12-01"


@pytest.fixture(scope="module")
def trained(sim_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("spark-scoring") / "ws"
    shutil.copytree(sim_workspace.root, ws)
    args = ["-w", str(ws), "train", "--as-of", "2025-01-01", "--horizon", "60d"]
    result = CliRunner().invoke(app, [*args, "--snapshots", "5", "--json"])
    assert result.exit_code == 0, result.stderr
    return ws


def _score(ws: Path, out: Path, *extra: str) -> dict[str, object]:
    result = CliRunner().invoke(
        app, ["-w", str(ws), "score", "--as-of", AS_OF, "--out", str(out), "--json", *extra]
    )
    assert result.exit_code == 0, result.stderr
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def test_scores_do_not_depend_on_the_customers_scored_together(trained: Path) -> None:
    """What lets Spark split the customers over partitions: each row scores alone."""
    workspace = open_workspace(trained)
    catalog = load_catalog(trained)
    bundle, _ = load_bundle(workspace)
    assert bundle.indicator_grids
    as_of = datetime(2024, 12, 1, tzinfo=UTC)
    with workspace.connect() as conn:
        features = features_at(conn, catalog, as_of)
    rule = CombineRule()
    whole = score_features(catalog, bundle, features, as_of, rule=rule)
    parts = pd.concat(
        [
            score_features(catalog, bundle, features.iloc[i : i + 37], as_of, rule=rule)
            for i in range(0, len(features), 37)
        ]
    )
    assert (whole["level"] != "none").sum() > 10
    pd.testing.assert_frame_equal(whole, parts)
    # The logistic part centres one-hot columns on training frequencies, not on the batch.
    one = bundle.churn.contributions(features.iloc[:1])
    assert np.allclose(one.to_numpy(), bundle.churn.contributions(features).iloc[:1].to_numpy())


@pytest.mark.slow
def test_spark_engine_gives_the_local_scores(trained: Path, tmp_path: Path) -> None:
    workspace = open_workspace(trained)
    spark = spark_session(workspace.settings.spark)
    # Small Arrow batches: the 400 customers reach the workers in several pieces.
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
    result = CliRunner().invoke(
        app,
        [
            "-w",
            str(trained),
            "indicators",
            "compute",
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "i.parquet"),
        ],
    )
    assert result.exit_code == 0, result.stderr
    local = _score(trained, tmp_path / "local.parquet")
    remote = _score(
        trained,
        tmp_path / "spark.parquet",
        "--engine",
        "spark",
        "--indicators",
        str(tmp_path / "i.parquet"),
    )
    assert local["customers"] == remote["customers"] and local["levels"] == remote["levels"]
    left = pd.read_parquet(tmp_path / "local.parquet").set_index("customer_id").sort_index()
    right = pd.read_parquet(tmp_path / "spark.parquet").set_index("customer_id").sort_index()
    assert list(left.index) == list(right.index) and len(left) > 300
    assert set(left.columns) == set(right.columns)
    p, q = left["churn_probability"].to_numpy(float), right["churn_probability"].to_numpy(float)
    assert np.allclose(p, q, rtol=0, atol=1e-9)
    for column in ("risk_index", "fuzzy_index", "coverage", "clv", "clv_decline"):
        assert np.allclose(left[column], right[column], rtol=0, atol=1e-9, equal_nan=True), column
    for column in ("state", "level", "colour", "as_of", "evidence_note"):
        assert left[column].fillna("").tolist() == right[column].fillna("").tolist(), column
    for column in ("reasons", "dimension_scores"):
        assert [json.loads(v) for v in left[column]] == [json.loads(v) for v in right[column]]
    # The comparison means something only if customers were warned, with reasons.
    warned = left[left["level"] != "none"]
    assert len(warned) > 10 and all(json.loads(r) for r in warned["reasons"])
    assert left["clv"].notna().sum() > 100
    # Without --indicators the indicators are computed on DuckDB and exported for Spark.
    exported = _score(trained, tmp_path / "exported.parquet", "--engine", "spark")
    assert exported["levels"] == local["levels"]
    again = pd.read_parquet(tmp_path / "exported.parquet").set_index("customer_id").sort_index()
    assert np.allclose(again["churn_probability"], p, rtol=0, atol=1e-9)
    assert again["reasons"].tolist() == right["reasons"].tolist()


@pytest.mark.slow
def test_a_failed_spark_job_is_one_engine_error(trained: Path, tmp_path: Path) -> None:
    workspace = open_workspace(trained)
    bundle, _ = load_bundle(workspace)
    with pytest.raises(EngineError, match="Spark scoring failed: ") as caught:
        assess_on_spark(
            workspace.settings.spark,
            load_catalog(trained),
            bundle,
            datetime(2024, 12, 1, tzinfo=UTC),
            rule=CombineRule(),
            indicators=tmp_path / "missing.parquet",
        )
    assert "\n" not in str(caught.value) and "missing.parquet" in str(caught.value)


def test_an_unknown_engine_is_a_one_line_error(trained: Path, cli: CliRunner) -> None:
    result = cli.invoke(app, ["-w", str(trained), "score", "--as-of", AS_OF, "--engine", "dask"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: Unknown engine 'dask'."
    assert "Traceback" not in result.stderr
