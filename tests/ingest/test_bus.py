"""The event bus contract, run on the in-process queue and on Redis Streams (loopback)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from crew.config import ApiSettings, StreamSettings, load_config
from crew.errors import BackpressureError, ConfigError, EventBusError
from crew.ingest.bus import EventBus, InProcessBus, open_bus, partition_of
from crew.ingest.events import Delivery, Event, TransactionEvent
from crew.ingest.redis_bus import RedisBus, dead_letter_key, processed_mark, stream_key

REDIS = "redis://127.0.0.1:6379/0"
T0 = datetime(2025, 6, 1, tzinfo=UTC)


def txn(n: int, customer: str | None = None) -> Event:
    return TransactionEvent(
        table="transactions",
        txn_id=f"T{n}",
        customer_id=customer or f"C{n % 10}",
        ts=T0 + timedelta(seconds=n),
        amount=float(n),
    )


def settings(**changes: object) -> StreamSettings:
    base: dict[str, object] = {"partitions": 4, "claim_idle_ms": 50, "lease_ms": 300}
    return StreamSettings.model_validate(base | changes)


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test alone; its keys are deleted afterwards."""
    name = f"crewtest-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=["in-process", "redis"])
def make_bus(request: pytest.FixtureRequest, prefix: str) -> Iterator[type[EventBus]]:
    """Makes buses of one kind from settings (Redis ones share the test's prefix)."""
    made: list[EventBus] = []

    def make(**changes: object) -> EventBus:
        if request.param == "redis":
            changes = {"redis_url": REDIS, "key_prefix": prefix} | changes
        bus = open_bus(settings(**changes))
        made.append(bus)
        return bus

    yield make  # type: ignore[misc]
    for bus in made:
        bus.close()


def drain(bus: EventBus, consumer: str = "w1") -> list[Delivery]:
    sub = bus.subscribe(consumer)
    sub.heartbeat()
    taken: list[Delivery] = []
    while batch := sub.new(1000, 50):
        taken += batch
    return taken


def test_partitions_are_stable_and_spread() -> None:
    parts = [partition_of(f"C{n:05d}", 4) for n in range(4000)]
    assert parts[:3] == [partition_of(f"C{n:05d}", 4) for n in range(3)]
    assert min(parts.count(p) for p in range(4)) > 900


def test_one_customers_events_come_out_in_order(make_bus) -> None:  # type: ignore[no-untyped-def]
    bus = make_bus()
    events = [txn(n, customer=f"C{n % 3}") for n in range(300)]
    assert bus.publish(events) == 300
    taken = drain(bus)
    assert len(taken) == 300
    for customer in ("C0", "C1", "C2"):
        ids = [d.event.record_id for d in taken if d.event.customer_id == customer]
        assert ids == [e.record_id for e in events if e.customer_id == customer]
    assert {d.partition for d in taken} == {partition_of(c, 4) for c in ("C0", "C1", "C2")}


def test_acknowledged_events_leave_the_backlog_and_are_not_redone(make_bus) -> None:  # type: ignore[no-untyped-def]
    bus = make_bus()
    bus.publish([txn(n) for n in range(10)])
    sub = bus.subscribe("w1")
    sub.heartbeat()
    taken = sub.new(100, 50)
    assert bus.backlog() == 10
    sub.ack(taken)
    assert bus.backlog() == 0
    bus.publish([txn(3), txn(3), txn(11)])  # a resend, twice, and a new one
    again = sub.new(100, 50)
    assert [d.event.record_id for d in sub.unprocessed(again)] == ["T11"]


def test_own_pending_events_come_back_after_a_restart(make_bus) -> None:  # type: ignore[no-untyped-def]
    bus = make_bus()
    bus.publish([txn(n, customer="C1") for n in range(5)])
    first = bus.subscribe("w1")
    first.heartbeat()
    assert len(first.new(100, 50)) == 5
    restarted = bus.subscribe("w1")
    restarted.heartbeat()
    assert [d.event.record_id for d in restarted.pending(100)] == [f"T{n}" for n in range(5)]


