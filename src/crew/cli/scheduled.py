"""The built-in scheduler of `crew serve`: the batch run for every customer, periodically.

The stream opens and escalates warnings from the rule signals events can answer; the
series, peer, model and segment signals, and lowering or resolving warnings, need the batch
run. With `schedule.run_every` set (e.g. `6h`), `crew serve` runs it in a thread every that
long: the events the stream workers landed are imported first (`crew.ingest.landing`), then
one run at the current instant, exactly as `crew run --as-of now` would. A failed run is
logged and the next one comes at its time; the server keeps serving. Without the setting,
schedule `crew run --as-of "$(date -u +%FT%T)"` with cron instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from crew.cli.run import setup_for
from crew.ingest.landing import import_landed
from crew.pipeline import RunResult, replay
from crew.store.operational import open_operational_store
from crew.store.workspace import Workspace

log = logging.getLogger(__name__)


class ScheduledRuns:
    """Runs the batch pipeline for a workspace every `every_s` seconds until stopped."""

    def __init__(
        self,
        workspace: Workspace,
        every_s: float,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.workspace = workspace
        self.every_s = every_s
        self.clock = clock
        self.runs = 0
        self.failures = 0

    def run_once(self) -> RunResult:
        """Import the landed events, then one run at the clock's instant."""
        at = self.clock()
        setup = setup_for(self.workspace, None, None)
        url = self.workspace.settings.store.operational_url
        with open_operational_store(self.workspace, url) as store, self.workspace.connect() as conn:
            landed = import_landed(conn, self.workspace.root)
            (result,) = replay(conn, store, setup, [at], root=self.workspace.root)
        self.runs += 1
        log.info(
            "scheduled run %s at %s: %s; landed rows imported: %s",
            result.run_id, at.isoformat(), result.counts,
            {t.value: n for t, n in landed.items()} or 0,
        )  # fmt: skip
        return result

    def run(self, stop: threading.Event) -> None:
        """Every `every_s` seconds, a run, until `stop` is set (checked while waiting)."""
        while not stop.wait(self.every_s):
            try:
                self.run_once()
            except Exception:
                self.failures += 1
                log.exception("scheduled run failed; the next one in %.0f s", self.every_s)


__all__ = ["ScheduledRuns"]
