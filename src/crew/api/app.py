"""The FastAPI application: one factory, given a workspace and its settings.

`settings` decide the operational store (`store.operational_url`), the event bus
(`stream`) and the API's limits (`api`); the workspace gives the analytical store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from crew import __version__
from crew.api.docs import install_docs
from crew.api.errors import install_error_handlers
from crew.api.limits import BodySizeLimit, RateLimiter
from crew.api.metrics import ApiMetrics, RequestMetrics
from crew.api.routes import ROUTERS
from crew.api.routes.blacklist import router as blacklist_router
from crew.api.routes.events import EVENT_DEFS
from crew.api.state import ApiState
from crew.api.web import install_dashboard
from crew.config import Settings
from crew.ingest.bus import EventBus, open_bus
from crew.store.operational import open_operational_store
from crew.store.workspace import Workspace

DESCRIPTION = """\
CREW - Customer Relationship Early Warning (客户关系风险预警).

Warnings and their lifecycle, customers' risk, and event ingest for real-time monitoring.
Every `/v1` route but `/v1/health` needs `Authorization: Bearer <secret>` with a token
from `crew tokens create NAME --scope read|ingest|admin`.
"""


def create_app(workspace: Workspace, settings: Settings, *, bus: EventBus | None = None) -> FastAPI:
    """The API of `workspace`, configured by `settings`.

    Opens the operational store now (so a wrong URL fails at start) and closes it, and the
    bus if it opened it, when the app shuts down. Pass `bus` to share one with a worker.

    Raises:
        OperationalStoreError: the operational store cannot be opened.
        EventBusError: Redis cannot be reached.
    """
    store = open_operational_store(workspace, settings.store.operational_url)
    owns_bus = bus is None
    try:
        bus = bus if bus is not None else open_bus(settings.stream)
        bus.ping()
    except Exception:
        store.close()
        raise
    state = ApiState(
        workspace=workspace,
        settings=settings,
        store=store,
        bus=bus,
        metrics=ApiMetrics(),
        limiter=RateLimiter(settings.api.rate_limit_per_second, settings.api.rate_limit_burst),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()
            if owns_bus:
                state.bus.close()

    app = FastAPI(
        title="CREW",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load from a CDN; install_docs serves local copies
        redoc_url=None,
    )
    app.state.crew = state
    install_docs(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(blacklist_router)
    install_dashboard(app, workspace)  # the pages at /, /warnings, ... and /static
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=state.metrics)  # outermost: counts 413s too
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The generated schema plus the event models the events route declares by hand."""

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            spec.setdefault("components", {}).setdefault("schemas", {}).update(EVENT_DEFS)
            app.openapi_schema = spec
        return app.openapi_schema

    return schema


__all__ = ["create_app"]
