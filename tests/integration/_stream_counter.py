"""A worker process for the stream fault test: counts events per customer, exactly once.

Run as `python _stream_counter.py CONSUMER` with the stream settings as JSON in
CREW_TEST_STREAM. Its handler runs one Lua script per batch that, for each event, sets the
event's processed mark (SADD to its set) and only if that succeeded increments the customer's
counter: the mark and the effect happen together or not at all. It also counts events
that arrive after a later event of the same customer (there should be none). On SIGTERM
it prints the worker's stats as JSON and exits 0.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import time

import redis

from crew.config import StreamSettings
from crew.ingest.events import Event
from crew.ingest.redis_bus import RedisBus, processed_mark
from crew.stream.worker import Worker, stopping_on_signals

# KEYS: counts, effects, last sequence per customer, out-of-order count, n mark sets.
# ARGV: mark expiry (Unix s), n, n customer ids, n event keys, n sequence numbers.
EFFECT = """
local n = tonumber(ARGV[2])
local done = 0
for i = 1, n do
  if redis.call('SADD', KEYS[4 + i], ARGV[2 + n + i]) == 1 then
    redis.call('EXPIREAT', KEYS[4 + i], ARGV[1])
    local customer, seq = ARGV[2 + i], tonumber(ARGV[2 + 2 * n + i])
    redis.call('HINCRBY', KEYS[1], customer, 1)
    redis.call('HINCRBY', KEYS[2], ARGV[2 + n + i], 1)
    local last = redis.call('HGET', KEYS[3], customer)
    if last and tonumber(last) > seq then
      redis.call('INCR', KEYS[4])
    end
    redis.call('HSET', KEYS[3], customer, seq)
    done = done + 1
  end
end
return done
"""


def result_keys(prefix: str) -> dict[str, str]:
    """Where the test's results live: per-customer counts, per-event effects, per-pid work."""
    return {
        "counts": f"{prefix}:test:counts",
        "effects": f"{prefix}:test:effects",
        "by_worker": f"{prefix}:test:by_worker",
        "last": f"{prefix}:test:last",
        "disorder": f"{prefix}:test:disorder",
    }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    settings = StreamSettings.model_validate_json(os.environ["CREW_TEST_STREAM"])
    pause_s = float(os.environ.get("CREW_TEST_PAUSE_S", "0.05"))
    keys = result_keys(settings.key_prefix)
    client = redis.Redis.from_url(settings.redis_url or "", decode_responses=True)
    effect = client.register_script(EFFECT)

    def count_once(events: list[Event]) -> None:
        client.hincrby(keys["by_worker"], str(os.getpid()), len(events))
        now = time.time()
        marks = [processed_mark(settings, e, now)[0] for e in events]
        effect(
            keys=[keys["counts"], keys["effects"], keys["last"], keys["disorder"], *marks],
            args=[
                (int(now // settings.dedup_ttl_s) + 2) * settings.dedup_ttl_s,
                len(events),
                *(e.customer_id for e in events),
                *(e.key for e in events),
                *(int(e.record_id.lstrip("T")) for e in events),  # T000042 -> 42
            ],
        )
        time.sleep(pause_s)  # widens the window between the effect and the acknowledgement

    bus = RedisBus(settings)
    worker = Worker(
        bus.subscribe(sys.argv[1]),
        count_once,
        batch=settings.batch,
        block_ms=settings.block_ms,
        claim_every_ms=settings.claim_idle_ms // 2,
    )
    with stopping_on_signals(worker):
        stats = worker.run()
    bus.close()
    client.close()
    print(json.dumps(dataclasses.asdict(stats)), flush=True)


if __name__ == "__main__":
    main()
