"""The default stream handler: quarantine, online indicators, instant warnings.

For each batch of events (`crew serve`'s own worker, or `crew worker --handler
crew.stream.handler:instant_warnings`):

1. events of unknown customers, or stamped more than `FUTURE_SKEW` ahead of the clock, go
   to the operational store's quarantine with the reason; nothing of them goes further;
2. the others update the customers' online state (`crew.indicators.online_state`),
   in server mode also to a log in Redis, `crew.stream.state_log`, so that a restarted
   worker, or one taking over a partition, continues from them); an interaction's text is
   analysed first and its `interaction_text` row folded in too (`crew.stream.texts`);
3. the batch is written as Parquet into the workspace's landing (`crew.stream.landing`),
   for the next `crew run` to import into the analytical store;
4. the online rule signals of the customers in the batch are graded at the batch's event
   time (the newest event + 1 µs, never going back), and warnings open or escalate through
   the batch's lifecycle (`plan_changes`, `apply_run`, the same ids and cooldowns);
5. with a registered model, customers whose events touched the model's inputs are marked,
   and those whose inputs moved materially are scored again in short rounds between
   batches (`crew.stream.refresh`).

The stream only opens and escalates: lowering or resolving a warning waits for the
scheduled `crew run`, which sees every signal, the model's too.

Re-delivery is harmless: the online state ignores event keys it holds, the quarantine
keeps one row per key, and grading the same state again changes nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from crew.alerts.lifecycle import KEY, LEVEL_RANK, plan_changes
from crew.indicators.online_state import OnlineState, event_row, instant, micros
from crew.ingest.events import Event, event_json
from crew.ingest.landing import Landing
from crew.pipeline import RunSetup
from crew.store.operational import OperationalStore, RunRecord, open_operational_store, warning_id
from crew.store.quarantine import Quarantine
from crew.stream.monitor import Monitor
from crew.stream.online import CustomerDirectory, bootstrap, latest_instant, reading_store
from crew.stream.refresh import ScoreRefresh, score_refresh
from crew.stream.state_log import LoggedRow, RedisStateLog, StateLog
from crew.stream.texts import TextRows
from crew.stream.worker import HandlerContext, handler_factory
from crew.types import Table

log = logging.getLogger(__name__)

FUTURE_SKEW = timedelta(minutes=5)
"""How far ahead of the clock an event may be stamped before it is quarantined."""
UNKNOWN_CUSTOMER = "unknown customer"
ACTIVE_COLUMNS = ("id", *KEY, "level", "state")
"""What the stream reads of active warnings: it only opens and raises them."""


@dataclass
class HandlerStats:
    """What the handler has done so far."""

    events: int = 0  # events folded into the online state (repeats included)
    repeats: int = 0  # events whose key the state held already
    quarantined: int = 0
    opened: int = 0
    escalated: int = 0
    refreshed: int = 0  # customers the model scored again (crew.stream.refresh)


class InstantWarnings:
    """A stream handler (`Handler`): events in, online state and warnings updated."""

    def __init__(
        self,
        monitor: Monitor,
        state: OnlineState,
        store: OperationalStore,
        customers: CustomerDirectory,
        *,
        fingerprint: str = "stream",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        log: StateLog | None = None,
        texts: TextRows | None = None,
        landing: Landing | None = None,
        refresh: ScoreRefresh | None = None,
    ) -> None:
        self.monitor = monitor
        self.refresh = refresh
        self.texts = texts
        self.landing = landing
        self.log = log
        self.state = state
        self.store = store
        self.customers = customers
        self.fingerprint = fingerprint
        self.clock = clock
        self.event_time = -(2**62)  # µs; the instant warnings are graded at
        self.stats = HandlerStats()

    def __call__(self, events: list[Event]) -> None:
        """Handle one batch (raises to have it delivered again)."""
        now = self.clock()
        kept: list[Event] = []
        held: list[Quarantine] = []
        for event in events:
            reason = self._problem(event, now)
            if reason is None:
                kept.append(event)
            else:
                held.append(Quarantine(event.key, event.customer_id, event_json(event), reason))
        if held:
            self.stats.quarantined += self.store.quarantine.add(held, at=now)
        if kept:
            if self.log is not None:
                self.log.catch_up(self.state, {e.customer_id for e in kept})
            changed = self.update(kept)
            if self.landing is not None:
                self.landing.write(kept)
            self.raise_warnings(changed, self.event_time)
            if self.refresh is not None:
                self.refresh.mark(changed)
                if self.refresh.due():
                    self._refresh()

    def idle(self) -> None:
        """The worker has nothing to read: a refresh round for customers still marked."""
        if self.refresh is not None and self.refresh.dirty:
            self._refresh()

    def _refresh(self) -> None:
        """A refresh round; its failure is logged, never fails the batch (whose events are
        folded in already: a retry would not bring the scores back either)."""
        assert self.refresh is not None
        try:
            self.stats.refreshed += self.refresh.run(self.event_time)
        except Exception:
            log.exception("model-score refresh failed; the next marked customers are tried")

    def update(self, events: list[Event]) -> dict[str, set[str]]:
        """Fold events into the online state, move the event-time clock forward; the
        aggregates each customer's events changed."""
        columns = self.state.plan.columns
        changed: dict[str, set[str]] = {}
        logged: list[LoggedRow] = []
        texts = self.texts.rows(events) if self.texts is not None else {}
        for event in events:
            table = Table(event.table)
            state = self.state.customer(event.customer_id)
            if not state.attributes:
                state.attributes = dict(self.customers.attributes(event.customer_id))
            rows = [(table, event.key, event_row(event, columns[table]))]
            if (text_key := f"interaction_text:{event.record_id}") in texts:
                rows.append((Table.INTERACTION_TEXT, text_key, texts[text_key]))
            mine = changed.setdefault(event.customer_id, set())
            for row_table, key, row in rows:
                moved = self.state.add(event.customer_id, row_table, key, row)
                if moved is None:
                    # Delivered again, maybe after a crash between the state and the
                    # warnings: grade its customer again (grading twice changes nothing).
                    mine.update(self.state.plan.aggregates)
                else:
                    mine.update(moved)
                    logged.append(LoggedRow(event.customer_id, row_table, key, row))
            self.stats.repeats += moved is None
            self.stats.events += 1
            self.event_time = max(self.event_time, micros(event.ts) + 1)
        if self.log is not None:
            self.log.save(logged)
        return changed

    def raise_warnings(self, changed: dict[str, set[str]], at: int) -> None:
        """Grade the risk types each customer's changed aggregates move, at `at` (µs); open
        new warnings and escalate active ones."""
        touched = {c: self.monitor.risk_types(names) for c, names in changed.items()}
        warnings = self.monitor.warnings(self.state, touched, at)
        if warnings.empty:
            return
        as_of = instant(at)
        active = self.store.active_warnings(
            customers=sorted(set(warnings["customer_id"])), columns=ACTIVE_COLUMNS
        )
        warnings, active = _new_or_higher(warnings, active)
        if warnings.empty:
            return
        run_id = f"stream-{as_of:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"
        changes = plan_changes(
            warnings,
            active,
            self.store.cooling_down(as_of, customers=sorted(set(warnings["customer_id"]))),
            as_of=as_of,
            run_id=run_id,
            make_id=self._unique_id,
        )
        updated = changes.updated  # escalations only: lower levels were dropped above
        if changes.opened.empty and updated.empty and changes.held.empty:
            return
        counts = {**changes.counts, "escalated": len(updated), "updated": len(updated)}
        now = self.clock()
        record = RunRecord(run_id, as_of, now, now, False, self.fingerprint, counts)
        self.store.apply_run(record, changes.opened, updated, pd.DataFrame(), held=changes.held)
        self.stats.opened += len(changes.opened)
        self.stats.escalated += len(updated)
        log.info("stream opened %d and escalated %d warnings", len(changes.opened), len(updated))

    def _problem(self, event: Event, now: datetime) -> str | None:
        if not self.customers.knows(event.customer_id):
            return UNKNOWN_CUSTOMER
        if event.ts > now + FUTURE_SKEW:
            return f"ts {event.ts.isoformat()} is more than {FUTURE_SKEW} ahead of the clock"
        return None

    def _unique_id(
        self, risk_type: str, customer_id: str | None, segment: str | None, at: datetime
    ) -> str:
        """The batch's id; with -2, -3, ... when a closed warning of that day holds it."""
        base = warning_id(risk_type, customer_id, segment, at)
        candidate, n = base, 1
        while self.store.taken_ids([candidate]):
            n += 1
            candidate = f"{base}-{n}"
        return candidate


