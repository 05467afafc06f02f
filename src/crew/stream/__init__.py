"""Real-time monitoring: workers feeding events through the pipeline."""

from crew.stream.worker import Handler, Worker, WorkerStats, count_events, load_handler

__all__ = ["Handler", "Worker", "WorkerStats", "count_events", "load_handler"]
