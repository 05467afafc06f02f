"""Scoring on Apache Spark: a registered bundle applied in `mapInPandas` over Parquet.

The indicator table (one row per customer) is read from Parquet and left-joined with a
small side table of what the workspace knows per customer besides the indicators (the
attribute columns the model reads, CLV now and its change). Each Python worker loads the
bundle once, from a broadcast of the registered artifact's bytes, and runs
`crew.models.scoring.score_features` — the local engine's scoring function — on each Arrow
batch. Because that function is row-independent, any split of the customers over
partitions gives the local engine's scores.

Nested columns (dimension scores, reasons) travel as JSON text and are decoded on the
driver, so the result has the local engine's columns and values.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crew.config import SparkSettings
from crew.errors import CrewError, EngineError
from crew.indicators._compile import compile_indicators
from crew.indicators.catalog import Catalog
from crew.indicators.engines import run_duckdb, spark_session
from crew.models.assessment import clv_columns
from crew.models.combining import CombineRule
from crew.models.dataset import customer_attributes
from crew.models.registry import ModelBundle
from crew.models.scoring import OUTPUT_COLUMNS, score_features
from crew.types import Industry

CLV_COLUMNS = ("_crew_clv", "_crew_clv_decline")
_SCHEMA = (
    "customer_id string, state string, churn_probability double, risk_index double, "
    "level string, colour string, fuzzy_index double, coverage double, clv double, "
    "clv_decline double, dimension_scores string, reasons string, evidence_note string"
)
_LOADED: dict[str, ModelBundle] = {}  # per Python worker: artifact hash -> bundle


def export_scoring_inputs(
    conn: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    bundle: ModelBundle,
    as_of: datetime,
    folder: Path,
    indicators: Path | None = None,
) -> tuple[Path, Path]:
    """Write the Parquet inputs of a Spark scoring run: (indicator table, side table).

    `indicators` (customer_id plus indicator columns, e.g. from `crew indicators compute
    --out`) is used as it is; without it the indicators at `as_of` are computed on DuckDB
    and exported. The side table holds the customer attributes and the CLV columns.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"{as_of:%Y%m%dT%H%M%S}"
    attributes = customer_attributes(conn)
    if indicators is None:
        indicators = folder / f"scoring-indicators-{stamp}.parquet"
        if bundle.snapshot:
            values = pa.table({"customer_id": attributes.index.astype(str).to_numpy()})
        else:
            profile = None if bundle.profile == "all" else Industry(bundle.profile)
            values = run_duckdb(conn, compile_indicators(catalog, as_of, profile))
        pq.write_table(values, indicators)
    ids = pq.read_table(indicators, columns=["customer_id"]).column(0).to_pandas()
    clv, decline = clv_columns(conn, bundle, as_of, pd.Index(ids.astype(str)))
    side = attributes.reindex(pd.Index(ids.astype(str), name="customer_id"))
    side[CLV_COLUMNS[0]], side[CLV_COLUMNS[1]] = clv, decline
    side_path = folder / f"scoring-side-{stamp}.parquet"
    pq.write_table(pa.Table.from_pandas(side.reset_index(), preserve_index=False), side_path)
    return indicators, side_path


def assess_on_spark(
    settings: SparkSettings,
    catalog: Catalog,
    bundle: ModelBundle,
    as_of: datetime,
    *,
    rule: CombineRule,
    indicators: Path,
    side: Path | None = None,
) -> pd.DataFrame:
    """Score every row of the `indicators` Parquet on Spark with `bundle`; the local
    engine's output (index customer_id, sorted by it)."""
    if bundle.indicator_grids is None:
        raise EngineError(
            "This model was registered before Spark scoring was possible: its reasons "
            "rank values against the customers scored together, which Spark splits up.",
            hint="Retrain with 'crew train', or score with '--engine local'.",
        )
    artifact = pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL)
    spark = spark_session(settings)
    try:
        frame = spark.read.parquet(str(indicators))
        if side is not None:
            frame = frame.join(spark.read.parquet(str(side)), "customer_id", "left")
        shipped = spark.sparkContext.broadcast(artifact)
        key = hashlib.sha256(artifact).hexdigest()

        def score_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            bundle = _worker_bundle(key, shipped)
            for batch in batches:
                yield scored_batch(batch, bundle, catalog, as_of, rule)

        table: pa.Table = frame.mapInPandas(score_batches, _SCHEMA).toArrow()
    except CrewError:
        raise
    except Exception as exc:  # a failed job: say why in one line, not a JVM stack
        raise EngineError(
            f"Spark scoring failed: {_first_cause(exc)}",
            hint="Check spark.master in crew.toml and the Parquet input; "
            "'--engine local' scores on this machine.",
        ) from None
    return decoded(table.to_pandas(), as_of)


def _worker_bundle(key: str, shipped: Any) -> ModelBundle:
    """The bundle, unpickled once per Python worker (Spark reuses workers across tasks)."""
    if key not in _LOADED:
        bundle = pickle.loads(shipped.value)  # the registry's artifact, hash-checked on load
        assert isinstance(bundle, ModelBundle)
        _LOADED[key] = bundle
    return _LOADED[key]


def scored_batch(
    batch: pd.DataFrame,
    bundle: ModelBundle,
    catalog: Catalog,
    as_of: datetime,
    rule: CombineRule,
) -> pd.DataFrame:
    """One Arrow batch of customers scored by `score_features`, nested columns as JSON."""
    features = batch.set_index("customer_id")
    clv = features.pop(CLV_COLUMNS[0]).to_numpy(float) if CLV_COLUMNS[0] in features else None
    decline = features.pop(CLV_COLUMNS[1]).to_numpy(float) if CLV_COLUMNS[1] in features else None
    scores = score_features(
        catalog, bundle, features, as_of, rule=rule, clv=clv, clv_decline=decline
    ).drop(columns="as_of")
    scores["dimension_scores"] = [json.dumps(d) for d in scores["dimension_scores"]]
    scores["reasons"] = [json.dumps(r, ensure_ascii=False) for r in scores["reasons"]]
    return scores.reset_index()


def decoded(frame: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Spark's output back to the local engine's shape: JSON decoded, as_of added."""
    frame = frame.set_index("customer_id").sort_index()
    frame["as_of"] = as_of
    frame["dimension_scores"] = [json.loads(s) for s in frame["dimension_scores"]]
    frame["reasons"] = [json.loads(s) for s in frame["reasons"]]
    frame["evidence_note"] = (
        frame["evidence_note"].astype(object).where(frame["evidence_note"].notna(), None)
    )
    return frame[list(OUTPUT_COLUMNS)]


def _first_cause(exc: Exception) -> str:
    """The most telling line of a Spark failure (a Python error raised in a worker, if any)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines if "Error:" in line and not line.startswith("at ")]
    line = errors[-1] if errors else (lines[0] if lines else type(exc).__name__)
    return line[:300]


__all__ = ["CLV_COLUMNS", "assess_on_spark", "decoded", "export_scoring_inputs", "scored_batch"]
