"""The operational store: warnings (预警记录), their history and runs, in SQLite or PostgreSQL.

SQLAlchemy Core over one schema that Alembic migrations create; opening a store migrates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import pandas as pd
import sqlalchemy as sa
from alembic.util.exc import CommandError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from crew.errors import (
    InvalidTransitionError,
    WarningNotFoundError,
)
from crew.store._ops_engine import (
    MIGRATIONS,
    configure_sqlite,
    create_engine,
    migrate,
    open_error,
)
from crew.store._ops_tables import (
    ACTIVE_STATES,
    decode_frame,
    dump_json,
    history_table,
    raw_columns,
    runs_table,
    warnings_table,
    write_run,
)
from crew.store._outbox_tables import write_notifications, write_run_notifications
from crew.store.audit import AuditEntry, AuditLog, append_record, append_records
from crew.store.blacklist import Blacklist
from crew.store.cases import CaseBook, Details
from crew.store.live_scores import LiveScores
from crew.store.outbox import Outbox
from crew.store.quarantine import QuarantineLog
from crew.store.silences import SilenceBook
from crew.store.tokens import TokenRegistry
from crew.store.users import UserRegistry
from crew.store.warning_records import (
    ALLOWED_TRANSITIONS,
    HistoryEntry,
    RunRecord,
    WarningRecord,
    warning_id,
)
from crew.store.warning_stats import WarningStats
from crew.store.workspace import Workspace
from crew.types import Level, NotificationEvent, RiskType, WarningState


class OperationalStore:
    """Warnings, their history and runs behind one SQLAlchemy engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> OperationalStore:
        """The store at `url`, migrated to the newest schema; OperationalStoreError if it fails."""
        engine = create_engine(url)
        try:
            migrate(engine)
        except (DBAPIError, CommandError) as exc:
            engine.dispose()
            raise open_error(engine.url, exc) from None
        return cls(engine)

    @classmethod
    def in_memory(cls) -> OperationalStore:
        """A throwaway store in memory (dry runs, tests)."""
        engine = sa.create_engine(
            "sqlite://",
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
            json_serializer=dump_json,
        )
        configure_sqlite(engine)
        migrate(engine)
        return cls(engine)

    @property
    def url(self) -> str:
        """The store's URL with any password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def blacklist(self) -> Blacklist:
        """The shared blacklist entries kept in this store (hashes only)."""
        return Blacklist(self._engine)

    @property
    def outbox(self) -> Outbox:
        """The notifications of warning changes and their webhook deliveries."""
        return Outbox(self._engine)

    @property
    def silences(self) -> SilenceBook:
        """The silences users set on notifications."""
        return SilenceBook(self._engine)

    @property
    def cases(self) -> CaseBook:
        """The response cases kept in this store."""
        return CaseBook(self._engine)

    @property
    def quarantine(self) -> QuarantineLog:
        """Events the stream accepted but kept away from the indicators, with the reason."""
        return QuarantineLog(self._engine)

    @property
    def live_scores(self) -> LiveScores:
        """Assessments the stream refreshed between scheduled runs (one per customer)."""
        return LiveScores(self._engine)

    @property
    def tokens(self) -> TokenRegistry:
        """The API tokens kept in this store (hashed)."""
        return TokenRegistry(self._engine)

    @property
    def users(self) -> UserRegistry:
        """The dashboard users kept in this store (passwords hashed)."""
        return UserRegistry(self._engine)

    @property
    def audit(self) -> AuditLog:
        """The hash-chained audit log kept in this store."""
        return AuditLog(self._engine)

    @property
    def stats(self) -> WarningStats:
        """Counts of warnings for dashboards (aggregated in the database)."""
        return WarningStats(self._engine)

    def close(self) -> None:
        """Release the connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def active_warnings(
        self,
        at: datetime | None = None,
        *,
        customers: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Every active warning, one row each with all columns (or `columns`); with `at`,
        first seen by `at`; with `customers`, only theirs."""
        w = warnings_table.c
        where: list[sa.ColumnElement[bool]] = [w.state.in_(ACTIVE_STATES)]
        if at is not None:
            where.append(w.first_seen <= at)
        if customers is not None:
            where.append(w.customer_id.in_(list(customers)))
        names = list(columns) if columns is not None else [c.name for c in warnings_table.columns]
        return self._frame(names, where)

    def active_counts(self) -> dict[Level, int]:
        """Number of active warnings per level (levels without any are left out)."""
        w = warnings_table.c
        query = (
            sa.select(w.level, sa.func.count()).where(w.state.in_(ACTIVE_STATES)).group_by(w.level)
        )
        with self._engine.connect() as conn:
            return {Level(level): int(n) for level, n in conn.execute(query)}

    def warnings_frame(self) -> pd.DataFrame:
        """Every warning ever stored, whatever its state, one row each with all columns."""
        return self._frame([c.name for c in warnings_table.columns], [])

    def cooling_down(self, at: datetime, *, customers: Sequence[str] | None = None) -> pd.DataFrame:
        """Closed warnings whose cooldown has not ended at `at` (they must not reopen yet)."""
        w = warnings_table.c
        names = ["id", "customer_id", "segment", "risk_type", "level", "cooldown_until"]
        where = [w.state.not_in(ACTIVE_STATES), w.cooldown_until > at]
        if customers is not None:
            where.append(w.customer_id.in_(list(customers)))
        return self._frame(names, where)

    def apply_run(
        self,
        run: RunRecord,
        opened: pd.DataFrame,
        updated: pd.DataFrame,
        closed: pd.DataFrame,
        *,
        held: pd.DataFrame | None = None,
    ) -> None:
        """Write one run's changes, its notifications and `runs` row in one transaction.

        `opened` has the table's columns (at least risk_type, level, score, first_seen and a
        customer_id or segment; `id` defaults to `warning_id(...)`); `updated` has id, level,
        score, last_seen, signals, evidence, reasons, recommended_action; `closed` has id,
        resolved_at, cooldown_until and optionally state (default resolved). Other columns are
        ignored; timestamps must be time-zone aware. `held` (id of the closed warning, level,
        cooldown_until) records warnings held back in cooldown. Each opened, escalated and
        closed warning gets a pending notification in the outbox, in the same transaction.

        Raises:
            DuplicateWarningError: a second active warning for a subject and type, a warning
                id or the run id already stored; nothing is written.
        """

        def notify(conn: sa.Connection, history: pd.DataFrame) -> None:
            write_run_notifications(conn, history, held, run.as_of)
            at = run.finished_at or datetime.now(UTC)
            append_records(conn, run_audit_entries(history, run.run_id), at=at)

        write_run(self._engine, run, opened, updated, closed, on_changes=notify)

    def list_warnings(
        self,
        *,
        states: Sequence[WarningState] | None = None,
        levels: Sequence[Level] | None = None,
        risk_types: Sequence[RiskType] | None = None,
        customer_id: str | None = None,
        segment: str | None = None,
        limit: int = 100,
    ) -> list[WarningRecord]:
        """Warnings matching every filter given (default: the active ones), newest first."""
        w = warnings_table.c
        wanted = [s.value for s in states] if states is not None else list(ACTIVE_STATES)
        query = sa.select(warnings_table).where(w.state.in_(wanted))
        if levels is not None:
            query = query.where(w.level.in_([v.value for v in levels]))
        if risk_types is not None:
            query = query.where(w.risk_type.in_([v.value for v in risk_types]))
        if customer_id is not None:
            query = query.where(w.customer_id == customer_id)
        if segment is not None:
            query = query.where(w.segment == segment)
        severity = sa.case({"high": 3, "medium": 2, "low": 1}, value=w.level, else_=0)
        query = query.order_by(w.last_seen.desc(), severity.desc(), w.id).limit(limit)
        with self._engine.connect() as conn:
            return [_warning(row) for row in conn.execute(query).mappings()]

    def taken_ids(self, ids: Sequence[str]) -> set[str]:
        """Those of `ids` that some stored warning already has."""
        found: set[str] = set()
        with self._engine.connect() as conn:
            for start in range(0, len(ids), 1000):
                chunk = list(ids[start : start + 1000])
                query = sa.select(warnings_table.c.id).where(warnings_table.c.id.in_(chunk))
                found.update(conn.scalars(query))
        return found

    def get_warning(self, id: str) -> WarningRecord:
        """The warning `id`; WarningNotFoundError if there is none."""
        with self._engine.connect() as conn:
            return _get(conn, id)

    def history(self, id: str) -> list[HistoryEntry]:
        """Every change of warning `id`, oldest first."""
        h = history_table.c
        with self._engine.connect() as conn:
            _get(conn, id)
            rows = conn.execute(
                sa.select(history_table).where(h.warning_id == id).order_by(h.at, h.id)
            ).mappings()
            return [HistoryEntry(**row) for row in rows]

    def set_state(
        self,
        id: str,
        state: WarningState,
        *,
        actor: str,
        at: datetime,
        note: str | None = None,
        cooldown_until: datetime | None = None,
        audit: Details | None = None,
    ) -> WarningRecord:
        """Move warning `id` to `state` (open → acknowledged → in_progress → closed); a closed
        warning may keep its subject from a new warning of its type until `cooldown_until`.

        Audited as `warning.state` (from, to and `audit`, e.g. the channel) in the same
        transaction: the change and its record are both written, or neither is.
        """
        with self._engine.begin() as conn:
            current = _get(conn, id, for_update=True)
            allowed = ALLOWED_TRANSITIONS[current.state]
            if state not in allowed:
                raise _transition_error(current, state)
            values: dict[str, object] = {"state": state.value}
            if not state.is_active:
                values["resolved_at"] = at
                values["cooldown_until"] = cooldown_until
            conn.execute(warnings_table.update().where(warnings_table.c.id == id).values(values))
            _record(conn, id, at, actor, "state", current.state.value, state.value, note)
            if not state.is_active:
                write_notifications(conn, NotificationEvent.RESOLVED, [id])
            details = {"field": "state", "from": current.state.value, "to": state.value}
            append_record(conn, actor, "warning.state", id, {**details, **(audit or {})}, at=at)
            return _get(conn, id)

    def assign(
        self, id: str, assignee: str, *, actor: str, at: datetime, audit: Details | None = None
    ) -> WarningRecord:
        """Give warning `id` to `assignee` (in its history; audited as `warning.assign` in
        the same transaction). Giving it to whom it has already changes nothing."""
        with self._engine.begin() as conn:
            current = _get(conn, id, for_update=True)
            if current.assignee == assignee:
                return current
            conn.execute(
                warnings_table.update().where(warnings_table.c.id == id).values(assignee=assignee)
            )
            _record(conn, id, at, actor, "assignee", current.assignee, assignee, None)
            details = {"field": "assignee", "from": current.assignee, "to": assignee}
            append_record(conn, actor, "warning.assign", id, {**details, **(audit or {})}, at=at)
            return _get(conn, id)

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The newest `limit` runs, newest first."""
        query = sa.select(runs_table).order_by(runs_table.c.started_at.desc()).limit(limit)
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings()
            return [
                RunRecord(**{**row, "counts": {str(k): int(v) for k, v in row["counts"].items()}})
                for row in rows
            ]

    def _frame(self, names: list[str], where: list[sa.ColumnElement[bool]]) -> pd.DataFrame:
        with self._engine.connect() as conn:
            columns = raw_columns(names, conn.dialect.name)
            query = sa.select(*columns).where(*where).order_by(warnings_table.c.id)
            rows = conn.execute(query).all()
        return decode_frame(pd.DataFrame.from_records(rows, columns=names, coerce_float=True))


