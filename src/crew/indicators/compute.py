"""Compute every indicator for every customer at an instant, on DuckDB or Spark, and store it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pyarrow as pa

from crew.indicators._compile import compile_indicators
from crew.indicators.catalog import Catalog
from crew.indicators.engines import export_parquet, run_duckdb, run_spark, spark_session
from crew.store.indicators import save_indicator_values
from crew.store.workspace import Workspace
from crew.types import Industry

Progress = Callable[[str, float], None]
"""Told (step, share done) as a computation advances."""


class Engine(StrEnum):
    """Where indicators are computed."""

    DUCKDB = "duckdb"
    SPARK = "spark"


@dataclass(frozen=True)
class IndicatorRun:
    """The values of one computation and how it went."""

    as_of: datetime
    profile: str
    engine: Engine
    values: pa.Table
    seconds: float

    @property
    def indicators(self) -> list[str]:
        """Names of the computed indicators."""
        return [c for c in self.values.column_names if c != "customer_id"]


def profile_name(profile: Industry | None) -> str:
    """Stored name of a profile choice ('all' when every indicator is computed)."""
    return profile.value if profile is not None else "all"


def compute_indicators(
    workspace: Workspace,
    catalog: Catalog,
    as_of: datetime,
    *,
    profile: Industry | None = None,
    engine: Engine = Engine.DUCKDB,
    store: bool = True,
    progress: Progress | None = None,
) -> IndicatorRun:
    """Indicators of `profile` at `as_of`, from data strictly before it; stored when asked."""
    tell = progress or (lambda step, share: None)
    started = time.perf_counter()
    with workspace.connect() as conn:
        if engine == Engine.DUCKDB:
            query = compile_indicators(catalog, as_of, profile, dialect="duckdb")
            values = run_duckdb(conn, query, lambda share: tell("computing", share))
        else:
            query = compile_indicators(catalog, as_of, profile, dialect="spark")
            parquet_dir = workspace.root / workspace.settings.spark.parquet_dir
            tell("exporting Parquet", 0.0)
            export_parquet(conn, ["customers", *[t.value for t in query.tables]], parquet_dir)
            tell("starting Spark", 0.2)
            spark = spark_session(workspace.settings.spark)
            tell("computing on Spark", 0.4)
            values = run_spark(spark, query, parquet_dir)
        seconds = time.perf_counter() - started
        if store:
            tell("storing", 0.95)
            save_indicator_values(
                conn,
                values,
                as_of=as_of,
                profile=profile_name(profile),
                engine=engine.value,
                catalog_sha256=catalog.sha256,
                seconds=seconds,
            )
    tell("done", 1.0)
    return IndicatorRun(as_of, profile_name(profile), engine, values, seconds)


__all__ = ["Engine", "IndicatorRun", "compute_indicators", "profile_name"]
