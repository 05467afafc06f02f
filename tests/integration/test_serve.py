"""`crew serve` and `crew worker` as real processes: started, used over HTTP, terminated."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis

from crew.config import StreamSettings
from crew.ingest.events import TransactionEvent
from crew.ingest.redis_bus import RedisBus
from crew.store import Workspace
from crew.store.operational import open_operational_store
from crew.store.tokens import TokenScope

CREW = [sys.executable, "-c", "from crew.cli import main; main()"]
REDIS = "redis://127.0.0.1:6379/0"
EVENT = {
    "table": "transactions",
    "txn_id": "T1",
    "customer_id": "C1",
    "ts": "2025-06-01T09:30:00+08:00",
    "amount": 12.5,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[str], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"crew serve exited: {process.communicate()[1]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("crew serve did not answer in time")


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"crewtest-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.slow
def test_crew_serve_answers_and_processes_events_in_process(workspace: Workspace) -> None:
    with open_operational_store(workspace, None) as store:
        _, secret = store.tokens.create("feed", TokenScope.ADMIN, at=datetime.now(UTC))
    port = free_port()
    env = {**os.environ, "CREW_WORKSPACE": str(workspace.root)}
    process = subprocess.Popen(
        [*CREW, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/v1/health", process)
        health = httpx.get(f"{base}/v1/health").json()
        assert health["status"] == "ok" and health["version"] == "0.1.0"
        auth = {"Authorization": f"Bearer {secret}"}
        posted = httpx.post(f"{base}/v1/events", headers=auth, json=[EVENT])
        assert posted.status_code == 202
        deadline = time.monotonic() + 10
        while "crew_stream_backlog_events 0.0" not in httpx.get(f"{base}/metrics").text:
            assert time.monotonic() < deadline, "the embedded worker did not take the event"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    # uvicorn re-raises the signal once the app has shut down cleanly.
    assert process.returncode in (0, -signal.SIGTERM), err
    assert "Application shutdown complete" in err and "worker embedded stopped" in err
    assert secret not in err


@pytest.mark.slow
def test_crew_worker_consumes_until_sigterm(
    workspace: Workspace, tmp_path: Path, prefix: str
) -> None:
    config = tmp_path / "server.toml"
    config.write_text(
        f'[stream]\nredis_url = "{REDIS}"\nkey_prefix = "{prefix}"\nblock_ms = 100\n',
        encoding="utf-8",
    )
    settings = StreamSettings(redis_url=REDIS, key_prefix=prefix, block_ms=100)
    bus = RedisBus(settings)
    bus.publish([TransactionEvent.model_validate({**EVENT, "txn_id": f"T{n}"}) for n in range(50)])
    process = subprocess.Popen(
        [
            *CREW,
            "--workspace",
            str(workspace.root),
            "worker",
            "--config",
            str(config),
            "--consumer",
            "w1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while bus.backlog():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "crew worker did not consume the events"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
        bus.close()
    assert process.returncode == 0, err
    assert re.search(r"Worker w1 stopped: 50 events handled", " ".join(err.split())), err
