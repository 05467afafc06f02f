"""Prometheus metrics of one app: requests, latency, events in, warnings, stream backlog,
live scores.

Every app has its own registry, so two apps (or two tests) never share counts.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ApiMetrics:
    """The instruments, registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "crew_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "crew_http_request_duration_seconds",
            "Time from request to the end of the answer, by route template.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events_in = Counter(
            "crew_events_ingested",
            "Events accepted by POST /v1/events, by canonical table.",
            ["table"],
            registry=self.registry,
        )
        self.warnings = Gauge(
            "crew_warnings_active",
            "Active warnings (open, acknowledged, in progress) by level.",
            ["level"],
            registry=self.registry,
        )
        self.backlog = Gauge(
            "crew_stream_backlog_events",
            "Events on the bus not yet processed by a worker (the lag).",
            registry=self.registry,
        )
        self.live_scores = Gauge(
            "crew_live_scores",
            "Customers whose model score the stream refreshed since the scheduled run.",
            registry=self.registry,
        )


class RequestMetrics:
    """ASGI middleware counting every answer and timing it, labelled by route template."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The template, not the path: /v1/alerts/{warning_id} is one series, not one per id.
            route = scope.get("route")
            name = route.path if isinstance(route, BaseRoute) and hasattr(route, "path") else "-"
            self.metrics.requests.labels(scope["method"], name, str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - started)


__all__ = ["ApiMetrics", "RequestMetrics"]
