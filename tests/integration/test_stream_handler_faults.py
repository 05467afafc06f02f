"""Issue #7's fault test with the real handler: 3 `crew worker` processes, one SIGKILLed.

A simulated workspace's newest 100,000 rows are held back (as `crew simulate --hold-out`
does) and published to Redis Streams, with a few events of unknown customers; three
`crew worker` processes with the default handler (`crew.stream.handler:instant_warnings`)
start from the history, write warnings to PostgreSQL and log their online state to Redis.
One is killed with SIGKILL while it holds a batch. At the end:

1. the online indicators rebuilt from the history and the Redis state log equal
   `compute_indicators` over history + stream, for every customer (exactly once in effect);
2. PostgreSQL holds at most one active warning per customer and risk type, ids unique;
3. the killed worker had handled events, and the others took its partitions over;
4. only the unknown customers' events are quarantined.

Real Redis and PostgreSQL on loopback; a key prefix and a schema of this test alone, both
deleted afterwards.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from tests.factories import PG_ADMIN, postgres_schema

from crew.config import StreamSettings
from crew.indicators.compute import compute_indicators
from crew.indicators.online_state import OnlineState, micros
from crew.ingest import Mapping, SourceSpec, import_sources
from crew.ingest.bus import partition_of
from crew.ingest.events import Event, TransactionEvent
from crew.ingest.redis_bus import RedisBus, stream_key
from crew.pipeline import RunSetup
from crew.simulator import SimulationConfig, simulate
from crew.simulator.holdout import hold_out
from crew.store import Workspace, init_workspace
from crew.store._ops_tables import ACTIVE_STATES
from crew.stream.handler import UNKNOWN_CUSTOMER
from crew.stream.monitor import Monitor
from crew.stream.online import bootstrap, latest_instant, load_customers, stored_events
from crew.stream.state_log import RedisStateLog
from crew.types import Industry

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REDIS = "redis://127.0.0.1:6379/0"
CREW = Path(sys.executable).with_name("crew")
CUSTOMERS = 1_000  # 12 simulated months of them hold about 190,000 rows
STREAMED = 100_000  # the newest rows, held back and published
UNKNOWN = 30  # events of customers the store does not know: the only ones to quarantine
PARTITIONS = 4
WORKERS = ("w1", "w2", "w3")


@dataclass(frozen=True)
class HeldOut:
    """The same simulation twice: the history alone (the workers' workspace), and whole."""

    history: Workspace
    full: Workspace
    events: list[Event]  # the held-back rows, oldest first
    end: datetime  # the day after the newest row


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> HeldOut:
    root = tmp_path_factory.mktemp("held")
    files = root / "files"
    config = SimulationConfig(
        customers=CUSTOMERS,
        months=12,
        industry=Industry.ECOMMERCE,
        seed=11,
        start=date(2024, 1, 1),
        file_format="parquet",
    )
    simulate(config, out_dir=files)
    full = init_workspace(root / "full")
    with full.connect() as conn:
        import_sources(conn, Mapping(sources=[SourceSpec(path=str(files))]), files)
        union = " UNION ALL ".join(f"SELECT ts FROM {t}" for t in ("transactions",
                                   "interactions", "events"))  # fmt: skip
        found = conn.execute(f"SELECT ts FROM ({union}) ORDER BY ts DESC LIMIT 1 OFFSET ?",
                             [STREAMED - 1]).fetchone()  # fmt: skip
        assert found is not None
        since: datetime = found[0]
        events = list(stored_events(conn, since=since, until=datetime(2100, 1, 1, tzinfo=UTC)))
    hold_out(files, since, root / "stream")
    history = init_workspace(root / "history")
    with history.connect() as conn:
        import_sources(conn, Mapping(sources=[SourceSpec(path=str(files))]), files)
        newest = latest_instant(conn)
    assert newest is not None and newest < since <= events[0].ts
    end = datetime.combine(events[-1].ts.date() + timedelta(days=1), datetime.min.time(), UTC)
    return HeldOut(history, full, events, end)


@pytest.fixture
def stream() -> Iterator[StreamSettings]:
    """Stream settings with short leases and claim times, under a prefix of this test."""
    prefix = f"crewtest-{uuid.uuid4().hex[:10]}"
    yield StreamSettings(
        redis_url=REDIS,
        key_prefix=prefix,
        partitions=PARTITIONS,
        max_len=STREAMED,
        claim_idle_ms=2_000,
        lease_ms=2_000,
        batch=200,
        block_ms=200,
    )
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{prefix}:*", count=10_000))
    for start in range(0, len(keys), 1_000):
        client.delete(*keys[start : start + 1_000])
    client.close()


@pytest.fixture
def operational_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (dropped afterwards) as the operational store's URL."""
    with postgres_schema() as (_, url):
        yield url


def wait_for(
    condition: Callable[[], bool], timeout_s: float, what: str, logs: dict[str, Path]
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {n}:\n{p.read_text()[-3000:]}" for n, p in logs.items())
            raise AssertionError(f"timed out waiting for {what}; the workers said:\n{tails}")
        time.sleep(0.02)


def unknown_events(at: datetime) -> list[Event]:
    return [
        TransactionEvent(
            table="transactions",
            txn_id=f"TX-UNKNOWN-{n}",
            customer_id=f"NOBODY-{n % 7}",
            ts=at + timedelta(minutes=n),
            amount=10.0,
        )
        for n in range(UNKNOWN)
    ]


def same(batch: object, online: object) -> bool:
    if batch is None or (isinstance(batch, float) and math.isnan(batch)):
        return online is None or (isinstance(online, float) and math.isnan(online))
    return online is not None and abs(float(online) - float(batch)) <= 1e-9  # type: ignore[arg-type]


def rebuilt_state(
    held: HeldOut, monitor: Monitor, stream: StreamSettings
) -> tuple[OnlineState, int]:
    """What a new worker would start from: the history, then the Redis state log (rows)."""
    state = OnlineState(monitor.plan)
    with held.history.connect() as conn:
        customers = load_customers(conn)
        newest = latest_instant(conn)
        assert newest is not None
        bootstrap(conn, state, newest + timedelta(microseconds=1), customers=customers)
    client = redis.Redis.from_url(REDIS, decode_responses=True, protocol=2)
    keep_s = max(monitor.plan.horizon_us.values()) // 1_000_000
    log = RedisStateLog(client, prefix=stream.key_prefix, partitions=PARTITIONS, keep_s=keep_s)
    logged = log.catch_up(state, customers)
    client.close()
    return state, logged


def test_a_killed_worker_with_the_real_handler_loses_nothing_and_doubles_nothing(
    held_out: HeldOut, stream: StreamSettings, operational_url: str, tmp_path: Path
) -> None:
    prefix = stream.key_prefix
    client = redis.Redis.from_url(REDIS, decode_responses=True)
    env = {
        **os.environ,
        "CREW_STORE__OPERATIONAL_URL": operational_url,
        **{f"CREW_STREAM__{k.upper()}": str(v) for k, v in stream.model_dump().items()},
    }
    workers: dict[str, subprocess.Popen[str]] = {}
    logs = {name: tmp_path / f"{name}.log" for name in WORKERS}
    owners = [f"{prefix}:{{p{p}}}:owner" for p in range(PARTITIONS)]
    try:
        # Side by side: workers open the workspace read-only, and the operational store's
        # migrations take a PostgreSQL advisory lock, so simultaneous starts are fine.
        for name in WORKERS:
            with logs[name].open("w") as log:
                workers[name] = subprocess.Popen(
                    [str(CREW), "worker", "--workspace", str(held_out.history.root),
                     "--consumer", name],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                )  # fmt: skip
        wait_for(lambda: client.zcard(f"{prefix}:workers") == len(WORKERS), 120, "all", logs)
        # All three share the partitions before the first event arrives.
        wait_for(
            lambda: (
                None not in client.mget(owners) and max(Counter(client.mget(owners)).values()) <= 2
            ),
            20,
            "a fair share of partitions",
            logs,
        )
        published = held_out.events + unknown_events(held_out.events[-1].ts)
        per_partition = Counter(partition_of(e.customer_id, PARTITIONS) for e in published)
        assert set(per_partition) == set(range(PARTITIONS))
        bus = RedisBus(stream)
        started = time.monotonic()
        for start in range(0, len(published), 5_000):
            bus.publish(published[start : start + 5_000])

        # Kill a worker once it has handled events of its partitions and holds a batch.
        def lengths() -> list[int]:
            return [client.xlen(stream_key(prefix, p)) for p in range(PARTITIONS)]

        chosen: list[str] = []

        def victim_in_a_batch() -> bool:
            if bus.backlog() > len(published) * 3 // 4:
                return False
            left = lengths()
            for p in range(PARTITIONS):
                name = client.get(owners[p])
                handled = per_partition[p] - left[p]
                if name and handled >= 2 * stream.batch and _pending(client, stream, name):
                    chosen.append(name)
                    return True
            return False

        wait_for(victim_in_a_batch, 120, "a quarter handled", logs)
        victim = chosen[0]
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait(timeout=10)
        handled_at_kill = len(published) - bus.backlog()
        assert handled_at_kill < len(published) * 9 // 10, "too fast to kill mid-way"
        held = [p for p in range(PARTITIONS) if client.get(owners[p]) == victim]
        left_behind = _pending(client, stream, victim)
        assert held and left_behind > 0  # killed with partitions and a batch in hand

        wait_for(lambda: bus.backlog() == 0, 180, "the backlog to drain", logs)
        drained_s = time.monotonic() - started
        bus.close()
        survivors = [name for name in WORKERS if name != victim]
        assert {client.get(key) for key in owners} <= set(survivors)  # partitions taken over
        stats = {}
        for name in survivors:
            workers[name].send_signal(signal.SIGTERM)
            workers[name].wait(timeout=30)
            text = logs[name].read_text()
            assert workers[name].returncode == 0, text
            found = re.search(r"(\d+) events handled, (\d+) duplicates skipped, (\d+) taken", text)
            assert found, text
            stats[name] = [int(n) for n in found.groups()]
        assert workers[victim].returncode == -signal.SIGKILL
        # (3) The victim handled (and acknowledged) what the survivors did not; the events it
        # held when it died were taken over.
        handled_by_survivors = sum(s[0] for s in stats.values())
        assert handled_by_survivors < len(published)
        assert sum(s[2] for s in stats.values()) >= left_behind

        # (4) Quarantined: the unknown customers' events, nothing else.
        schema = operational_url.rsplit("%3D", 1)[1]
        with psycopg.connect(PG_ADMIN) as pg:
            pg.execute(f"SET search_path TO {schema}")
            quarantined = pg.execute("SELECT event_key, reason FROM quarantine").fetchall()
            warnings = pg.execute(
                "SELECT id, customer_id, risk_type, state FROM warnings"
            ).fetchall()
            notified_twice = pg.execute(
                "SELECT warning_id, event, level FROM outbox GROUP BY 1, 2, 3 HAVING count(*) > 1"
            ).fetchall()
            active = pg.execute(
                "SELECT customer_id, risk_type, count(*) FROM warnings "
                "WHERE state = ANY(%s) GROUP BY 1, 2 HAVING count(*) > 1",
                [list(ACTIVE_STATES)],
            ).fetchall()
        assert sorted(quarantined) == sorted(
            (e.key, UNKNOWN_CUSTOMER) for e in published if e.customer_id.startswith("NOBODY")
        )
        # (2) No warning twice.
        assert len(warnings) >= 10
        assert len({w[0] for w in warnings}) == len(warnings)
        assert active == []
        assert notified_twice == []

        # (1) Exactly once in effect: history + state log == the batch computation.
        setup = RunSetup.load(held_out.full.root, None, None)
        monitor = Monitor(setup.catalog, setup.specs, setup.rules)
        state, logged = rebuilt_state(held_out, monitor, stream)
        assert logged >= STREAMED  # every streamed row (and any text rows) reached the log
        batch = compute_indicators(held_out.full, monitor.catalog, held_out.end, store=False)
        compared = [c for c in batch.indicators if c in monitor.plan.order]
        rows = batch.values.to_pylist()
        assert len(rows) == CUSTOMERS and len(compared) >= 40
        differences = []
        for row in rows:
            online = state.values(row["customer_id"], micros(held_out.end))
            differences += [
                (row["customer_id"], c, row[c], online[c])
                for c in compared
                if not same(row[c], online[c])
            ]
        assert differences[:20] == []
        print(
            f"{len(published)} events, drained in {drained_s:.1f} s; killed {victim} after "
            f"{handled_at_kill} with {left_behind} in hand; survivors {stats}; "
            f"{len(warnings)} warnings"
        )
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        client.close()


def _pending(client: redis.Redis, stream: StreamSettings, consumer: str | None) -> int:
    """Entries delivered to `consumer` and not acknowledged, over all partitions."""
    if consumer is None:
        return 0
    total = 0
    for p in range(stream.partitions):
        for entry in client.xinfo_consumers(stream_key(stream.key_prefix, p), stream.group):
            if entry["name"] == consumer:
                total += int(entry["pending"])
    return total
