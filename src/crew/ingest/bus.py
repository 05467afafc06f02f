"""The event bus between `POST /v1/events` and the stream workers.

Two implementations of one protocol: an in-process queue (the embedded default, inside
`crew serve`) and Redis Streams (`crew.ingest.redis_bus`, for `crew worker` processes).
Events are spread over partitions by customer id, so one customer's events stay in order.

Delivery is at least once: a consumer acknowledges events after its handler succeeded, and
events a dead consumer left unacknowledged are reclaimed by another. Processed event keys
are remembered for `dedup_ttl_s`, so a redelivered event can be skipped.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from crew.config import StreamSettings
from crew.errors import BackpressureError
from crew.ingest.events import Delivery, Event


def partition_of(customer_id: str, partitions: int) -> int:
    """The partition of a customer's events: stable across processes and machines.

    >>> partition_of("C0001", 4), partition_of("C0001", 4) == partition_of("C0001", 4)
    (0, True)
    """
    return zlib.crc32(customer_id.encode("utf-8")) % partitions


class Subscription(Protocol):
    """One consumer's view of the bus; a `Worker` drives it."""

    consumer: str

    @property
    def taking_over(self) -> bool:
        """True while events of a partition's last owner wait to be reclaimed first."""

    def heartbeat(self) -> None:
        """Tell the bus this consumer is alive (and keep its partitions)."""

    def pending(self, count: int) -> list[Delivery]:
        """Events handed to this consumer earlier and not yet acknowledged, oldest first."""

    def new(self, count: int, block_ms: int) -> list[Delivery]:
        """Events never handed out, waiting up to `block_ms` for some."""

    def reclaim(self, count: int) -> list[Delivery]:
        """Events other consumers left unacknowledged for too long, taken over."""

    def unprocessed(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """The deliveries whose events were not processed before (first of any repeats)."""

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Mark the events processed and forget the deliveries."""

    def close(self) -> None:
        """Leave: unacknowledged events stay, for this consumer or another, to take later."""


class EventBus(Protocol):
    """Where events are published and from which consumers take them."""

    def publish(self, events: Sequence[Event]) -> int:
        """Put every event on the bus, or none; the number published.

        Raises:
            BackpressureError: a partition holds `max_len` unprocessed events or more.
            EventBusError: the bus cannot be reached.
        """

    def subscribe(self, consumer: str) -> Subscription:
        """A subscription for the consumer called `consumer`."""

    def backlog(self) -> int:
        """Events published and not yet acknowledged, over all partitions."""

    def ping(self) -> None:
        """Nothing if the bus is reachable; EventBusError if not."""

    def close(self) -> None:
        """Release connections."""


def open_bus(settings: StreamSettings) -> EventBus:
    """Redis Streams when `redis_url` is set, else a new in-process bus."""
    if settings.redis_url:
        from crew.ingest.redis_bus import RedisBus  # redis is needed only in server mode

        return RedisBus(settings)
    return InProcessBus(settings)


@dataclass
class _Held:
    delivery: Delivery
    consumer: str
    since: float


class InProcessBus:
    """An in-memory bus for one process: same semantics as Redis Streams, no durability."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self._ready = threading.Condition()
        self._queues: list[deque[Delivery]] = [deque() for _ in range(settings.partitions)]
        self._held: dict[str, _Held] = {}
        self._done: dict[str, float] = {}
        self._sequence = 0

    def publish(self, events: Sequence[Event]) -> int:
        """Queue every event, or none when a partition is full (BackpressureError)."""
        parts = [partition_of(e.customer_id, self.settings.partitions) for e in events]
        with self._ready:
            for part in sorted(set(parts)):
                held = sum(1 for h in self._held.values() if h.delivery.partition == part)
                if len(self._queues[part]) + held >= self.settings.max_len:
                    raise _full(part, self.settings)
            for event, part in zip(events, parts, strict=True):
                self._sequence += 1
                entry = f"{self._sequence}-0"
                self._queues[part].append(Delivery(entry, part, event))
            self._ready.notify_all()
        return len(events)

    def subscribe(self, consumer: str) -> InProcessSubscription:
        """A subscription for `consumer`."""
        return InProcessSubscription(self, consumer)

    def backlog(self) -> int:
        """Queued plus handed out and unacknowledged events."""
        with self._ready:
            return sum(len(q) for q in self._queues) + len(self._held)

    def ping(self) -> None:
        """Always reachable."""

    def close(self) -> None:
        """Nothing to release."""

    def _take(self, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        deadline = time.monotonic() + block_ms / 1000
        with self._ready:
            while not (ready := self._readable(consumer)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._ready.wait(left)
            taken: list[Delivery] = []
            now = time.monotonic()
            for part in ready:
                queue = self._queues[part]
                for _ in range(min(count, len(queue))):
                    delivery = queue.popleft()
                    self._held[delivery.entry_id] = _Held(delivery, consumer, now)
                    taken.append(delivery)
            return taken

    def _readable(self, consumer: str) -> list[int]:
        """Partitions with queued events and no events held by another consumer."""
        # Like a partition lease: while another consumer holds a partition's events, the
        # newer ones wait, so that one customer's events are handled in order.
        blocked = {h.delivery.partition for h in self._held.values() if h.consumer != consumer}
        return [p for p, queue in enumerate(self._queues) if queue and p not in blocked]

    def _pending(self, consumer: str, count: int, *, idle_ms: int | None = None) -> list[Delivery]:
        now = time.monotonic()
        with self._ready:
            if idle_ms is None:
                chosen = [h for h in self._held.values() if h.consumer == consumer]
            else:
                chosen = [
                    h
                    for h in self._held.values()
                    if h.consumer != consumer and (now - h.since) * 1000 >= idle_ms
                ]
            chosen = sorted(chosen, key=_position)[:count]
            for held in chosen:
                held.consumer, held.since = consumer, now
            return [h.delivery for h in chosen]

    def _unprocessed(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        now = time.monotonic()
        with self._ready:
            self._done = {k: until for k, until in self._done.items() if until > now}
            return _first_of_each(d for d in deliveries if d.event.key not in self._done)

    def _ack(self, deliveries: Sequence[Delivery]) -> None:
        until = time.monotonic() + self.settings.dedup_ttl_s
        with self._ready:
            for delivery in deliveries:
                self._done[delivery.event.key] = until
                self._held.pop(delivery.entry_id, None)
            self._ready.notify_all()  # a partition may no longer be blocked


class InProcessSubscription:
    """One consumer of an `InProcessBus`."""

    def __init__(self, bus: InProcessBus, consumer: str) -> None:
        self.consumer = consumer
        self._bus = bus

    @property
    def taking_over(self) -> bool:
        """Never: one process owns every partition."""
        return False

    def heartbeat(self) -> None:
        """Nothing to renew in one process."""

    def pending(self, count: int) -> list[Delivery]:
        """This consumer's unacknowledged events, oldest first."""
        return self._bus._pending(self.consumer, count)

    def new(self, count: int, block_ms: int) -> list[Delivery]:
        """Up to `count` queued events per partition, waiting up to `block_ms`."""
        return self._bus._take(self.consumer, count, block_ms)

    def reclaim(self, count: int) -> list[Delivery]:
        """Other consumers' events unacknowledged for `claim_idle_ms` or longer."""
        return self._bus._pending(self.consumer, count, idle_ms=self._bus.settings.claim_idle_ms)

    def unprocessed(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Deliveries whose events were not acknowledged before (first of any repeats)."""
        return self._bus._unprocessed(deliveries)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Remember the events as processed and drop the deliveries."""
        self._bus._ack(deliveries)

    def close(self) -> None:
        """Nothing to release; unacknowledged events can be reclaimed."""


def _position(held: _Held) -> tuple[int, int]:
    """Where a held event sits: its partition, then its place in the partition's order."""
    return held.delivery.partition, int(held.delivery.entry_id.split("-")[0])


def _first_of_each(deliveries: Iterable[Delivery]) -> list[Delivery]:
    """Deliveries in order, keeping only the first one of each event key."""
    seen: set[str] = set()
    kept: list[Delivery] = []
    for delivery in deliveries:
        if delivery.event.key not in seen:
            seen.add(delivery.event.key)
            kept.append(delivery)
    return kept


def _full(partition: int, settings: StreamSettings) -> BackpressureError:
    return BackpressureError(
        f"Partition {partition} holds {settings.max_len} or more unprocessed events; "
        "nothing was published.",
        retry_after=settings.retry_after_s,
        hint=f"Retry after {settings.retry_after_s} s; if it persists, start more workers "
        "or raise stream.max_len.",
    )


__all__ = [
    "EventBus",
    "InProcessBus",
    "InProcessSubscription",
    "Subscription",
    "open_bus",
    "partition_of",
]
