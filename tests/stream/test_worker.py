"""The worker loop on the in-process bus: handle, acknowledge, retry, take over, stop."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime

import pytest

from crew.config import StreamSettings
from crew.errors import ConfigError
from crew.ingest.bus import InProcessBus
from crew.ingest.events import Event, TransactionEvent
from crew.stream import worker as worker_module
from crew.stream.worker import Worker, count_events, load_handler, stopping_on_signals


def txn(n: int) -> Event:
    return TransactionEvent(
        table="transactions",
        txn_id=f"T{n}",
        customer_id=f"C{n % 5}",
        ts=datetime(2025, 6, 1, tzinfo=UTC),
        amount=1.0,
    )


def make_bus(**changes: object) -> InProcessBus:
    return InProcessBus(StreamSettings.model_validate({"claim_idle_ms": 20} | changes))


def test_events_are_handled_once_and_acknowledged() -> None:
    bus = make_bus()
    seen: list[str] = []
    worker = Worker(bus.subscribe("w"), lambda events: seen.extend(e.key for e in events))
    bus.publish([txn(n) for n in range(20)])
    bus.publish([txn(3), txn(4)])  # sent again by a client that retried
    while worker.run_once() or bus.backlog():
        pass
    assert sorted(seen) == sorted(f"transactions:T{n}" for n in range(20))
    assert (worker.stats.handled, worker.stats.skipped) == (20, 2)


def test_a_failing_handler_gets_the_same_events_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "_RETRY_PAUSE_S", 0.01)
    bus = make_bus()
    calls: list[list[str]] = []

    def flaky(events: list[Event]) -> None:
        calls.append([e.key for e in events])
        if len(calls) == 1:
            raise RuntimeError("database down")

    worker = Worker(bus.subscribe("w"), flaky, block_ms=10)
    bus.publish([txn(n) for n in range(3)])
    worker.run_once()
    assert bus.backlog() == 3 and worker.stats.failures == 1
    worker.run_once()
    assert calls[0] == calls[1] and bus.backlog() == 0 and worker.stats.handled == 3


class IdleHandler:
    """Counts batches and the turns it is given when nothing is there to read."""

    def __init__(self, fail: bool = False) -> None:
        self.batches = 0
        self.idles = 0
        self.fail = fail

    def __call__(self, events: list[Event]) -> None:
        self.batches += 1

    def idle(self) -> None:
        self.idles += 1
        if self.fail:
            raise RuntimeError("scoring failed")


@pytest.mark.parametrize("fail", [False, True])
def test_a_handler_gets_its_idle_turn_only_when_nothing_is_read(fail: bool) -> None:
    bus = make_bus()
    handler = IdleHandler(fail)
    worker = Worker(bus.subscribe("w"), handler, block_ms=5)
    bus.publish([txn(n) for n in range(3)])
    assert worker.run_once() == 3 and (handler.batches, handler.idles) == (1, 0)
    assert worker.run_once() == 0 and handler.idles == 1  # a failure there is only logged
    bus.publish([txn(9)])
    assert worker.run_once() == 1 and (handler.batches, handler.idles) == (2, 1)


def test_a_dead_workers_events_are_taken_over() -> None:
    bus = make_bus()
    bus.publish([txn(n) for n in range(10)])
    assert len(bus.subscribe("dead").new(100, 10)) == 10  # read, never acknowledged
    handled: list[Event] = []
    heir = Worker(bus.subscribe("heir"), handled.extend, block_ms=10, claim_every_ms=10)
    deadline = time.monotonic() + 5
    while bus.backlog() and time.monotonic() < deadline:
        heir.run_once()
    assert len(handled) == 10 and heir.stats.reclaimed == 10


def test_stop_ends_the_loop_from_another_thread() -> None:
    bus = make_bus()
    worker = Worker(bus.subscribe("w"), count_events, block_ms=20)
    thread = threading.Thread(target=worker.run)
    thread.start()
    bus.publish([txn(1)])
    time.sleep(0.1)
    worker.stop()
    thread.join(timeout=2)
    assert not thread.is_alive() and worker.stats.handled == 1


def test_sigterm_stops_the_worker_cleanly() -> None:
    bus = make_bus()
    worker = Worker(bus.subscribe("w"), count_events, block_ms=20)
    before = signal.getsignal(signal.SIGTERM)
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
    with stopping_on_signals(worker):
        stats = worker.run()
    assert stats.failures == 0
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("count_events", "not of the form module:function"),
        ("crew.nowhere:handle", "Cannot import the handler's module 'crew.nowhere'"),
        ("crew.stream.worker:nothing", "has no function 'nothing'"),
    ],
)
def test_a_wrong_handler_is_a_config_error(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_handler(spec)
