"""No event lost, none counted twice: 3 worker processes, one killed with SIGKILL mid-way.

Real Redis on loopback, a key prefix of this test alone (deleted afterwards).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from crew.config import StreamSettings
from crew.ingest.bus import partition_of
from crew.ingest.events import Event, TransactionEvent
from crew.ingest.redis_bus import RedisBus

REDIS = "redis://127.0.0.1:6379/0"
WORKER = Path(__file__).with_name("_stream_counter.py")
EVENTS = 20_000
CUSTOMERS = 500
T0 = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def stream() -> Iterator[StreamSettings]:
    """Stream settings with short leases and claim times, under a prefix of this test."""
    prefix = f"crewtest-{uuid.uuid4().hex[:10]}"
    yield StreamSettings(
        redis_url=REDIS,
        key_prefix=prefix,
        partitions=4,
        max_len=EVENTS,
        claim_idle_ms=1_000,
        lease_ms=1_500,
        batch=50,
        block_ms=200,
    )
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def events() -> list[Event]:
    return [
        TransactionEvent(
            table="transactions",
            txn_id=f"T{n:06d}",
            customer_id=f"C{n % CUSTOMERS:04d}",
            ts=T0 + timedelta(seconds=n),
            amount=1.0,
        )
        for n in range(EVENTS)
    ]


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_and_nothing_counts_twice(
    stream: StreamSettings, tmp_path: Path
) -> None:
    prefix = stream.key_prefix
    client = redis.Redis.from_url(REDIS, decode_responses=True)
    env = {**os.environ, "CREW_TEST_STREAM": stream.model_dump_json(), "CREW_TEST_PAUSE_S": "0.05"}
    workers = {}
    logs = {}
    for name in ("w1", "w2", "w3"):
        logs[name] = (tmp_path / f"{name}.log").open("w")
        workers[name] = subprocess.Popen(
            [sys.executable, str(WORKER), name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=logs[name],
            text=True,
        )
    try:
        # All three share the partitions before the first event arrives.
        owners = [f"{prefix}:{{p{p}}}:owner" for p in range(4)]
        wait_for(lambda: client.zcard(f"{prefix}:workers") == 3, 60, "three workers")
        wait_for(
            lambda: (
                max(Counter(client.mget(owners)).values()) <= 2 and None not in client.mget(owners)
            ),
            10,
            "a fair share of partitions",
        )
        published = events()
        bus = RedisBus(stream)
        for start in range(0, EVENTS, 1000):
            bus.publish(published[start : start + 1000])
        expected = Counter(e.customer_id for e in published)
        assert {partition_of(c, 4) for c in expected} == {0, 1, 2, 3}

        # Kill a worker that is busy (it owns partitions) a quarter of the way through.
        effects = f"{prefix}:test:effects"
        wait_for(lambda: client.hlen(effects) >= EVENTS // 4, 60, "a quarter processed")
        busy = {client.get(key) for key in owners}
        victim = sorted(busy)[0]
        assert client.hlen(effects) < EVENTS * 3 // 4, "too fast to kill mid-way"
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].communicate(timeout=10)

        wait_for(lambda: client.hlen(effects) == EVENTS and bus.backlog() == 0, 120, "all")
        survivors = [name for name in workers if name != victim]
        stats = {}
        for name in survivors:
            workers[name].send_signal(signal.SIGTERM)
            out, _ = workers[name].communicate(timeout=20)
            assert workers[name].returncode == 0, (tmp_path / f"{name}.log").read_text()
            stats[name] = json.loads(out.strip().splitlines()[-1])
        bus.close()

        counts = {k: int(v) for k, v in client.hgetall(f"{prefix}:test:counts").items()}
        assert counts == dict(expected)  # exactly the published counts, per customer
        per_event = Counter(int(v) for v in client.hgetall(effects).values())
        assert per_event == {1: EVENTS}  # every event id took effect exactly once
        assert sum(s["reclaimed"] for s in stats.values()) > 0  # the victim's were taken over
        assert client.get(f"{prefix}:test:disorder") is None  # each customer's events in order
        assert workers[victim].returncode == -signal.SIGKILL
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=10)
        for log in logs.values():
            log.close()
        client.close()