def _new_or_higher(
    warnings: pd.DataFrame, active: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The warnings without an active one at the same or a higher level, and those active
    ones they would raise (the others are not for the stream to touch)."""
    held = {
        (c, r): LEVEL_RANK[lv]
        for c, r, lv in zip(active["customer_id"], active["risk_type"], active["level"],
                            strict=True)
    }  # fmt: skip
    rises = [
        LEVEL_RANK[lv] > held.get((c, r), 0)
        for c, r, lv in zip(warnings["customer_id"], warnings["risk_type"], warnings["level"],
                            strict=True)
    ]  # fmt: skip
    warnings = warnings[np.array(rises, dtype=bool)]
    keys = set(zip(warnings["customer_id"], warnings["risk_type"], strict=True))
    mine = [k in keys for k in zip(active["customer_id"], active["risk_type"], strict=True)]
    return warnings, active[np.array(mine, dtype=bool)]


@handler_factory
def instant_warnings(context: HandlerContext) -> InstantWarnings:
    """The handler for a workspace: its catalog, signals, thresholds and stores.

    The online state starts from the workspace's stored rows (the longest window before
    the newest stored row), then follows the events.
    """
    workspace, settings = context.workspace, context.settings
    setup = RunSetup.load(workspace.root, None, None)
    monitor = Monitor(setup.catalog, setup.specs, setup.rules)
    state = OnlineState(monitor.plan)
    customers = CustomerDirectory.of_workspace(workspace)
    with reading_store(workspace) as conn:
        texts = TextRows.of_workspace(workspace, conn, state.plan.columns[Table.INTERACTION_TEXT])
        newest = latest_instant(conn)
        if newest is not None:
            rows = bootstrap(conn, state, newest + timedelta(microseconds=1),
                             customers=customers.known)  # fmt: skip
            log.info("online state: %d rows of %d customers", rows, len(customers.known))
    state_log = None
    if settings.stream.redis_url:  # server mode: the state outlives this worker
        keep_s = max(monitor.plan.horizon_us.values()) // 1_000_000
        state_log = RedisStateLog.of(settings.stream, keep_s)
    store = open_operational_store(workspace, settings.store.operational_url)
    landing = Landing(workspace.root, f"{socket.gethostname()}-{os.getpid()}")
    refresh = score_refresh(workspace, settings.stream, state, store.live_scores)
    return InstantWarnings(
        monitor, state, store, customers, fingerprint=setup.fingerprint, log=state_log,
        texts=texts, landing=landing if settings.stream.land_events else None, refresh=refresh,
    )  # fmt: skip


__all__ = ["FUTURE_SKEW", "UNKNOWN_CUSTOMER", "HandlerStats", "InstantWarnings", "instant_warnings"]
