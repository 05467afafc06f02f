"""Partition leases on Redis: each partition is read by one live worker at a time.

Consumer groups alone would hand one partition's events to several workers at once, and a
customer's events would then be handled out of order. So every worker renews a lease on
the partitions it reads and takes at most its fair share, `ceil(partitions / live
workers)`; when a worker dies its leases expire and the others take its partitions over.
"""

from __future__ import annotations

import math
import time

import redis

# Compare-and-renew / compare-and-delete: only the lease's owner may touch it.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def lease_key(prefix: str, partition: int) -> str:
    """Redis key naming the owner of a partition.

    >>> lease_key("crew", 3)
    'crew:{p3}:owner'
    """
    return f"{prefix}:{{p{partition}}}:owner"


def workers_key(prefix: str) -> str:
    """Redis sorted set of live workers, scored by their last heartbeat (ms)."""
    return f"{prefix}:workers"


class PartitionLeases:
    """Acquire, renew and release partition leases for the workers of one bus."""

    def __init__(self, client: redis.Redis, prefix: str, partitions: int, lease_ms: int) -> None:
        self._redis = client
        self._prefix = prefix
        self._partitions = partitions
        self._lease_ms = lease_ms
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def rebalance(self, consumer: str, busy: set[int]) -> tuple[set[int], set[int]]:
        """Renew `consumer`'s leases and move towards a fair share: (owned, newly gained).

        Partitions in `busy` (with events handed out and unacknowledged) are not released.
        """
        now_ms = int(time.time() * 1000)
        keys = [lease_key(self._prefix, p) for p in range(self._partitions)]
        pipe = self._redis.pipeline(transaction=False)
        pipe.zadd(workers_key(self._prefix), {consumer: now_ms})
        pipe.zremrangebyscore(workers_key(self._prefix), "-inf", now_ms - self._lease_ms)
        pipe.zcard(workers_key(self._prefix))
        pipe.mget(keys)
        _, _, live, owners = pipe.execute()
        fair = math.ceil(self._partitions / max(int(live), 1))
        owned = {
            p
            for p, owner in enumerate(owners)
            if owner == consumer and self._renew(keys=[keys[p]], args=[consumer, self._lease_ms])
        }
        surplus = len(owned) - fair
        for p in sorted(owned - busy, reverse=True)[: max(surplus, 0)]:
            self._release(keys=[keys[p]], args=[consumer])
            owned.discard(p)
        gained: set[int] = set()
        free = [p for p, owner in enumerate(owners) if owner is None]
        for p in free:
            if len(owned) >= fair:
                break
            if self._redis.set(keys[p], consumer, nx=True, px=self._lease_ms):
                owned.add(p)
                gained.add(p)
        return owned, gained

    def leave(self, consumer: str, owned: set[int]) -> None:
        """Give up `owned` and the worker's place, so others take over at once."""
        for p in owned:
            self._release(keys=[lease_key(self._prefix, p)], args=[consumer])
        self._redis.zrem(workers_key(self._prefix), consumer)


__all__ = ["PartitionLeases", "lease_key", "workers_key"]
