"""`/metrics`: the app's Prometheus metrics in the text exposition format."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from crew.api.state import ApiState, api_state
from crew.types import Level

router = APIRouter(tags=["service"])


@router.get("/metrics", response_class=Response)
def metrics(state: Annotated[ApiState, Depends(api_state)]) -> Response:
    """Requests, latency, events in, active warnings by level and the bus backlog.

    Counts only, never ids or personal data; open like /v1/health (bind the API to an
    internal interface, or filter /metrics at the proxy, to keep it private).
    """
    counts = state.store.active_counts()
    for level in (Level.LOW, Level.MEDIUM, Level.HIGH):
        state.metrics.warnings.labels(level.value).set(counts.get(level, 0))
    state.metrics.backlog.set(state.bus.backlog())
    state.metrics.live_scores.set(state.store.live_scores.count())
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


__all__ = ["router"]
