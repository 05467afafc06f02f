"""`crew serve` (the API, with its own worker on the in-process bus) and `crew worker`.

`crew.cli`, `crew.api` and `crew.stream` never import each other (the layers contract in
pyproject.toml). These two commands are where the CLI starts the other two, so it loads them
by name at run time, as uvicorn loads an app: `crew.api.app` and `crew.stream.worker`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
import os
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Protocol

import typer
from fastapi import FastAPI

from crew.cli._output import console, reports_errors, workspace_option, workspace_root
from crew.cli.scheduled import ScheduledRuns
from crew.config import CONFIG_FILE, Settings, load_config
from crew.errors import ConfigError, WorkspaceError
from crew.ingest.bus import InProcessBus, open_bus
from crew.response.notifiers import webhook_dispatcher
from crew.store.operational import open_operational_store
from crew.store.workspace import Workspace, open_workspace

_API = "crew.api.app"
_STREAM = "crew.stream.worker"
_DEFAULT_HANDLER = "crew.stream.handler:instant_warnings"


class _Worker(Protocol):
    """What `crew serve` needs of a `crew.stream.worker.Worker`."""

    def run(self) -> object: ...

    def stop(self) -> None: ...


def _load(module: str) -> ModuleType:
    """A module of a sibling top-level package, imported by name (see the module docstring)."""
    return importlib.import_module(module)


def _handler_option() -> str:
    return typer.Option(  # type: ignore[no-any-return]
        _DEFAULT_HANDLER,
        "--handler",
        help="module:function called with each batch of new events (or a handler factory, "
        "called with the workspace, like the default: online indicators, instant warnings).",
    )


def _config_option() -> Path:
    return typer.Option(  # type: ignore[no-any-return]
        None,
        "--config",
        help="Settings file to use instead of the workspace's crew.toml (e.g. server.toml "
        "with PostgreSQL and Redis).",
        show_default=False,
    )


def _settings(root: Path, config: Path | None) -> Settings:
    """`config` if given (it must exist), else the workspace's crew.toml."""
    path = config if config is not None else root / CONFIG_FILE
    if not path.exists():
        if config is not None:
            raise ConfigError(f"{config}: no such settings file.", hint="Check the path.")
        raise WorkspaceError(
            f"{root.resolve()} is not a CREW workspace (no {CONFIG_FILE}).",
            hint=f"Run 'crew init {root}' first, or pass --workspace DIR / set CREW_WORKSPACE.",
        )
    return load_config(path)


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step


def _with_worker(app: FastAPI, worker: _Worker) -> None:
    """Run `worker` in a thread from the app's start-up until its shutdown."""
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        thread = threading.Thread(target=worker.run, name="crew-worker", daemon=True)
        thread.start()
        try:
            async with serve(app):
                yield
        finally:
            worker.stop()  # finishes its batch; queued events are not kept (in-process)
            await asyncio.to_thread(thread.join, 10)

    app.router.lifespan_context = lifespan


def _with_dispatcher(app: FastAPI, workspace: Workspace, settings: Settings) -> None:
    """Send notifications to the webhooks in a thread, from the app's start-up to shutdown."""
    store = open_operational_store(workspace, settings.store.operational_url)
    try:
        dispatcher = webhook_dispatcher(store, settings)  # a missing secret stops us here
    except Exception:
        store.close()
        raise
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = threading.Thread(
            target=dispatcher.run, args=(stop,), name="crew-notify", daemon=True
        )
        thread.start()
        try:
            async with serve(app):
                yield
        finally:
            stop.set()  # a POST under way finishes (at most the webhook's timeout)
            await asyncio.to_thread(thread.join, 30)
            dispatcher.close()
            store.close()

    app.router.lifespan_context = lifespan


