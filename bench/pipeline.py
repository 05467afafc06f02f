"""Pipeline benchmark: `crew run` at one instant for every customer, after indicators are computed.

The target (from the issue): `crew run` for 1,000,000 customers on 2 cores finishes in under
3 minutes once `crew indicators compute` has stored that instant's values.

Two measurements on the same workspace at the same `as_of`, each in its own child process
so that its peak resident memory (ru_maxrss) is its own:

- indicators: `compute_indicators(..., store=True)` for profile "all", what `crew indicators
  compute --as-of` does; the run below reads these stored values instead of computing them.
- run: `RunSetup.load` (built-in catalog, signals and thresholds, no churn model) and
  `run_at` into a fresh SQLite operational store (the `crew run` default), timed per stage.

The run's time is reported against the 180 s target and as a ratio over the indicator
computation measured in the same run: the cost of everything after the indicators, in units
of the indicators themselves.

The data is bench/indicators.py's generated workspace (customers with segment and signup
date, transactions, interactions, events, churn outcomes), cached under bench/.data/ by size
and shared with that benchmark.

Size: CREW_BENCH_RUN_CUSTOMERS (default 1,000,000); rows per customer from the indicator
benchmark's CREW_BENCH_IND_*_PER_CUSTOMER, so that at the default sizes both benchmarks use
one workspace; CREW_BENCH_RUN_REPEAT (default 1) measures that many times, keeping the fastest.
Run on its own: `python bench/pipeline.py`; `python bench/pipeline.py measure KIND WORKSPACE`
is the child entry.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from crew.indicators.catalog import load_catalog
from crew.indicators.compute import compute_indicators
from crew.pipeline import RunSetup, run_at
from crew.store import open_workspace
from crew.store.operational import OperationalStore
from indicators import (
    AS_OF,
    CACHE,
    Size,
    _cpu_seconds,
    _fmt_s,
    _gib,
    _machine_busy,
    _peak_rss,
    _warm,
    ensure_workspace,
)

TARGET_SECONDS = 180.0
STAGES = ("indicators", "models", "signals", "thresholds", "warnings")


@dataclass(frozen=True)
class Figures:
    """One measurement, as a child process reports it."""

    seconds: float
    cpu_seconds: float
    peak_rss: float
    query_seconds: float = 0.0  # indicators: compile + query, before storing
    setup_seconds: float = 0.0  # run: loading the rules and opening the operational store
    stages: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    shifts: int = 0


def measure(kind: str, root: Path) -> Figures:
    """Run one measurement ("indicators" or "run") in this process."""
    cpu_start = _cpu_seconds()
    workspace = open_workspace(root)
    if kind == "indicators":
        with workspace.connect() as conn:  # a fresh wide table, as on a first compute
            conn.execute("DROP TABLE IF EXISTS indicator_values")
            conn.execute("DELETE FROM indicator_runs")
            conn.execute("CHECKPOINT")
        started = time.perf_counter()
        run = compute_indicators(workspace, load_catalog(root), AS_OF, store=True)
        seconds = time.perf_counter() - started
        return Figures(
            seconds, _cpu_seconds() - cpu_start, float(_peak_rss()), query_seconds=run.seconds
        )
    if kind != "run":
        raise ValueError(kind)
    started = time.perf_counter()
    setup = RunSetup.load(root, None, None)
    with tempfile.TemporaryDirectory() as tmp:
        store = OperationalStore.open(f"sqlite:///{Path(tmp) / 'operational.sqlite'}")
        setup_seconds = time.perf_counter() - started
        with store, workspace.connect() as conn:
            ((stored,),) = conn.execute(
                "SELECT count(*) FROM indicator_runs WHERE as_of = ? AND profile = 'all'",
                [AS_OF],
            ).fetchall()
            if not stored:  # run_at would compute them itself and time the wrong thing
                raise RuntimeError("No stored indicators: measure 'indicators' first.")
            started = time.perf_counter()
            result = run_at(conn, store, setup, AS_OF, dry_run=False, root=root)
            seconds = time.perf_counter() - started
    return Figures(
        seconds,
        _cpu_seconds() - cpu_start,
        float(_peak_rss()),
        setup_seconds=setup_seconds,
        stages=result.seconds,
        counts=result.counts,
        shifts=len(result.shifts),
    )


def _child(kind: str, root: Path) -> Figures:
    """`measure` in a fresh interpreter, so that ru_maxrss is this measurement's alone."""
    done = subprocess.run(
        [sys.executable, __file__, "measure", kind, str(root)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return Figures(**json.loads(done.stdout.strip().splitlines()[-1]))


def _fastest(runs: list[Figures]) -> Figures:
    """Fastest of repeated runs (other load only ever slows a run down); its peak memory is
    the largest seen."""
    best = asdict(min(runs, key=lambda r: r.seconds))
    best["peak_rss"] = max(r.peak_rss for r in runs)
    return Figures(**best)


def bench_pipeline(
    customers: int,
    txns_per_customer: float = 50.0,
    interactions_per_customer: float = 21.0,
    events_per_customer: float = 100.0,
    repeat: int = 1,
) -> None:
    """Generate (or reuse) the workspace, compute indicators, run the pipeline, print."""
    size = Size(customers, txns_per_customer, interactions_per_customer, events_per_customer)
    root, rows, gen = ensure_workspace(size)
    made = f"generated in {_fmt_s(gen)}" if gen is not None else "cached"
    print(
        f"pipeline data: {rows['customers']:,} customers, {rows['transactions']:,} txns, "
        f"{rows['interactions']:,} interactions, {rows['events']:,} events, "
        f"{rows['outcomes']:,} churn outcomes ({made}, {root.relative_to(CACHE.parent.parent)})"
        f"; crew run at {AS_OF:%Y-%m-%d}, no churn model, SQLite operational store"
    )
    _warm(root)
    busy_start, wall_start = _machine_busy(), time.perf_counter()
    mine_start = _cpu_seconds(resource.RUSAGE_CHILDREN) + _cpu_seconds()
    computed, runs = [], []
    for _ in range(repeat):  # each run reads the values stored just before it
        computed.append(_child("indicators", root))
        runs.append(_child("run", root))
    others = None
    busy_end = _machine_busy()
    if busy_start is not None and busy_end is not None:
        mine = _cpu_seconds(resource.RUSAGE_CHILDREN) + _cpu_seconds() - mine_start
        capacity = (time.perf_counter() - wall_start) * (os.cpu_count() or 1)
        others = max(0.0, busy_end - busy_start - mine) / capacity
    _print_figures(rows["customers"], _fastest(computed), _fastest(runs), repeat, others)


def _print_figures(
    customers: int, ind: Figures, run: Figures, repeat: int, others: float | None
) -> None:
    met = "met" if run.seconds < TARGET_SECONDS else "MISSED"
    print(
        f"pipeline {customers:,} customers: crew run {_fmt_s(run.seconds)} after indicators "
        f"(crew indicators compute {_fmt_s(ind.seconds)}) -> ratio "
        f"{run.seconds / ind.seconds:.2f}x; {run.seconds / TARGET_SECONDS:.2f} of the 180 s "
        f"target ({met}); {customers / run.seconds:,.0f} customers/s; peak RSS "
        f"{_gib(run.peak_rss)} (indicators {_gib(ind.peak_rss)})"
    )
    pad = " " * 8
    laps = ", ".join(f"{name} {_fmt_s(run.stages.get(name, 0.0))}" for name in STAGES)
    print(
        f"{pad}stages: {laps} (indicators = reading the stored values); before run_at: "
        f"rules loaded and operational store opened in {_fmt_s(run.setup_seconds)}"
    )
    c = run.counts
    print(
        f"{pad}warnings opened {c['opened']:,} ({c['opened'] / customers:.1%} of customers: "
        f"high {c['opened_high']:,}, medium {c['opened_medium']:,}, low {c['opened_low']:,}; "
        f"{c.get('grouped_under_segment', 0):,} grouped under a segment warning); "
        f"segment shifts found {run.shifts}"
    )
    load = (
        f"; other processes used {others:.0%} of the machine's CPU meanwhile"
        + (" (wall times inflated)" if others > 0.1 else "")
        if others is not None
        else ""
    )
    print(
        f"{pad}indicators: compile + query {_fmt_s(ind.query_seconds)}, store "
        f"{_fmt_s(ind.seconds - ind.query_seconds)}; CPU seconds (user + sys): run "
        f"{_fmt_s(run.cpu_seconds)}, indicators {_fmt_s(ind.cpu_seconds)}; best of {repeat}, "
        f"each in its own process{load}"
    )


def main() -> None:
    """Run at the sizes in the environment (the same variables as `make bench`)."""
    bench_pipeline(
        int(os.environ.get("CREW_BENCH_RUN_CUSTOMERS", "1000000")),
        float(os.environ.get("CREW_BENCH_IND_TXNS_PER_CUSTOMER", "50")),
        float(os.environ.get("CREW_BENCH_IND_INTERACTIONS_PER_CUSTOMER", "21")),
        float(os.environ.get("CREW_BENCH_IND_EVENTS_PER_CUSTOMER", "100")),
        int(os.environ.get("CREW_BENCH_RUN_REPEAT", "1")),
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "measure":
        print(json.dumps(asdict(measure(sys.argv[2], Path(sys.argv[3])))))
    else:
        main()
