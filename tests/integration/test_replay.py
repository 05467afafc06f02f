"""`crew simulate --hold-out` keeps the last days apart; `crew replay` streams them into a
running service, where they raise warnings within moments."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from crew.cli import app as cli_app
from crew.store import open_workspace
from crew.store.operational import OperationalStore

from .test_serve import CREW, free_port, wait_until_up

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replay") / "ws"
    result = CliRunner().invoke(
        cli_app, ["-w", str(root), "simulate", "-n", "1000", "--months", "6", "--seed", "5",
                  "--import", "--hold-out", "14d", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


def test_held_out_rows_stay_out_of_the_store(held: Path) -> None:
    live = pq.read_table(held / "simulated-live" / "interactions.parquet")
    since = min(live["ts"].to_pylist())
    with open_workspace(held).connect() as conn:
        latest = conn.sql("SELECT max(ts) FROM interactions").fetchall()[0][0]
    assert live.num_rows > 0 and latest < since


@pytest.fixture
def served(held: Path) -> Iterator[tuple[str, OperationalStore]]:
    """`crew serve` on the workspace, in a process of its own, with its in-process worker."""
    port = free_port()
    process = subprocess.Popen(
        [*CREW, "-w", str(held), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/v1/health", process, timeout_s=120)
        with OperationalStore.open(f"sqlite:///{held / 'operational.sqlite'}") as store:
            yield url, store
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_replay_streams_the_held_rows_and_warnings_appear(
    held: Path, served: tuple[str, OperationalStore], cli: CliRunner
) -> None:
    url, store = served
    created = cli.invoke(
        cli_app, ["-w", str(held), "tokens", "create", "feed", "--scope", "ingest", "--json"]
    )
    secret = json.loads(created.stdout)["secret"]
    refused = cli.invoke(
        cli_app, ["replay", str(held / "simulated-live"), "--url", url, "--token", "nope",
                  "--speed", "0"],
    )  # fmt: skip
    assert refused.exit_code == 1 and "The service refused a batch (401)" in refused.stderr
    before = len(store.warnings_frame())
    result = cli.invoke(
        cli_app, ["replay", str(held / "simulated-live"), "--url", url, "--token", secret,
                  "--speed", "0"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = sum(
        pq.read_metadata(held / "simulated-live" / f"{t}.parquet").num_rows
        for t in ("transactions", "interactions", "events")
    )
    assert f"Sent {rows:,} events" in result.stdout
    metrics = httpx.get(f"{url}/metrics").text
    ingested = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("crew_events_ingested_total{")
    )
    assert ingested == rows
    # The worker takes them through the online state; the rules raise what they raise.
    deadline = time.monotonic() + 60
    while len(store.warnings_frame()) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(store.warnings_frame()) > before


def test_hold_out_needs_parquet_and_replay_an_existing_folder(
    tmp_path: Path, cli: CliRunner
) -> None:
    bad = cli.invoke(
        cli_app, ["simulate", "-n", "10", "--months", "1", "--format", "csv", "--hold-out",
                  "3d", "--out", str(tmp_path / "x")],
    )  # fmt: skip
    assert bad.exit_code == 1 and "--hold-out needs --format parquet" in bad.stderr
    missing = cli.invoke(cli_app, ["replay", str(tmp_path / "nowhere"), "--token", "t"])
    assert missing.exit_code == 1 and "is not a folder" in missing.stderr


def test_replay_to_a_service_that_is_not_there_says_so(held: Path, cli: CliRunner) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = cli.invoke(
        cli_app, ["replay", str(held / "simulated-live"), "--url", url, "--token", "t",
                  "--wait", "0"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"No CREW service answers at {url}/v1/health" in result.stderr
    assert "Traceback" not in result.output