def open_operational_store(workspace: Workspace, settings_url: str | None) -> OperationalStore:
    """The store at `settings_url` (crew.toml's store.operational_url), else the workspace's."""
    return OperationalStore.open(settings_url or workspace.operational_url)


def run_audit_entries(history: pd.DataFrame, run_id: str) -> list[AuditEntry]:
    """The audit records of a run's warning changes (actor `system`): opened, escalated,
    lowered and closed warnings, each with what changed and the run that changed it."""
    if history.empty:
        return []
    actions = {"created": "warning.open", "state": "warning.resolve"}
    entries = []
    for row in history.itertuples(index=False):
        if row.field == "level":
            action = "warning.escalate" if row.note == "escalated" else "warning.level"
        elif row.field in actions:
            action = actions[str(row.field)]
        else:
            continue
        details = {"run_id": run_id, "from": row.old_value, "to": row.new_value, "note": row.note}
        entries.append(AuditEntry("system", action, str(row.warning_id), details))
    return entries


def _get(conn: sa.Connection, id: str, *, for_update: bool = False) -> WarningRecord:
    query = sa.select(warnings_table).where(warnings_table.c.id == id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise WarningNotFoundError(f"No warning '{id}'.", hint="'crew alerts list' shows the ids.")
    return _warning(row)


def _warning(row: sa.RowMapping) -> WarningRecord:
    values = dict(row)
    return WarningRecord(
        **{
            **values,
            "risk_type": RiskType(values["risk_type"]),
            "level": Level(values["level"]),
            "state": WarningState(values["state"]),
            "score": float(values["score"]),
        }
    )


def _record(
    conn: sa.Connection,
    id: str,
    at: datetime,
    actor: str,
    name: str,
    old: str | None,
    new: str | None,
    note: str | None,
) -> None:
    conn.execute(
        history_table.insert().values(
            warning_id=id,
            at=at,
            actor=actor,
            field=name,
            old_value=old,
            new_value=new,
            note=note,
        )
    )


def _transition_error(current: WarningRecord, state: WarningState) -> InvalidTransitionError:
    allowed = ALLOWED_TRANSITIONS[current.state]
    if current.state == state:
        message = f"Warning '{current.id}' is already {state.value}."
    else:
        message = (
            f"Warning '{current.id}' is {current.state.value}; it cannot become {state.value}."
        )
    if allowed:
        hint = f"From {current.state.value} it can become: {', '.join(s.value for s in allowed)}."
    else:
        hint = "A closed warning stays closed; a new breach opens a new warning."
    return InvalidTransitionError(message, hint=hint)


__all__ = [
    "ALLOWED_TRANSITIONS",
    "MIGRATIONS",
    "HistoryEntry",
    "OperationalStore",
    "RunRecord",
    "WarningRecord",
    "open_operational_store",
    "warning_id",
]
