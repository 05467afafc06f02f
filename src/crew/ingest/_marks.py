"""Processed-event marks of the Redis bus: per-partition sets of event keys by time bucket.

A bucket lasts `dedup_ttl_s` and its set is kept for two, so a mark lives at least
`dedup_ttl_s`. Two Lua scripts work one partition of a batch in one call each: which keys
are marked (this bucket or the one before), and marking them with the XACK and XDEL of
their entries, so the bus costs a few commands per batch instead of some per event.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.commands.core import Script

from crew.config import StreamSettings
from crew.ingest.bus import partition_of
from crew.ingest.events import Event


def processed_set(settings: StreamSettings, partition: int, bucket: int) -> str:
    """Redis set of the event keys of `partition` processed during time bucket `bucket`.

    >>> processed_set(StreamSettings(key_prefix="crew"), 2, 20480)
    'crew:{p2}:done:20480'
    """
    return f"{settings.key_prefix}:{{p{partition}}}:done:{bucket}"


def bucket_at(settings: StreamSettings, at: float | None = None) -> int:
    """The dedup time bucket of Unix time `at` (now by default): `dedup_ttl_s` long."""
    return int((time.time() if at is None else at) // settings.dedup_ttl_s)


def processed_mark(
    settings: StreamSettings, event: Event, at: float | None = None
) -> tuple[str, str]:
    """Where `event`'s processed mark goes now: (set key, member). A handler may add it
    (SADD) with its own effect; the bus then skips the event when it comes again."""
    partition = partition_of(event.customer_id, settings.partitions)
    return processed_set(settings, partition, bucket_at(settings, at)), event.key


# KEYS: this bucket's and the previous bucket's mark sets. ARGV: JSON list of event keys.
# Returns the 1-based positions of the keys marked in either set.
MARKED = """
local keys = cjson.decode(ARGV[1])
local found = {}
for i, key in ipairs(keys) do
  if redis.call('SISMEMBER', KEYS[1], key) == 1 or redis.call('SISMEMBER', KEYS[2], key) == 1 then
    found[#found + 1] = i
  end
end
return found
"""

# KEYS: the partition's stream, this bucket's mark set. ARGV: group, the set's expiry (Unix
# s), JSON list of event keys, JSON list of entry ids. Marks, then XACK and XDEL.
SETTLE = """
local keys, ids = cjson.decode(ARGV[3]), cjson.decode(ARGV[4])
for i = 1, #keys, 1000 do
  redis.call('SADD', KEYS[2], unpack(keys, i, math.min(i + 999, #keys)))
end
redis.call('EXPIREAT', KEYS[2], ARGV[2])
for i = 1, #ids, 1000 do
  local chunk = {unpack(ids, i, math.min(i + 999, #ids))}
  redis.call('XACK', KEYS[1], ARGV[1], unpack(chunk))
  redis.call('XDEL', KEYS[1], unpack(chunk))
end
return #ids
"""


@dataclass(frozen=True)
class Scripts:
    """The two scripts, registered on one client."""

    marked: Script
    settle: Script


__all__ = ["MARKED", "SETTLE", "Scripts", "bucket_at", "processed_mark", "processed_set"]