def _with_scheduler(app: FastAPI, runs: ScheduledRuns) -> None:
    """Run the batch pipeline every `schedule.run_every` in a thread while the app serves."""
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = threading.Thread(target=runs.run, args=(stop,), name="crew-schedule", daemon=True)
        thread.start()
        try:
            async with serve(app):
                yield
        finally:
            stop.set()  # a run under way finishes first
            await asyncio.to_thread(thread.join, 600)

    app.router.lifespan_context = lifespan


@reports_errors
def serve_command(
    ctx: typer.Context,
    host: str = typer.Option(None, "--host", help="Interface to bind (default: api.host)."),
    port: int = typer.Option(None, "--port", help="TCP port (default: api.port).", min=1),
    handler: str = _handler_option(),
    config: Path = _config_option(),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Serve the REST API (docs at /docs) and, without Redis, process events in-process."""
    import uvicorn  # only this command needs it

    root = workspace_root(ctx, workspace_dir)
    workspace = open_workspace(root)
    settings = _settings(root, config) if config is not None else workspace.settings
    workspace = dataclasses.replace(workspace, settings=settings)
    _configure_logging(settings)
    api = _load(_API)
    app: FastAPI
    if settings.stream.redis_url:
        app = api.create_app(workspace, settings)  # `crew worker` processes take the events
    else:
        bus = InProcessBus(settings.stream)
        app = api.create_app(workspace, settings, bus=bus)
        stream = _load(_STREAM)
        handle = stream.load_handler(handler, stream.HandlerContext(workspace, settings))
        batch = settings.stream.batch
        _with_worker(app, stream.Worker(bus.subscribe("embedded"), handle, batch=batch))
    _with_dispatcher(app, workspace, settings)
    if settings.schedule.every_s is not None:
        _with_scheduler(app, ScheduledRuns(workspace, settings.schedule.every_s))
        console.print(f"Batch runs every {settings.schedule.run_every} (schedule.run_every).")
    host, port = host or settings.api.host, port or settings.api.port
    console.print(f"CREW API on http://{host}:{port} (docs: /docs), Ctrl+C to stop.")
    # uvicorn shuts the app down on SIGTERM/SIGINT, then re-raises the signal to exit.
    # Open /v1/stream/alerts connections never end by themselves: cut them after 5 s.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=5,
    )


@reports_errors
def worker_command(
    ctx: typer.Context,
    consumer: str = typer.Option(
        None,
        "--consumer",
        help="Name in the consumer group; reuse it after a restart to resume its own "
        "pending events first (default: HOST-PID).",
        show_default=False,
    ),
    handler: str = _handler_option(),
    config: Path = _config_option(),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Consume events from Redis Streams until SIGTERM or Ctrl+C (then stop cleanly)."""
    root = workspace_root(ctx, workspace_dir)
    settings = _settings(root, config)
    stream = settings.stream
    if not stream.redis_url:
        raise ConfigError(
            "crew worker needs Redis: stream.redis_url is not set.",
            hint="Set [stream] redis_url in the settings or CREW_STREAM__REDIS_URL; without "
            "Redis, 'crew serve' processes events itself.",
        )
    _configure_logging(settings)
    workers = _load(_STREAM)
    # Read-only: any number of workers open the store side by side.
    workspace = dataclasses.replace(open_workspace(root, read_only=True), settings=settings)
    handle = workers.load_handler(handler, workers.HandlerContext(workspace, settings))
    bus = open_bus(stream)
    try:
        bus.ping()
        name = consumer or f"{socket.gethostname()}-{os.getpid()}"
        worker = workers.Worker(
            bus.subscribe(name),
            handle,
            batch=stream.batch,
            block_ms=stream.block_ms,
            claim_every_ms=max(stream.claim_idle_ms // 2, 1),
        )
        console.print(f"Worker {name} consuming {stream.partitions} partitions; Ctrl+C stops.")
        with workers.stopping_on_signals(worker):
            stats = worker.run()
    finally:
        bus.close()
    console.print(
        f"Worker {name} stopped: {stats.handled} events handled, {stats.skipped} duplicates "
        f"skipped, {stats.reclaimed} taken over."
    )


__all__ = ["serve_command", "worker_command"]
