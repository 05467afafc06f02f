"""The event bus on Redis Streams: one stream per partition, one consumer group of workers.

Publishing is one MULTI of XADDs after an XLEN check per partition (429 rather than an
unbounded stream). Workers read with XREADGROUP, acknowledge with XACK and then XDEL, so a
stream's length is exactly its unprocessed events; they take over a dead worker's events
with XAUTOCLAIM. Each processed event leaves a mark, its key in a per-partition set of
the current time bucket (`processed_mark`; a bucket lasts `dedup_ttl_s` and is kept for two),
so a redelivered event is skipped. Marks are checked and set with one command per partition
and bucket, not per event. A handler that needs exactly-once effects adds that same mark
atomically with its effect (e.g. SADD in one Lua script, effect only when it returns 1).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import cast
from urllib.parse import urlsplit

import redis
from pydantic import ValidationError
from redis.typing import EncodableT, FieldT, KeyT, StreamIdT

from crew.config import StreamSettings
from crew.errors import EventBusError
from crew.ingest._leases import PartitionLeases
from crew.ingest._marks import MARKED, SETTLE, Scripts, bucket_at, processed_mark, processed_set
from crew.ingest.bus import _first_of_each, _full, partition_of
from crew.ingest.events import Delivery, Event, event_from_json, event_json

log = logging.getLogger(__name__)

_FIELD = "event"
Entries = list[tuple[str, dict[str, str] | None]]


def stream_key(prefix: str, partition: int) -> str:
    """Redis key of a partition's stream (hash-tagged with its partition).

    >>> stream_key("crew", 0)
    'crew:{p0}:events'
    """
    return f"{prefix}:{{p{partition}}}:events"


def dead_letter_key(prefix: str) -> str:
    """Redis stream where entries that are not valid events are moved, with the reason."""
    return f"{prefix}:dead"


@contextmanager
def _reaching(settings: StreamSettings) -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        where = urlsplit(settings.redis_url or "")
        server = f"{where.hostname or '?'}:{where.port or 6379}"
        raise EventBusError(
            f"The event bus (Redis at {server}) failed: {type(exc).__name__}.",
            hint="Check that Redis is running and that stream.redis_url "
            "(or CREW_STREAM__REDIS_URL) is right.",
        ) from None


class RedisBus:
    """Events on Redis Streams, partitioned by customer id."""

    def __init__(self, settings: StreamSettings, client: redis.Redis | None = None) -> None:
        self.settings = settings
        timeout = max(5.0, settings.block_ms / 1000 + 5)
        self.redis = client or redis.Redis.from_url(
            settings.redis_url or "redis://127.0.0.1:6379/0",
            decode_responses=True,
            protocol=2,
            socket_timeout=timeout,
        )
        # Replies of XREADGROUP stay as the parser gave them ([key, [[id, [field, value]]]]):
        # redis-py's per-entry dicts cost more than the read itself.
        self.redis.set_response_callback("XREADGROUP", _unparsed)
        self._keys = [stream_key(settings.key_prefix, p) for p in range(settings.partitions)]
        self._grouped = False
        self.scripts = Scripts(
            self.redis.register_script(MARKED),
            self.redis.register_script(SETTLE),
        )

    def publish(self, events: Sequence[Event]) -> int:
        """XADD every event in one transaction, or none if a partition is full."""
        if not events:
            return 0
        payloads: dict[int, list[str]] = defaultdict(list)
        for event in events:
            payloads[partition_of(event.customer_id, self.settings.partitions)].append(
                event_json(event)
            )
        with _reaching(self.settings):
            self._ensure_groups()
            parts = sorted(payloads)
            pipe = self.redis.pipeline(transaction=False)
            for part in parts:
                pipe.xlen(self._keys[part])
            for part, length in zip(parts, pipe.execute(), strict=True):
                if int(length) >= self.settings.max_len:
                    raise _full(part, self.settings)
            pipe = self.redis.pipeline(transaction=True)
            for part in parts:
                for payload in payloads[part]:
                    pipe.xadd(self._keys[part], {_FIELD: payload})
            pipe.execute()
        return len(events)

    def subscribe(self, consumer: str) -> RedisSubscription:
        """A subscription for `consumer` (its partitions come with its first heartbeat)."""
        with _reaching(self.settings):
            self._ensure_groups()
        return RedisSubscription(self, consumer)

    def backlog(self) -> int:
        """Sum of the streams' lengths: acknowledged events are deleted, so all unprocessed."""
        with _reaching(self.settings):
            pipe = self.redis.pipeline(transaction=False)
            for key in self._keys:
                pipe.xlen(key)
            return sum(int(n) for n in pipe.execute())

    def ping(self) -> None:
        """PING; EventBusError if Redis does not answer."""
        with _reaching(self.settings):
            self.redis.ping()

    def close(self) -> None:
        """Close the connection pool."""
        self.redis.close()

    def _ensure_groups(self) -> None:
        if self._grouped:
            return
        for key in self._keys:
            try:
                self.redis.xgroup_create(key, self.settings.group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._grouped = True


class RedisSubscription:
    """One worker's consumer in the group, reading only the partitions it holds a lease on."""

    def __init__(self, bus: RedisBus, consumer: str) -> None:
        self.consumer = consumer
        self._bus = bus
        self._s = bus.settings
        self._leases = PartitionLeases(
            bus.redis, self._s.key_prefix, self._s.partitions, self._s.lease_ms
        )
        self.owned: set[int] = set()
        self.recovering: set[int] = set()  # taken over: the last owner's events come first
        self._in_flight: dict[str, int] = {}
        self._next_beat = 0.0

    @property
    def taking_over(self) -> bool:
        """True while a partition's last owner left events that `reclaim` must take first."""
        return bool(self.recovering)

    def heartbeat(self) -> None:
        """Renew leases, take a fair share of partitions, release surplus ones.

        Does nothing more often than three times per lease, so it can be called every loop.
        """
        now = time.monotonic()
        if now < self._next_beat:
            return
        self._next_beat = now + self._s.lease_ms / 3000
        busy = set(self._in_flight.values())
        with _reaching(self._s):
            self.owned, gained = self._leases.rebalance(self.consumer, busy)
            # A partition whose last owner left nothing unacknowledged can be read at once.
            gained = {p for p in gained if self._others_pending(self._bus._keys[p])}
        self.recovering = (self.recovering & self.owned) | gained

    def pending(self, count: int) -> list[Delivery]:
        """This consumer's unacknowledged events in its partitions (XREADGROUP from 0)."""
        return self._read(sorted(self.owned), "0", count, None)

    def new(self, count: int, block_ms: int) -> list[Delivery]:
        """New events of the partitions it owns and has finished taking over."""
        return self._read(sorted(self.owned - self.recovering), ">", count, block_ms)

    def reclaim(self, count: int) -> list[Delivery]:
        """XAUTOCLAIM events idle for `claim_idle_ms` in its partitions; end take-overs."""
        deliveries: list[Delivery] = []
        with _reaching(self._s):
            for part in sorted(self.owned):
                key = self._bus._keys[part]
                _, entries, _ = self._bus.redis.xautoclaim(
                    key,
                    self._s.group,
                    self.consumer,
                    min_idle_time=self._s.claim_idle_ms,
                    start_id="0-0",
                    count=count,
                )
                deliveries += self._deliveries(part, cast(Entries, entries))
                if part in self.recovering and not self._others_pending(key):
                    self.recovering.discard(part)
        if deliveries:
            log.info("%s took over %d unacknowledged events", self.consumer, len(deliveries))
        return deliveries

    def unprocessed(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Deliveries whose events carry no processed mark (first of any repeats).

        A mark is looked for in its partition's sets of this bucket and the one before, so
        it is remembered for at least `dedup_ttl_s`.
        """
        if not deliveries:
            return []
        by_partition = _by_partition(deliveries)
        bucket = bucket_at(self._s)
        with _reaching(self._s):
            pipe = self._bus.redis.pipeline(transaction=False)
            for part, mine in by_partition.items():
                self._bus.scripts.marked(
                    keys=[processed_set(self._s, part, b) for b in (bucket, bucket - 1)],
                    args=[json.dumps([d.event.key for d in mine])],
                    client=pipe,
                )
            replies = pipe.execute()
        marked = {
            mine[int(i) - 1].entry_id
            for mine, found in zip(by_partition.values(), replies, strict=True)
            for i in found
        }
        return _first_of_each(d for d in deliveries if d.entry_id not in marked)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Mark the events processed, then XACK and XDEL their entries (one script per
        partition, all in one pipeline)."""
        if not deliveries:
            return
        bucket = bucket_at(self._s)
        expire_at = (bucket + 2) * self._s.dedup_ttl_s
        with _reaching(self._s):
            pipe = self._bus.redis.pipeline(transaction=False)
            for part, mine in _by_partition(deliveries).items():
                self._bus.scripts.settle(
                    keys=[self._bus._keys[part], processed_set(self._s, part, bucket)],
                    args=[
                        self._s.group,
                        expire_at,
                        json.dumps([d.event.key for d in mine]),
                        json.dumps([d.entry_id for d in mine]),
                    ],
                    client=pipe,
                )
            pipe.execute()
        for delivery in deliveries:
            self._in_flight.pop(delivery.entry_id, None)

    def close(self) -> None:
        """Release the leases at once; unacknowledged events stay to be reclaimed."""
        with _reaching(self._s):
            self._leases.leave(self.consumer, self.owned)
        self.owned, self.recovering = set(), set()

    def _read(self, parts: list[int], start: str, count: int, block: int | None) -> list[Delivery]:
        if not parts:
            if block:  # nothing to read yet: wait as a blocking read would
                time.sleep(min(block, self._s.lease_ms // 3) / 1000)
            return []
        streams: dict[KeyT, StreamIdT] = {self._bus._keys[p]: start for p in parts}
        with _reaching(self._s):
            reply = self._bus.redis.xreadgroup(
                self._s.group, self.consumer, streams, count=count, block=block
            )
        index = {self._bus._keys[p]: p for p in parts}
        deliveries: list[Delivery] = []
        for key, entries in cast(list[tuple[str, list[tuple[str, list[str] | None]]]], reply or []):
            pairs: Entries = [(e, _fields(f)) for e, f in entries]
            deliveries += self._deliveries(index[key], pairs)
        return deliveries

    def _deliveries(self, part: int, entries: Entries) -> list[Delivery]:
        """Valid events as deliveries; entries deleted or not events are settled here."""
        settle = [entry_id for entry_id, fields in entries if not fields]  # deleted while pending
        present = [(entry_id, fields) for entry_id, fields in entries if fields]
        events = _parse_all([fields.get(_FIELD, "") for _, fields in present])
        deliveries: list[Delivery] = []
        key = self._bus._keys[part]
        for (entry_id, fields), event in zip(present, events, strict=True):
            if isinstance(event, ValidationError):
                self._dead_letter(key, entry_id, fields, event)
                settle.append(entry_id)
                continue
            deliveries.append(Delivery(entry_id, part, event))
            self._in_flight[entry_id] = part
        if settle:
            with _reaching(self._s):
                self._bus.redis.xack(key, self._s.group, *settle)
                self._bus.redis.xdel(key, *settle)
        return deliveries

    def _dead_letter(
        self, key: str, entry_id: str, fields: dict[str, str], error: ValidationError
    ) -> None:
        """Put there by another system: kept aside with the reason, never logged."""
        reason = "; ".join(f"{e['loc']}: {e['msg']}" for e in error.errors()[:5])
        letter: dict[FieldT, EncodableT] = {"stream": key, "entry_id": entry_id}
        letter["reason"] = reason
        letter.update((name, value) for name, value in fields.items())
        with _reaching(self._s):
            self._bus.redis.xadd(dead_letter_key(self._s.key_prefix), letter)
        log.warning("entry %s of %s is not a valid event: dead-lettered", entry_id, key)

    def _others_pending(self, key: str) -> bool:
        summary = cast(dict[str, object], self._bus.redis.xpending(key, self._s.group))
        consumers = cast(list[dict[str, object]], summary.get("consumers") or [])
        return any(c["name"] != self.consumer and int(str(c["pending"])) > 0 for c in consumers)


def _unparsed(response: object, **_options: object) -> object:
    return response


def _fields(flat: list[str] | None) -> dict[str, str] | None:
    """An entry's fields from Redis' flat [field, value, ...] list (None once deleted).

    >>> _fields(["event", "{}"]), _fields(None)
    ({'event': '{}'}, None)
    """
    if not flat:
        return None
    if len(flat) == 2:
        return {flat[0]: flat[1]}
    pairs = iter(flat)
    return dict(zip(pairs, pairs, strict=True))


def _parse_all(payloads: list[str]) -> list[Event | ValidationError]:
    """The events of `payloads`, with the error in place of a bad one."""
    parsed: list[Event | ValidationError] = []
    for payload in payloads:
        try:
            parsed.append(event_from_json(payload))
        except ValidationError as exc:
            parsed.append(exc)
    return parsed


def _by_partition(deliveries: Sequence[Delivery]) -> dict[int, list[Delivery]]:
    grouped: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        grouped[delivery.partition].append(delivery)
    return grouped


__all__ = [
    "RedisBus",
    "RedisSubscription",
    "bucket_at",
    "dead_letter_key",
    "processed_mark",
    "processed_set",
    "stream_key",
]
