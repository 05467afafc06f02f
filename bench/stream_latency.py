"""Event-to-warning latency of one stream worker on Redis at a steady offered rate.

A producer process publishes the stream's events on a `RedisBus` at `rate` events per
second (every 5 ms, the events due by then, in one XADD transaction) and notes each event's
publish instant (taken before the XADD is sent). In this process one `Worker` runs the whole
default handler (online state, online signals graded, warnings opened in a SQLite
operational store) and notes the instant each batch's handler returned: every effect of the
event, its warning included, is stored by then. Latency = that instant - the publish
instant, per event; the percentiles are printed for all events and for the events of the
batches that opened or escalated warnings.

Both processes read the same wall clock (`time.time()` on one machine).
"""

from __future__ import annotations

import multiprocessing as mp
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from crew.config import StreamSettings
from crew.ingest.events import Event
from crew.ingest.redis_bus import RedisBus
from crew.stream.handler import InstantWarnings
from crew.stream.worker import Worker

TICK_S = 0.005


@dataclass(frozen=True)
class Latency:
    """What one latency run measured."""

    events: int
    offered_rate: float  # events/s the producer achieved
    p50_ms: float
    p99_ms: float
    max_ms: float
    warning_events: int  # events in batches that opened or escalated warnings
    warning_p99_ms: float


def _produce(settings_json: str, events: Sequence[Event], rate: float, out: mp.Queue) -> None:
    """Publish `events` at `rate` per second; put (key, publish instant) pairs on `out`."""
    bus = RedisBus(StreamSettings.model_validate_json(settings_json))
    published: list[tuple[str, float]] = []
    started, sent = time.time(), 0
    while sent < len(events):
        due = min(len(events), int((time.time() - started) * rate) + 1)
        if due > sent:
            chunk = events[sent:due]
            at = time.time()
            bus.publish(chunk)
            published += [(e.key, at) for e in chunk]
            sent = due
        time.sleep(TICK_S)
    bus.close()
    out.put((published, time.time() - started))


def measure_latency(
    url: str, events: Sequence[Event], handler: InstantWarnings, rate: float = 5_000.0
) -> Latency:
    """Run the producer and one worker over `events`; the latencies (see module docstring)."""
    prefix = f"crewbench-{uuid.uuid4().hex[:8]}"
    settings = StreamSettings(redis_url=url, key_prefix=prefix, max_len=len(events) + 1,
                              block_ms=100, batch=500)  # fmt: skip
    bus = RedisBus(settings)
    done: dict[str, float] = {}
    warned: set[str] = set()

    def timed(batch: list[Event]) -> None:
        before = handler.stats.opened + handler.stats.escalated
        handler(batch)
        at = time.time()
        done.update((e.key, at) for e in batch)
        if handler.stats.opened + handler.stats.escalated > before:
            warned.update(e.key for e in batch)

    worker = Worker(bus.subscribe("latency"), timed, batch=500, block_ms=100)
    worker.run_once()  # joins the group and takes the partitions before the clock starts
    queue: mp.Queue = mp.get_context("spawn").Queue()
    producer = mp.get_context("spawn").Process(
        target=_produce, args=(settings.model_dump_json(), list(events), rate, queue)
    )
    producer.start()
    try:
        while worker.stats.handled < len(events):
            worker.run_once()
        published, seconds = queue.get(timeout=60)
        producer.join(timeout=60)
    finally:
        keys = list(bus.redis.scan_iter(f"{prefix}:*"))
        if keys:
            bus.redis.delete(*keys)
        bus.close()
    ms = np.array([(done[k] - at) * 1000 for k, at in published])
    warned_ms = np.array([(done[k] - at) * 1000 for k, at in published if k in warned])
    return Latency(
        events=len(ms),
        offered_rate=len(ms) / seconds,
        p50_ms=float(np.percentile(ms, 50)),
        p99_ms=float(np.percentile(ms, 99)),
        max_ms=float(ms.max()),
        warning_events=len(warned_ms),
        warning_p99_ms=float(np.percentile(warned_ms, 99)) if len(warned_ms) else float("nan"),
    )


__all__ = ["Latency", "measure_latency"]
