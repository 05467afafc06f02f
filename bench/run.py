"""`make bench`: CREW's speed as ratios against baselines measured in the same run.

Import: loading N transaction rows from Parquet into a workspace (typed, validated,
upserted, in one transaction) against DuckDB's own `CREATE TABLE AS SELECT * FROM
read_parquet(...)` of the same file into an empty database file.

Simulator: generating and writing a data set against re-writing the same tables with
pyarrow alone (the floor for any generator that has to produce those bytes).

Indicators: every built-in indicator for every customer (`compute_indicators`, end to end)
against one hand-written DuckDB query for the same numbers and against pandas; see
bench/indicators.py.

Text: interaction texts analysed per second (batch, one at a time, two processes); see
bench/text.py.

Pipeline: `crew run` at one instant for every customer once indicators are stored, per stage,
against the 180 s target for 1,000,000 customers and as a ratio over the indicator computation
measured in the same run; see bench/pipeline.py.

Models: training the churn model and the fuzzy evaluation on 1,000,000 examples and scoring
1,000,000 customers whose indicators are computed, against bare LightGBM train and predict
on the same rows; see bench/models.py.

Stream: events per second into the online state, through the whole stream handler and
through a worker on Redis Streams, next to the raw XADD/XREADGROUP rate measured in the same
run; see bench/stream.py.

Sizes: CREW_BENCH_ROWS (default 10,000,000), CREW_BENCH_SIM_CUSTOMERS (default 100,000),
CREW_BENCH_IND_CUSTOMERS (default 1,000,000), CREW_BENCH_IND_TXNS_PER_CUSTOMER (default 50),
CREW_BENCH_PANDAS_CUSTOMERS (default 100,000); also CREW_BENCH_IND_INTERACTIONS_PER_CUSTOMER
(default 21), CREW_BENCH_IND_EVENTS_PER_CUSTOMER (default 100), CREW_BENCH_TEXTS
(default 20,000) and CREW_BENCH_RUN_CUSTOMERS (default 1,000,000; rows per customer as for
the indicators, so that both share one cached workspace), CREW_BENCH_STREAM_EVENTS (default
200,000) and CREW_BENCH_STREAM_CUSTOMERS (default 5,000), CREW_BENCH_MODEL_EXAMPLES and
CREW_BENCH_MODEL_CUSTOMERS (default 1,000,000 each).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crew.ingest import Mapping, SourceSpec, import_sources
from crew.simulator import SimulationConfig, simulate
from crew.store import init_workspace
from crew.types import Industry
from indicators import main as bench_indicators
from models import main as bench_models
from pipeline import main as bench_pipeline
from stream import main as bench_stream
from text import main as bench_text

CACHE = Path(__file__).parent / ".data"


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _transactions_file(rows: int, customers: int) -> tuple[Path, Path]:
    """A Parquet transaction file of `rows` rows and its customers file (cached)."""
    CACHE.mkdir(exist_ok=True)
    txns, custs = CACHE / f"transactions_{rows}.parquet", CACHE / f"customers_{customers}.parquet"
    rng = np.random.default_rng(7)
    if not custs.exists():
        ids = np.char.add("C", np.arange(customers).astype(str))
        pq.write_table(
            pa.table({"customer_id": ids, "segment": rng.choice(["a", "b"], customers)}), custs
        )
    if not txns.exists():
        writer = None
        chunk = 2_000_000
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            seconds = 1_704_067_200 + rng.integers(0, 730 * 86_400, n)
            table = pa.table(
                {
                    "txn_id": np.char.add("T", np.arange(start, start + n).astype(str)),
                    "customer_id": np.char.add("C", rng.integers(0, customers, n).astype(str)),
                    "ts": pa.array(seconds.astype("datetime64[s]")).cast(
                        pa.timestamp("us", tz="UTC")
                    ),
                    "amount": np.round(rng.lognormal(3.5, 1.0, n), 2),
                    "type": rng.choice(["purchase", "refund"], n, p=[0.95, 0.05]),
                    "channel": rng.choice(["app", "web", "store"], n),
                    "category": rng.choice([f"cat{i}" for i in range(20)], n),
                }
            )
            writer = writer or pq.ParquetWriter(txns, table.schema)
            writer.write_table(table)
        assert writer is not None
        writer.close()
    return txns, custs


def bench_import(rows: int) -> None:
    txns, custs = _transactions_file(rows, max(rows // 50, 1_000))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)

        def baseline() -> None:
            conn = duckdb.connect(str(base / "baseline.duckdb"))
            conn.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{txns}')")
            conn.close()

        workspace = init_workspace(base / "ws")
        with workspace.connect() as conn:
            import_sources(
                conn, Mapping(sources=[SourceSpec(path=str(custs), table="customers")]), base
            )  # type: ignore[arg-type]

        def crew_import() -> None:
            with workspace.connect() as conn:
                mapping = Mapping(sources=[SourceSpec(path=str(txns), table="transactions")])  # type: ignore[arg-type]
                import_sources(conn, mapping, base)

        t_base = _timed(baseline)
        t_crew = _timed(crew_import)
        t_again = _timed(crew_import)  # re-import: every row replaces its older copy
    print(f"import  {rows:>12,} rows  DuckDB read_parquet CTAS {t_base:7.2f} s")
    pad = " " * 8
    print(f"{pad}crew import (validated, one txn)  {t_crew:7.2f} s   ratio {t_crew / t_base:5.2f}x")
    again = f"{t_again:7.2f} s   ratio {t_again / t_base:5.2f}x"
    print(f"{pad}crew re-import (upsert all rows)  {again}")
    print(f"{pad}target: first import under 2x the DuckDB baseline")


def bench_simulator(customers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sim"
        config = SimulationConfig(
            customers=customers,
            months=24,
            industry=Industry.ECOMMERCE,
            seed=1,
            start=date(2024, 1, 1),
            file_format="parquet",
        )
        summary = None

        def run() -> None:
            nonlocal summary
            summary = simulate(config, out_dir=out)

        t_sim = _timed(run)
        assert summary is not None
        tables = {name: pq.read_table(path) for name, path in summary.files.items()}
        again = Path(tmp) / "rewrite"
        again.mkdir()
        t_write = _timed(
            lambda: [pq.write_table(t, again / f"{n}.parquet") for n, t in tables.items()]
        )
        total = sum(summary.rows.values())
        shutil.rmtree(out)
    print(
        f"simulate {customers:>11,} customers x 24 months: {total:,} rows in {t_sim:.2f} s "
        f"(target < 60 s); pyarrow rewrite of the same tables {t_write:.2f} s, "
        f"ratio {t_sim / t_write:.1f}x"
    )


def main() -> None:
    rows = int(os.environ.get("CREW_BENCH_ROWS", "10000000"))
    customers = int(os.environ.get("CREW_BENCH_SIM_CUSTOMERS", "100000"))
    print(f"crew bench on {os.cpu_count()} cores (figures from this run only)")
    bench_import(rows)
    bench_simulator(customers)
    bench_indicators()
    bench_text()
    bench_pipeline()
    bench_models()
    bench_stream()


if __name__ == "__main__":
    main()
