"""Stream benchmark: events per second into the online state, next to raw Redis in one run.

The data comes from the simulator: CREW_BENCH_STREAM_CUSTOMERS customers over 12 months,
imported into a workspace cached under bench/.data/. Its newest CREW_BENCH_STREAM_EVENTS
rows (transactions, interactions and account events) are the stream; everything before
them is the history the online state starts from (the handler's bootstrap).

Measured in one process, each on a freshly bootstrapped state, in batches of 500 events:

- online state: `InstantWarnings.update`, each event validated already, folded into the
  per-customer windows (the ingest-to-indicator step);
- handler: the whole default handler (unknown customers, online state, each batch landed
  as Parquet, online signals graded, warnings opened in a SQLite operational store);
- worker on Redis: the events published on a `RedisBus`, then consumed by one `Worker`
  (XREADGROUP, processed marks, XACK and XDEL included), once with the online state update
  alone (the ingest-to-indicator throughput of the issue's target) and once with the whole
  handler;
- Redis ceiling: raw pipelined XADD of the events' JSON, then XREADGROUP + XACK of them,
  500 at a time, on one stream;
- latency: a producer process offers the events at 5,000 per second, one worker runs the
  whole handler; p50 / p99 / max of publish-to-stored (`bench/stream_latency.py`);
- with a churn model trained on the history (cached) and everyone scored at the split, the
  whole handler again with the model-score refresh on (`crew.stream.refresh`, default
  settings): events per second, customers checked and scored again, and the latency.

Ratios are printed against the raw XREADGROUP rate. Redis is CREW_BENCH_REDIS_URL (default
redis://127.0.0.1:6379/0); without it the Redis lines say so and the rest still runs.

Run on its own: `python bench/stream.py`.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import redis
from typer.testing import CliRunner

from crew.cli import app
from crew.config import StreamSettings
from crew.indicators.online_state import OnlineState
from crew.ingest import Mapping, SourceSpec, import_sources
from crew.ingest.events import Event, event_json
from crew.ingest.landing import Landing
from crew.ingest.redis_bus import RedisBus
from crew.pipeline import RunSetup
from crew.simulator import SimulationConfig, simulate
from crew.store import OperationalStore, Workspace, init_workspace, open_workspace
from crew.store.models import model_records
from crew.stream.handler import InstantWarnings
from crew.stream.monitor import Monitor
from crew.stream.online import CustomerDirectory, bootstrap, load_customers, stored_events
from crew.stream.refresh import score_refresh
from crew.stream.worker import Worker, freeze_startup_heap
from crew.types import Industry
from stream_latency import measure_latency  # type: ignore[import-not-found]

CACHE = Path(__file__).parent / ".data"
BATCH = 500
LATENCY_RATE = 5_000.0  # events/s offered in the latency run
LATENCY_SECONDS = 15.0


def workspace_of(customers: int) -> Workspace:
    """A simulated e-commerce workspace of `customers` x 12 months (cached)."""
    root = CACHE / f"stream_{customers}c_12m"
    if (root / "ws" / "crew.toml").exists():
        return open_workspace(root / "ws")
    files = root / "files"
    config = SimulationConfig(
        customers=customers, months=12, industry=Industry.ECOMMERCE, seed=5,
        start=date(2024, 1, 1), file_format="parquet",
    )  # fmt: skip
    simulate(config, out_dir=files)
    workspace = init_workspace(root / "ws")
    with workspace.connect() as conn:
        import_sources(conn, Mapping(sources=[SourceSpec(path=str(files))]), files)
    return workspace


def split_instant(workspace: Workspace, events: int) -> datetime:
    """The instant from which the newest `events` rows start."""
    with workspace.connect() as conn:
        found = conn.execute(
            "SELECT ts FROM (SELECT ts FROM transactions UNION ALL SELECT ts FROM interactions "
            "UNION ALL SELECT ts FROM events) ORDER BY ts DESC LIMIT 1 OFFSET ?",
            [events - 1],
        ).fetchone()
    assert found is not None, "the workspace holds fewer rows than asked for"
    start: datetime = found[0]
    return start


def trained(workspace: Workspace, start: datetime) -> None:
    """A churn model trained before `start` and everyone scored at `start` (once, cached)."""
    with workspace.connect() as conn:
        has_model = bool(model_records(conn))
        (scored,) = conn.execute("SELECT count(*) FROM scores").fetchall()[0]
    as_of = (start - timedelta(days=60)).date().isoformat()
    steps = (
        [] if has_model else [["train", "--as-of", as_of, "--horizon", "60d", "--snapshots", "5"]]
    )
    if not scored:
        steps.append(["score", "--as-of", f"{start:%Y-%m-%dT%H:%M:%S}"])
    for args in steps:
        result = CliRunner().invoke(app, ["-w", str(workspace.root), *args])
        assert result.exit_code == 0, result.stderr


def fresh_handler(
    workspace: Workspace, start: datetime, clock: datetime, *, refresh: bool = False
) -> InstantWarnings:
    """The default handler, its state bootstrapped with the rows before `start` (with the
    model-score refresh when `refresh`)."""
    setup = RunSetup.load(workspace.root, None, None)
    monitor = Monitor(setup.catalog, setup.specs, setup.rules)
    state = OnlineState(monitor.plan)
    with workspace.connect() as conn:
        customers = load_customers(conn)
        bootstrap(conn, state, start, customers=customers)
    store = OperationalStore.open(f"sqlite:///{tempfile.mkdtemp()}/ops.sqlite")
    # Landing on, as in `crew serve` and `crew worker` (each batch also written as Parquet).
    landing = Landing(Path(tempfile.mkdtemp()), "bench")
    rescoring = (
        score_refresh(workspace, StreamSettings(), state, store.live_scores) if refresh else None
    )
    handler = InstantWarnings(
        monitor, state, store, CustomerDirectory(customers), clock=lambda: clock, landing=landing,
        refresh=rescoring,
    )  # fmt: skip
    freeze_startup_heap()  # as `Worker.run` does before its loop
    return handler


def rate(events: list[Event], step: Callable[[list[Event]], object]) -> float:
    """Events per second of `step` over `events`, in batches."""
    started = time.perf_counter()
    for i in range(0, len(events), BATCH):
        step(events[i : i + BATCH])
    return len(events) / (time.perf_counter() - started)


def redis_rates(url: str, events: list[Event]) -> tuple[float, float] | None:
    """Raw XADD and XREADGROUP+XACK rates of the events' JSON on one stream."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        client.ping()
    except redis.RedisError:
        return None
    key, group = f"crewbench-{uuid.uuid4().hex[:8]}", "g"
    payloads = [event_json(e) for e in events]
    try:
        client.xgroup_create(key, group, id="0", mkstream=True)
        started = time.perf_counter()
        for i in range(0, len(payloads), BATCH):
            pipe = client.pipeline(transaction=True)
            for payload in payloads[i : i + BATCH]:
                pipe.xadd(key, {"event": payload})
            pipe.execute()
        xadd = len(payloads) / (time.perf_counter() - started)
        started, read = time.perf_counter(), 0
        while read < len(payloads):
            reply = client.xreadgroup(group, "c", {key: ">"}, count=BATCH)
            ids = [entry_id for _, entries in reply for entry_id, _ in entries]
            client.xack(key, group, *ids)
            read += len(ids)
        xread = len(payloads) / (time.perf_counter() - started)
    finally:
        client.delete(key)
        client.close()
    return xadd, xread


