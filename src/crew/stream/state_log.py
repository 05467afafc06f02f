"""The online state's log in Redis (server mode): it survives a worker and follows a partition.

The in-memory state of a `crew worker` is rebuilt from the analytical store when it starts;
what the stream added since lives only in memory. In server mode every row the handler
folds in is also written to a Redis hash per customer, field = event key (writing a row
twice is harmless) plus a version field `_v` changed by every write. Before a batch, the
handler compares each customer's `_v` with the version it last wrote or read; when another
worker (or an earlier life of this one) wrote since, it reads the hash and folds the rows in
(the state ignores keys it holds). A worker restarted, or taking over a dead worker's
partitions, thus continues with every event processed before.

The hash keeps only the columns the indicators read (no free text); it expires after the
longest indicator window without writes, and rows older than that are deleted when read.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol, cast

import redis
from redis.typing import EncodableT, FieldT

from crew.config import StreamSettings
from crew.indicators._snippets import US_PER_S, Row
from crew.indicators.online_state import OnlineState
from crew.ingest.bus import partition_of
from crew.types import Table

_VERSION = "_v"


class LoggedRow(NamedTuple):
    """A row folded into the online state, to be logged."""

    customer_id: str
    table: Table
    key: str
    row: Row


class StateLog(Protocol):
    """Where a handler keeps the rows of its online state beyond its own memory."""

    def catch_up(self, state: OnlineState, customers: Iterable[str]) -> int:
        """Fold in the rows others logged for `customers` since this log last saw them."""

    def save(self, rows: Sequence[LoggedRow]) -> None:
        """Log rows just folded into the state (all or none)."""


class RedisStateLog:
    """A `StateLog` on Redis: one hash per customer, in the customer's partition slot."""

    def __init__(self, client: redis.Redis, *, prefix: str, partitions: int, keep_s: int) -> None:
        self.redis = client
        self.prefix = prefix
        self.partitions = partitions
        self.keep_s = keep_s
        self._versions: dict[str, str] = {}

    @classmethod
    def of(cls, settings: StreamSettings, keep_s: int) -> RedisStateLog:
        """The log on the Redis of `settings` (same URL and key prefix as the bus)."""
        client = redis.Redis.from_url(
            settings.redis_url or "redis://127.0.0.1:6379/0", decode_responses=True, protocol=2
        )
        return cls(client, prefix=settings.key_prefix, partitions=settings.partitions,
                   keep_s=keep_s)  # fmt: skip

    def key(self, customer_id: str) -> str:
        """The customer's hash (hash-tagged with its partition, like the bus's keys).

        >>> log = RedisStateLog(redis.Redis(), prefix="crew", partitions=4, keep_s=1)
        >>> log.key("C0001")
        'crew:{p0}:online:C0001'
        """
        return (
            f"{self.prefix}:{{p{partition_of(customer_id, self.partitions)}}}:online:{customer_id}"
        )

    def catch_up(self, state: OnlineState, customers: Iterable[str]) -> int:
        """Fold in what others logged for `customers`; the number of rows new to `state`."""
        wanted = sorted(set(customers))
        if not wanted:
            return 0
        pipe = self.redis.pipeline(transaction=False)
        for customer in wanted:
            pipe.hget(self.key(customer), _VERSION)
        versions = cast(list[str | None], pipe.execute())
        stale = [
            (c, v) for c, v in zip(wanted, versions, strict=True)
            if v is not None and v != self._versions.get(c)
        ]  # fmt: skip
        if not stale:
            return 0
        pipe = self.redis.pipeline(transaction=False)
        for customer, _ in stale:
            pipe.hgetall(self.key(customer))
        added = 0
        expired: dict[str, list[str]] = defaultdict(list)
        for (customer, version), fields in zip(stale, pipe.execute(), strict=True):
            mine = state.customer(customer)
            for name, text in cast(dict[str, str], fields).items():
                if name == _VERSION:
                    continue
                table, row = _decode(text)
                ts = row["ts"]
                if isinstance(ts, int) and ts < mine.latest - self.keep_s * US_PER_S:
                    expired[customer].append(name)
                    continue
                added += state.add(customer, table, name, row) is not None
            self._versions[customer] = version
        if expired:
            pipe = self.redis.pipeline(transaction=False)
            for customer, names in expired.items():
                pipe.hdel(self.key(customer), *names)
            pipe.execute()
        return added

    def save(self, rows: Sequence[LoggedRow]) -> None:
        """HSET the rows and a new version per customer, in one MULTI."""
        if not rows:
            return
        by_customer: dict[str, dict[FieldT, EncodableT]] = defaultdict(dict)
        for row in rows:
            by_customer[row.customer_id][row.key] = _encode(row.table, row.row)
        token = uuid.uuid4().hex
        pipe = self.redis.pipeline(transaction=True)
        for customer, fields in by_customer.items():
            key = self.key(customer)
            fields[_VERSION] = token
            pipe.hset(key, mapping=fields)
            pipe.expire(key, self.keep_s)
        pipe.execute()
        for customer in by_customer:
            self._versions[customer] = token


def _encode(table: Table, row: Row) -> str:
    return json.dumps({"t": table.value, "r": row}, separators=(",", ":"), default=str)


def _decode(text: str) -> tuple[Table, dict[str, object]]:
    data = json.loads(text)
    return Table(data["t"]), dict(data["r"])


__all__ = ["LoggedRow", "RedisStateLog", "StateLog"]
