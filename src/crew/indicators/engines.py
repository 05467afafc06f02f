"""Engines that run a compiled indicator query: DuckDB (embedded) and Apache Spark."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from crew.config import SparkSettings
from crew.errors import EngineError
from crew.indicators._compile import CompiledQuery

Progress = Callable[[float], None]
"""Told the share (0..1) of the running query that is done."""


def run_duckdb(
    conn: duckdb.DuckDBPyConnection, query: CompiledQuery, progress: Progress | None = None
) -> pa.Table:
    """Run `query` on the workspace's DuckDB; report progress while it runs."""
    with _polling(conn, progress):
        return conn.sql(query.sql).to_arrow_table().drop_columns(["as_of"])


@contextmanager
def _polling(conn: duckdb.DuckDBPyConnection, progress: Progress | None) -> Iterator[None]:
    if progress is None:
        yield
        return
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.2):
            share = conn.query_progress()
            if share >= 0:
                progress(min(share / 100.0, 1.0))

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        progress(1.0)


def export_parquet(conn: duckdb.DuckDBPyConnection, tables: list[str], folder: Path) -> None:
    """Write canonical tables as Parquet files (`<folder>/<table>.parquet`) for Spark."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in tables:
        path = folder / f"{table}.parquet"
        conn.execute(f"COPY (SELECT * FROM {table}) TO '{path}' (FORMAT parquet)")


def spark_session(settings: SparkSettings) -> Any:
    """A Spark session configured like DuckDB: UTC clock, NULL on failed arithmetic."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError(
            "The Spark engine needs pyspark, which is not installed.",
            hint="Install the extra: pip install 'crew[spark]' (Java 17 or newer is needed too).",
        ) from None
    # Python workers (mapInPandas) import crew: by default they run this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        session = (
            SparkSession.builder.master(settings.master)
            .appName("crew-indicators")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.memory", settings.driver_memory)
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        return session
    except Exception as exc:  # Java missing, bad master URL: the JVM gateway says why
        raise EngineError(
            f"Spark did not start ({str(exc).strip().splitlines()[0]}).",
            hint="Check that Java 17+ is installed and that spark.master in crew.toml is right.",
        ) from None


def run_spark(spark: Any, query: CompiledQuery, parquet_dir: Path) -> pa.Table:
    """Run `query` on Spark over the Parquet export of the workspace's tables."""
    for table in ("customers", *[t.value for t in query.tables]):
        spark.read.parquet(str(parquet_dir / f"{table}.parquet")).createOrReplaceTempView(table)
    result: pa.Table = spark.sql(query.sql).drop("as_of").toArrow()
    return result


__all__ = ["export_parquet", "run_duckdb", "run_spark", "spark_session"]