def worker_rate(url: str, events: list[Event], handler: Callable[[list[Event]], None]) -> float:
    """Events per second through a RedisBus and one Worker running `handler`."""
    prefix = f"crewbench-{uuid.uuid4().hex[:8]}"
    settings = StreamSettings(redis_url=url, key_prefix=prefix, max_len=len(events) + 1,
                              block_ms=10, batch=BATCH)  # fmt: skip
    bus = RedisBus(settings)
    try:
        for i in range(0, len(events), 5_000):
            bus.publish(events[i : i + 5_000])
        worker = Worker(bus.subscribe("bench"), handler, batch=BATCH, block_ms=10)
        started = time.perf_counter()
        while worker.stats.handled < len(events):
            worker.run_once()
        return len(events) / (time.perf_counter() - started)
    finally:
        keys = list(bus.redis.scan_iter(f"{prefix}:*"))
        if keys:
            bus.redis.delete(*keys)
        bus.close()


def bench_stream(events: int, customers: int, url: str) -> None:
    """Measure and print; see the module docstring."""
    workspace = workspace_of(customers)
    start = split_instant(workspace, events)
    with workspace.connect() as conn:
        stream = list(stored_events(conn, since=start, until=start + timedelta(days=3650)))
    clock = stream[-1].ts + timedelta(minutes=1)
    n = len(stream)
    updating = fresh_handler(workspace, start, clock)
    t_state = rate(stream, updating.update)
    whole = fresh_handler(workspace, start, clock)
    t_handler = rate(stream, whole)
    print(f"stream  {n:>10,} events of {customers:,} customers (history before {start:%Y-%m-%d})")
    print(f"        online state update       {t_state:>10,.0f} events/s")
    print(f"        whole handler (warnings)  {t_handler:>10,.0f} events/s   "
          f"{whole.stats.opened} warnings opened")  # fmt: skip
    raw = redis_rates(url, stream)
    if raw is None:
        print(f"        Redis at {url} does not answer: no Redis figures")
        return
    xadd, xread = raw
    t_ingest = worker_rate(url, stream, fresh_handler(workspace, start, clock).update)
    t_worker = worker_rate(url, stream, fresh_handler(workspace, start, clock))
    print(f"        Redis XADD (pipelined)    {xadd:>10,.0f} events/s")
    print(f"        Redis XREADGROUP + XACK   {xread:>10,.0f} events/s   (the ceiling)")
    print(f"        worker on Redis, state    {t_ingest:>10,.0f} events/s")
    print(f"        worker on Redis, handler  {t_worker:>10,.0f} events/s")
    print(f"        ratios to XREADGROUP: online state {t_state / xread:.2f}x, handler "
          f"{t_handler / xread:.2f}x, worker (state) {t_ingest / xread:.2f}x, "
          f"worker (handler) {t_worker / xread:.2f}x")  # fmt: skip
    print("        target: >= 20,000 events/s ingest-to-indicator for one worker")
    offered = stream[: int(LATENCY_RATE * LATENCY_SECONDS)]
    lat = measure_latency(url, offered, fresh_handler(workspace, start, clock), LATENCY_RATE)
    print(f"        latency at {lat.offered_rate:,.0f} events/s offered, {lat.events:,} events, "
          "one worker, whole handler:")  # fmt: skip
    print(f"          event to warning stored  p50 {lat.p50_ms:.1f} ms, p99 {lat.p99_ms:.1f} ms, "
          f"max {lat.max_ms:.1f} ms")  # fmt: skip
    print(f"          events of batches that opened warnings ({lat.warning_events:,}): "
          f"p99 {lat.warning_p99_ms:.1f} ms")  # fmt: skip
    print("        target: p99 event-to-warning latency < 100 ms at 5,000 events/s")
    trained(workspace, start)
    refreshing = fresh_handler(workspace, start, clock, refresh=True)
    t_refresh = rate(stream, refreshing)
    assert refreshing.refresh is not None
    done = refreshing.refresh.stats
    print(f"        whole handler + score refresh {t_refresh:>7,.0f} events/s   "
          f"{done.checked:,} customers checked, {done.refreshed:,} scored again "
          f"in {done.rounds} rounds ({t_refresh / t_handler:.2f}x the handler alone)")  # fmt: skip
    refreshing = fresh_handler(workspace, start, clock, refresh=True)
    lat = measure_latency(url, offered, refreshing, LATENCY_RATE)
    assert refreshing.refresh is not None
    again = refreshing.refresh.stats.refreshed
    print(f"          with score refresh: p50 {lat.p50_ms:.1f} ms, p99 {lat.p99_ms:.1f} ms, "
          f"max {lat.max_ms:.1f} ms; {again:,} scored again")  # fmt: skip


def main() -> None:
    """Run at the sizes in the environment."""
    bench_stream(
        int(os.environ.get("CREW_BENCH_STREAM_EVENTS", "200000")),
        int(os.environ.get("CREW_BENCH_STREAM_CUSTOMERS", "5000")),
        os.environ.get("CREW_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )


if __name__ == "__main__":
    main()
