"""Response cases in the operational store: open, work step by step, escalate, close.

Every change is one transaction and leaves a `case_history` row saying who did what, when,
and appends its audit record in the same transaction: a person's change (a step done, a
case closed or given to another team) and the system's (a case opened by a run, a step
escalated when overdue) are both written with their record, or neither is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from crew.errors import CaseNotFoundError, CrewError
from crew.store._case_tables import case_history_table, case_steps_table, cases_table
from crew.store.audit import AuditEntry, append_record, append_records
from crew.types import CaseOutcome, CaseState

WORKING = (CaseState.OPEN, CaseState.IN_PROGRESS, CaseState.ESCALATED)
SYSTEM = "system"
"""The actor of changes nobody made by hand: cases opened by a run, overdue escalations."""
Details = Mapping[str, object]
"""Extra details of a change's audit record, e.g. `{"via": "cli"}`."""


@dataclass(frozen=True)
class CaseStep:
    """One step of a case as stored."""

    position: int
    action: str
    team: str
    channel: str
    message_en: str
    message_zh: str
    due_at: datetime
    escalate_to: str | None
    done_at: datetime | None
    done_by: str | None
    escalated_at: datetime | None


@dataclass(frozen=True)
class CaseRecord:
    """One case as stored, with its steps and (when asked for) its history."""

    id: str
    warning_id: str
    customer_id: str | None
    segment: str | None
    risk_type: str
    level: str
    tier: str
    playbook: str | None
    control: bool
    state: CaseState
    owner_team: str | None
    opened_at: datetime
    closed_at: datetime | None
    outcome: CaseOutcome | None
    steps: list[CaseStep] = field(default_factory=list)
    history: list[dict[str, object]] = field(default_factory=list)


