"""`crew replay`: stream rows from files into a running `crew serve`, as events, in time order.

For demos and load tests: the rows held out by `crew simulate --hold-out` (or any Parquet
files of transactions, interactions and events) are sent to `POST /v1/events` in batches, at
a chosen speed-up of their own clock, so warnings appear live on the dashboard.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import typer

from crew.cli._output import out, progress_bar, reports_errors
from crew.errors import CrewError

TABLES = ("transactions", "interactions", "events")


@reports_errors
def replay_command(
    folder: Path = typer.Argument(
        ..., help="Folder with transactions/interactions/events.parquet."
    ),
    url: str = typer.Option("http://127.0.0.1:8642", "--url", help="Where crew serve listens."),
    token: str = typer.Option(
        ..., "--token", envvar="CREW_TOKEN", help="An API token with the ingest scope."
    ),
    speed: float = typer.Option(
        3600.0, "--speed", min=0.0, help="Seconds of the rows' clock per real second (0: no wait)."
    ),
    batch: int = typer.Option(200, "--batch", min=1, max=5000, help="Events per request."),
    wait: float = typer.Option(
        180.0, "--wait", min=0.0, help="Seconds to wait for the service to answer /v1/health."
    ),
) -> None:
    """Send the rows of FOLDER to a running `crew serve` as events, oldest first."""
    events = sorted(_events(folder), key=lambda e: str(e["ts"]))
    if not events:
        raise CrewError(f"No rows to replay in {folder}.", hint="'crew simulate --hold-out 14d'.")
    with httpx.Client(base_url=url, timeout=30.0) as client:
        _wait_until_up(client, url, wait)
        headers = {"Authorization": f"Bearer {token}"}
        sent, started, first = 0, time.monotonic(), _instant(events[0])
        with progress_bar() as bar:
            task = bar.add_task("streaming", total=len(events))
            for start in range(0, len(events), batch):
                chunk = events[start : start + batch]
                if speed > 0:
                    due = (_instant(chunk[0]) - first) / speed
                    time.sleep(max(0.0, due - (time.monotonic() - started)))
                _post(client, headers, chunk)
                sent += len(chunk)
                bar.update(task, completed=sent)
    out.print(f"Sent {sent:,} events to {url} ({_span(events)}).")


def _events(folder: Path) -> Iterator[dict[str, Any]]:
    if not folder.is_dir():
        raise CrewError(f"{folder} is not a folder.", hint="Give the folder of Parquet files.")
    for table in TABLES:
        path = folder / f"{table}.parquet"
        if not path.exists():
            continue
        for row in pq.read_table(path).to_pylist():
            event = {k: v for k, v in row.items() if v is not None}
            event["table"] = table
            for key in ("ts", "resolved_ts"):
                if isinstance(event.get(key), datetime):
                    event[key] = event[key].isoformat()
            if isinstance(event.get("attributes"), str):
                event["attributes"] = json.loads(event["attributes"])
            yield event


def _instant(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(event["ts"])).timestamp()


def _span(events: list[dict[str, Any]]) -> str:
    return f"{str(events[0]['ts'])[:16]} to {str(events[-1]['ts'])[:16]}"


def _wait_until_up(client: httpx.Client, url: str, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            if client.get("/v1/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise CrewError(
                f"No CREW service answers at {url}/v1/health.",
                hint="Start it with 'crew serve', or give --url.",
            )
        time.sleep(1.0)


def _post(client: httpx.Client, headers: dict[str, str], chunk: list[dict[str, Any]]) -> None:
    while True:
        try:
            answer = client.post("/v1/events", json=chunk, headers=headers)
        except httpx.TransportError as exc:
            raise CrewError(
                f"The service at {client.base_url} stopped answering ({exc.__class__.__name__}).",
                hint="Start 'crew serve' again; 'crew replay' sends the rows again from the start "
                "and the service ignores the ones it has seen.",
            ) from None
        if answer.status_code == 429:  # backpressure: wait as told, never drop
            time.sleep(float(answer.headers.get("Retry-After", "1")))
            continue
        if answer.status_code != 202:
            detail = answer.json().get("error", {}) if answer.content else {}
            raise CrewError(
                f"The service refused a batch ({answer.status_code}): "
                f"{detail.get('message', answer.text[:200])}",
                hint=detail.get("hint") or "Check the token's scope (ingest) and the rows.",
            )
        return


__all__ = ["replay_command"]
