"""What every request of one app shares: settings, stores, bus, metrics and limits."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from crew.api.limits import RateLimiter
from crew.api.metrics import ApiMetrics
from crew.config import Settings
from crew.ingest.bus import EventBus
from crew.store.operational import OperationalStore
from crew.store.workspace import Workspace


@dataclass(frozen=True)
class ApiState:
    """The app's services; `create_app` makes one and keeps it on `app.state.crew`."""

    workspace: Workspace
    settings: Settings
    store: OperationalStore
    bus: EventBus
    metrics: ApiMetrics
    limiter: RateLimiter


def api_state(request: Request) -> ApiState:
    """The state of the app serving `request` (a FastAPI dependency)."""
    state = request.app.state.crew
    assert isinstance(state, ApiState)
    return state


__all__ = ["ApiState", "api_state"]
