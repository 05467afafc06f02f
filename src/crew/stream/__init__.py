"""Real-time monitoring: workers feeding events through online indicators to warnings."""

from crew.stream.worker import (
    Handler,
    HandlerContext,
    Worker,
    WorkerStats,
    count_events,
    handler_factory,
    load_handler,
)

__all__ = [
    "Handler",
    "HandlerContext",
    "Worker",
    "WorkerStats",
    "count_events",
    "handler_factory",
    "load_handler",
]