def test_a_dead_consumers_events_are_taken_over(make_bus) -> None:  # type: ignore[no-untyped-def]
    bus = make_bus()
    bus.publish([txn(n, customer="C1") for n in range(5)])
    dead = bus.subscribe("dead")
    dead.heartbeat()
    assert len(dead.new(100, 50)) == 5
    dead.close()  # as a killed worker's lease would run out
    heir = bus.subscribe("heir")
    heir.heartbeat()
    bus.publish([txn(9, customer="C1")])
    assert heir.new(100, 10) == []  # the partition's older events come first
    time.sleep(0.1)
    taken = heir.reclaim(100)
    assert [d.event.record_id for d in taken] == [f"T{n}" for n in range(5)]
    heir.ack(taken)
    heir.reclaim(100)  # nothing left of the dead one: the take-over ends
    assert [d.event.record_id for d in heir.new(100, 50)] == ["T9"]


def test_a_full_partition_refuses_the_whole_batch(make_bus) -> None:  # type: ignore[no-untyped-def]
    bus = make_bus(max_len=3, retry_after_s=5)
    bus.publish([txn(n, customer="C1") for n in range(3)])
    with pytest.raises(BackpressureError) as caught:
        bus.publish([txn(10, customer="C2"), txn(11, customer="C1")])
    assert caught.value.retry_after == 5
    assert "nothing was published" in caught.value.message
    assert bus.backlog() == 3
    sub = bus.subscribe("w1")
    sub.heartbeat()
    sub.ack(sub.new(100, 50))
    assert bus.publish([txn(11, customer="C1")]) == 1


def test_in_process_is_the_default_without_redis() -> None:
    assert isinstance(open_bus(StreamSettings()), InProcessBus)
    assert isinstance(open_bus(StreamSettings(redis_url=REDIS)), RedisBus)


def test_redis_partitions_are_shared_fairly_and_taken_over(prefix: str) -> None:
    bus = RedisBus(settings(redis_url=REDIS, key_prefix=prefix))
    first, second = bus.subscribe("w1"), bus.subscribe("w2")
    first.heartbeat()
    assert first.owned == {0, 1, 2, 3}
    second.heartbeat()
    assert second.owned == set()  # all taken: it waits for the first to shed some
    time.sleep(0.11)
    first.heartbeat()
    time.sleep(0.11)
    second.heartbeat()
    assert len(first.owned) == 2 and first.owned.isdisjoint(second.owned)
    assert first.owned | second.owned == {0, 1, 2, 3}
    time.sleep(0.35)  # the first stops renewing: its leases expire
    second._next_beat = 0
    second.heartbeat()
    assert second.owned == {0, 1, 2, 3}
    bus.close()


def test_redis_entries_that_are_no_events_are_dead_lettered(prefix: str) -> None:
    bus = RedisBus(settings(redis_url=REDIS, key_prefix=prefix))
    sub = bus.subscribe("w1")
    sub.heartbeat()
    bus.publish([txn(1, customer="C1")])
    part = partition_of("C1", 4)
    bus.redis.xadd(stream_key(prefix, part), {"event": '{"table": "transactions"}'})
    taken = sub.new(100, 50)
    assert [d.event.record_id for d in taken] == ["T1"]
    (letter,) = bus.redis.xrange(dead_letter_key(prefix))
    assert "txn_id" in letter[1]["reason"] and letter[1]["stream"] == stream_key(prefix, part)
    sub.ack(taken)
    assert bus.backlog() == 0
    done, member = processed_mark(bus.settings, taken[0].event)
    assert bus.redis.sismember(done, member) == 1
    assert 0 < bus.redis.ttl(done) <= 2 * bus.settings.dedup_ttl_s
    bus.close()


def test_redis_unreachable_names_the_server_not_the_password() -> None:
    bus = RedisBus(settings(redis_url="redis://:s3cret@127.0.0.1:1/0"))
    with pytest.raises(EventBusError) as caught:
        bus.ping()
    assert "127.0.0.1:1" in caught.value.message
    assert "s3cret" not in caught.value.message + str(caught.value.hint)
    assert caught.value.exit_code == 9
    bus.close()


def test_stream_settings_are_documented_and_read_from_crew_toml(tmp_path: Path) -> None:
    for model in (StreamSettings, ApiSettings):
        assert [n for n, f in model.model_fields.items() if not f.description] == []
    path = tmp_path / "crew.toml"
    path.write_text('[stream]\nredis_url = "redis://db:6379/1"\npartitions = 8\n', "utf-8")
    loaded = load_config(path, env={"CREW_STREAM__MAX_LEN": "500"}).stream
    assert (loaded.redis_url, loaded.partitions, loaded.max_len) == ("redis://db:6379/1", 8, 500)
    path.write_text("[stream]\npartitions = 0\n", "utf-8")
    with pytest.raises(ConfigError, match=r"crew.toml: stream.partitions"):
        load_config(path)
