"""How `crew score` runs the scoring: locally, or on Spark over Parquet."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from crew.errors import CrewError
from crew.indicators.catalog import Catalog
from crew.models.assessment import assess
from crew.models.combining import CombineRule
from crew.models.dataset import customer_attributes
from crew.models.registry import ModelBundle
from crew.models.spark import assess_on_spark, export_scoring_inputs
from crew.store.workspace import Workspace


def score_with(
    engine: str,
    workspace: Workspace,
    conn: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    bundle: ModelBundle,
    as_of: datetime,
    rule: CombineRule,
    indicators: Path | None,
) -> pd.DataFrame:
    """Every customer's assessment at `as_of` from `engine` ("local" or "spark").

    `indicators` is a Parquet file of indicator values to score instead of computing them.
    """
    if engine == "spark":
        folder = workspace.root / workspace.settings.spark.parquet_dir
        table, side = export_scoring_inputs(conn, catalog, bundle, as_of, folder, indicators)
        return assess_on_spark(
            workspace.settings.spark,
            catalog,
            bundle,
            as_of,
            rule=rule,
            indicators=table,
            side=side,
        )
    features = None
    if indicators is not None:
        values = pq.read_table(indicators).to_pandas()
        if "customer_id" not in values.columns:
            raise CrewError(
                f"{indicators} has no customer_id column.",
                hint="Write it with 'crew indicators compute --as-of DATE --out FILE.parquet'.",
            )
        features = values.set_index("customer_id").join(customer_attributes(conn))
    return assess(conn, catalog, bundle, as_of, rule=rule, features=features)


__all__ = ["score_with"]