class CaseBook:
    """The cases of one operational store."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def open(self, cases: Sequence[Mapping[str, object]], *, actor: str = SYSTEM) -> int:
        """Store new cases (with their `steps`); a warning that has a case already is skipped.

        Each new case is audited as `case.open` (its warning, playbook, owner, control flag).
        """
        if not cases:
            return 0
        with self._engine.begin() as conn:
            ids = [str(c["warning_id"]) for c in cases]
            have = set(
                conn.scalars(
                    sa.select(cases_table.c.warning_id).where(cases_table.c.warning_id.in_(ids))
                )
            )
            new = [c for c in cases if c["warning_id"] not in have]
            if not new:
                return 0
            columns = [c.name for c in cases_table.columns]
            rows = [{k: c.get(k) for k in columns} for c in new]
            for row, case in zip(rows, new, strict=True):
                row["tier"] = str(case["tier"])
                row["state"] = (CaseState.CONTROL if case["control"] else CaseState.OPEN).value
            conn.execute(cases_table.insert(), rows)
            steps = [
                {"case_id": c["id"], **{k: v for k, v in dict(s).items() if k != "case_id"}}
                for c in new
                for s in c.get("steps", []) or []  # type: ignore[attr-defined]
            ]
            if steps:
                conn.execute(case_steps_table.insert(), steps)
            at = new[0]["opened_at"]
            conn.execute(
                case_history_table.insert(),
                [
                    {
                        "case_id": c["id"],
                        "at": at,
                        "actor": actor,
                        "field": "state",
                        "old": None,
                        "new": "control" if c["control"] else "open",
                        "note": c.get("playbook"),
                    }
                    for c in new
                ],
            )
            opened = [AuditEntry(actor, "case.open", str(c["id"]), _opening(c)) for c in new]
            append_records(conn, opened, at=at)  # type: ignore[arg-type]  # a datetime
            return len(new)

    def find(
        self,
        *,
        states: Sequence[CaseState] | None = None,
        team: str | None = None,
        customer_id: str | None = None,
        limit: int = 100,
    ) -> list[CaseRecord]:
        """Cases matching the filters (default: the ones being worked), oldest first."""
        c = cases_table.c
        query = sa.select(cases_table).where(c.state.in_([s.value for s in states or WORKING]))
        if team is not None:
            query = query.where(c.owner_team == team)
        if customer_id is not None:
            query = query.where(c.customer_id == customer_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(c.opened_at, c.id).limit(limit)).mappings().all()
            return [self._record(conn, row, history=False) for row in rows]

    def outcome_table(self) -> pd.DataFrame:
        """Every case's warning_id, control flag, steps done and outcome (None while open).

        What the evaluation needs to measure the effect of the actions taken.
        """
        c, s = cases_table.c, case_steps_table.c
        done = (
            sa.select(sa.func.count())
            .where(s.case_id == c.id, s.done_at.is_not(None))
            .scalar_subquery()
        )
        query = sa.select(c.warning_id, c.control, done.label("steps_done"), c.outcome)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(c.opened_at, c.id)).all()
        frame = pd.DataFrame(rows, columns=["warning_id", "control", "steps_done", "outcome"])
        return frame.astype({"control": bool, "steps_done": int})

    def get(self, case_id: str) -> CaseRecord:
        """The case `case_id` with its steps and history."""
        with self._engine.connect() as conn:
            return self._record(conn, self._row(conn, case_id), history=True)

    def complete_step(
        self,
        case_id: str,
        position: int,
        *,
        actor: str,
        at: datetime,
        note: str | None = None,
        audit: Details | None = None,
    ) -> CaseRecord:
        """Mark step `position` done; when every step is, the case awaits its outcome.

        Audited as `case.step` with `audit` added to the record's details (e.g. the channel
        the change came from); a step done already changes nothing and is not audited.
        """
        s = case_steps_table.c
        with self._engine.begin() as conn:
            case = self._row(conn, case_id)
            if CaseState(case["state"]) not in WORKING:
                raise CrewError(f"Case {case_id} is {case['state']}: its steps are closed.")
            step = (
                conn.execute(
                    sa.select(case_steps_table).where(s.case_id == case_id, s.position == position)
                )
                .mappings()
                .first()
            )
            if step is None:
                raise CrewError(
                    f"Case {case_id} has no step {position}.",
                    hint=f"'crew cases show {case_id}' lists its steps.",
                )
            if step["done_at"] is not None:
                return self._record(conn, case, history=True)
            conn.execute(
                case_steps_table.update()
                .where(s.case_id == case_id, s.position == position)
                .values(done_at=at, done_by=actor)
            )
            self._log(conn, case_id, at, actor, f"step {position}", None, "done", note)
            pending = conn.scalar(
                sa.select(sa.func.count()).where(s.case_id == case_id, s.done_at.is_(None))
            )
            state = CaseState.AWAITING_OUTCOME if not pending else CaseState.IN_PROGRESS
            self._set(conn, case, at, actor, state=state)
            append_record(conn, actor, "case.step", case_id, {"step": position, **(audit or {})},
                          at=at)  # fmt: skip
            return self._record(conn, self._row(conn, case_id), history=True)

    def escalate_overdue(self, at: datetime, *, actor: str = SYSTEM) -> list[str]:
        """Escalate every open step past its deadline to its `escalate_to` team; their cases.

        Each escalated step is audited as `case.escalate` in the same transaction.
        """
        s, c = case_steps_table.c, cases_table.c
        with self._engine.begin() as conn:
            overdue = (
                conn.execute(
                    sa.select(case_steps_table)
                    .join(cases_table, c.id == s.case_id)
                    .where(
                        s.done_at.is_(None),
                        s.escalated_at.is_(None),
                        s.due_at < at,
                        c.state.in_([w.value for w in WORKING]),
                    )
                    .order_by(s.case_id, s.position)
                )
                .mappings()
                .all()
            )
            escalated, entries = [], []
            for step in overdue:
                conn.execute(
                    case_steps_table.update()
                    .where(s.case_id == step["case_id"], s.position == step["position"])
                    .values(escalated_at=at)
                )
                case = self._row(conn, step["case_id"])
                due = f"{step['due_at']:%Y-%m-%d %H:%M}"
                note = f"step {step['position']} ({step['action']}) overdue since {due}"
                self._set(
                    conn,
                    case,
                    at,
                    actor,
                    state=CaseState.ESCALATED,
                    owner_team=step["escalate_to"] or case["owner_team"],
                    note=note,
                )
                escalated.append(str(step["case_id"]))
                details = {"step": step["position"], "due_at": step["due_at"].isoformat(),
                           "from": case["owner_team"],
                           "owner_team": step["escalate_to"] or case["owner_team"]}  # fmt: skip
                entries.append(AuditEntry(actor, "case.escalate", str(step["case_id"]), details))
            append_records(conn, entries, at=at)
            return escalated

    def reassign(
        self,
        case_id: str,
        team: str,
        *,
        actor: str,
        at: datetime,
        note: str | None = None,
        audit: Details | None = None,
    ) -> CaseRecord:
        """Give the case to `team` (in its history; audited as `case.assign`)."""
        with self._engine.begin() as conn:
            case = self._row(conn, case_id)
            if CaseState(case["state"]) not in WORKING:
                raise CrewError(f"Case {case_id} is {case['state']}: it cannot be reassigned.")
            self._set(conn, case, at, actor, owner_team=team, note=note)
            details = {"owner_team": team, "from": case["owner_team"], **(audit or {})}
            append_record(conn, actor, "case.assign", case_id, details, at=at)
            return self._record(conn, self._row(conn, case_id), history=True)

    def close(
        self,
        case_id: str,
        outcome: CaseOutcome,
        *,
        actor: str,
        at: datetime,
        note: str | None = None,
        audit: Details | None = None,
    ) -> CaseRecord:
        """Close the case with what happened (retained, churned, fraud confirmed, …).

        Audited as `case.close` with the outcome and `audit` in the record's details.
        """
        with self._engine.begin() as conn:
            case = self._row(conn, case_id)
            if case["state"] == CaseState.CLOSED.value:
                raise CrewError(f"Case {case_id} is closed already ({case['outcome']}).")
            self._set(conn, case, at, actor, state=CaseState.CLOSED, outcome=outcome, note=note)
            conn.execute(
                cases_table.update().where(cases_table.c.id == case_id).values(closed_at=at)
            )
            details = {"outcome": outcome.value, **(audit or {})}
            append_record(conn, actor, "case.close", case_id, details, at=at)
            return self._record(conn, self._row(conn, case_id), history=True)

    def _set(
        self,
        conn: sa.Connection,
        case: sa.RowMapping,
        at: datetime,
        actor: str,
        note: str | None = None,
        **values: object,
    ) -> None:
        changed = {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}
        changed = {k: v for k, v in changed.items() if case[k] != v}
        if not changed:
            return
        conn.execute(cases_table.update().where(cases_table.c.id == case["id"]).values(changed))
        for key, value in changed.items():
            self._log(conn, case["id"], at, actor, key, case[key], value, note)

    @staticmethod
    def _log(
        conn: sa.Connection,
        case_id: str,
        at: datetime,
        actor: str,
        field: str,
        old: object,
        new: object,
        note: str | None,
    ) -> None:
        conn.execute(
            case_history_table.insert().values(
                case_id=case_id,
                at=at,
                actor=actor,
                field=field,
                old=None if old is None else str(old),
                new=None if new is None else str(new),
                note=note,
            )
        )

    @staticmethod
    def _row(conn: sa.Connection, case_id: str) -> sa.RowMapping:
        row = conn.execute(sa.select(cases_table).where(cases_table.c.id == case_id)).mappings()
        found = row.first()
        if found is None:
            raise CaseNotFoundError(
                f"No case '{case_id}'.", hint="'crew cases list' shows the cases."
            )
        return found

    @staticmethod
    def _record(conn: sa.Connection, row: sa.RowMapping, *, history: bool) -> CaseRecord:
        s, h = case_steps_table.c, case_history_table.c
        steps = conn.execute(
            sa.select(case_steps_table).where(s.case_id == row["id"]).order_by(s.position)
        ).mappings()
        log: list[dict[str, object]] = []
        if history:
            log = [
                dict(r)
                for r in conn.execute(
                    sa.select(case_history_table).where(h.case_id == row["id"]).order_by(h.at, h.id)
                ).mappings()
            ]
        values = dict(row)
        values["state"] = CaseState(values["state"])
        values["outcome"] = CaseOutcome(values["outcome"]) if values["outcome"] else None
        return CaseRecord(
            **values,
            steps=[
                CaseStep(**{k: v for k, v in dict(st).items() if k != "case_id"}) for st in steps
            ],
            history=log,
        )


def _opening(case: Mapping[str, object]) -> dict[str, object]:
    """Details of a new case's audit record: no personal data, the ids that lead to it."""
    return {
        "warning_id": case["warning_id"],
        "playbook": case.get("playbook"),
        "owner_team": case.get("owner_team"),
        "control": bool(case["control"]),
    }


__all__ = ["SYSTEM", "CaseBook", "CaseRecord", "CaseStep"]
