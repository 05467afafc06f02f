"""What the API answers and accepts, as pydantic models (they make /openapi.json)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from crew.store.operational import HistoryEntry, WarningRecord
from crew.types import Level, RiskType, WarningState, finite


class WarningOut(BaseModel):
    """A stored warning (预警), as `crew alerts show --json` prints it."""

    id: str = Field(description="Readable id: risk type, subject and the day first seen.")
    subject: str = Field(description="The customer id, or seg.<segment> for a segment.")
    customer_id: str | None = Field(description="Customer warned about (or null).")
    segment: str | None = Field(description="Segment warned about (or null).")
    risk_type: RiskType = Field(description="Kind of relationship risk.")
    level: Level = Field(description="Warning level: low, medium or high.")
    score: float = Field(description="The score the level was graded from.")
    state: WarningState = Field(description="Lifecycle state.")
    first_seen: datetime = Field(description="When the warning was opened.")
    last_seen: datetime = Field(description="Last evaluation that confirmed it.")
    level_changed_at: datetime = Field(description="When the level last changed.")
    resolved_at: datetime | None = Field(description="When it was closed (or null).")
    cooldown_until: datetime | None = Field(description="No reopening before this instant.")
    parent_id: str | None = Field(description="Segment warning it is grouped under.")
    signals: list[str] = Field(description="Signals that fired.")
    evidence: dict[str, JsonValue] = Field(description="Values behind the warning.")
    reasons: list[dict[str, JsonValue]] = Field(description="Reasons, most important first.")
    recommended_action: str | None = Field(description="What to do about it.")
    run_id: str = Field(description="Run that last wrote it.")
    assignee: str | None = Field(description="Who is working on it.")

    @classmethod
    def of(cls, record: WarningRecord) -> Self:
        """The answer for one stored warning (NaN values become null)."""
        values = {f.name: finite(getattr(record, f.name)) for f in dataclasses.fields(record)}
        return cls.model_validate({**values, "subject": record.subject})


class HistoryOut(BaseModel):
    """One change of a warning."""

    at: datetime = Field(description="When it changed.")
    actor: str = Field(description="Who changed it: a user, an API token's name, 'crew run'.")
    field: str = Field(description="What changed: created, state, level, assignee.")
    old_value: str | None = Field(description="Value before.")
    new_value: str | None = Field(description="Value after.")
    note: str | None = Field(description="Why, when given.")

    @classmethod
    def of(cls, entry: HistoryEntry) -> Self:
        """The answer for one history entry."""
        return cls.model_validate(dataclasses.asdict(entry))


class WarningDetail(WarningOut):
    """A warning with its whole history, oldest change first."""

    history: list[HistoryOut] = Field(description="Every change, oldest first.")


class WarningList(BaseModel):
    """Warnings matching a query, newest first."""

    count: int = Field(description="Number of warnings in this answer.")
    warnings: list[WarningOut] = Field(description="The warnings, newest first.")


class WarningChange(BaseModel):
    """A change to a warning: a new state, a new assignee, or both (state first)."""

    model_config = ConfigDict(extra="forbid")

    state: WarningState | None = Field(
        default=None,
        description="open -> acknowledged -> in_progress; any active state -> resolved or "
        "false_positive; closed is final.",
    )
    assignee: str | None = Field(
        default=None, min_length=1, max_length=200, description="Who takes it on."
    )
    note: str | None = Field(default=None, max_length=2000, description="Why, kept in the history.")

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if self.state is None and self.assignee is None:
            raise ValueError("give a state, an assignee or both")
        return self


class ScoreOut(BaseModel):
    """A customer's latest assessment: the scheduled run's (`crew run`, `crew score`) or,
    when newer, the stream's refresh after a material change of the model's inputs."""

    as_of: datetime = Field(description="Instant the assessment is for.")
    model_version: int = Field(description="Registered model version that scored it.")
    state: str = Field(description="Scored, or why not (e.g. too little history).")
    churn_probability: float | None = Field(description="Calibrated churn probability 0-1.")
    risk_index: float | None = Field(description="Overall risk index 0-100.")
    level: str = Field(description="high, medium, low or none.")
    colour: str = Field(description="red, orange, yellow or green.")
    fuzzy_index: float | None = Field(description="Fuzzy comprehensive evaluation index.")
    coverage: float | None = Field(description="Share of indicators with a value.")
    clv: float | None = Field(description="Customer lifetime value.")
    clv_decline: float | None = Field(description="Relative decline of the CLV.")
    dimension_scores: dict[str, JsonValue] | None = Field(description="Score per dimension.")
    reasons: list[JsonValue] | None = Field(description="Top reasons, most important first.")
    evidence_note: str | None = Field(description="Note on the evidence behind the score.")
    computed_at: datetime = Field(description="When it was computed.")
    source: Literal["run", "stream"] = Field(
        default="run",
        description="run: the scheduled run's score; stream: refreshed since by the stream.",
    )
    moved: list[JsonValue] | None = Field(
        default=None,
        description="Stream only: the model inputs whose change caused the refresh "
        "(values and percentiles before and now), largest move first.",
    )


class CustomerRisk(BaseModel):
    """Where a customer stands: the latest assessment and the active warnings."""

    customer_id: str = Field(description="Customer identifier.")
    score: ScoreOut | None = Field(description="Latest stored assessment; null if never scored.")
    warnings: list[WarningOut] = Field(description="Active warnings, newest first.")


class Check(BaseModel):
    """Whether one dependency answered."""

    ok: bool = Field(description="True when it answered.")
    kind: str = Field(description="What it is: sqlite, postgresql, duckdb, redis, in-process.")
    detail: str | None = Field(default=None, description="Why not, when it did not.")


class Health(BaseModel):
    """The service and the stores and bus it depends on."""

    status: Literal["ok", "degraded"] = Field(description="ok when every check passed.")
    version: str = Field(description="Version of crew.")
    checks: dict[str, Check] = Field(description="operational, analytical and bus.")


class Accepted(BaseModel):
    """Events taken onto the bus."""

    accepted: int = Field(description="Number of events published.")


class ErrorDetail(BaseModel):
    """What went wrong and what to do."""

    code: str = Field(description="Machine-readable code, e.g. warning_not_found.")
    message: str = Field(description="What happened, naming the value.")
    hint: str | None = Field(description="What to do about it.")
    problems: list[str] | None = Field(default=None, description="Each invalid field.")
    total: int | None = Field(default=None, description="Number of problems in all.")


class ErrorOut(BaseModel):
    """The body of every 4xx and 5xx answer."""

    error: ErrorDetail = Field(description="The error.")


class QuarantinedOut(BaseModel):
    """An event the stream accepted and kept away from the indicators."""

    id: int = Field(description="Row number in the quarantine.")
    event_key: str = Field(description="table:record_id of the event.")
    customer_id: str | None = Field(description="Customer the event named.")
    reason: str = Field(description="Why it was quarantined, e.g. unknown customer.")
    received_at: datetime = Field(description="When the stream handler quarantined it.")
    event: dict[str, JsonValue] = Field(description="The event as it arrived.")


class QuarantineList(BaseModel):
    """Quarantined events, newest first."""

    count: int = Field(description="Number of events in this answer.")
    events: list[QuarantinedOut] = Field(description="The events, newest first.")


__all__ = [
    "Accepted",
    "Check",
    "CustomerRisk",
    "ErrorOut",
    "Health",
    "HistoryOut",
    "QuarantineList",
    "QuarantinedOut",
    "ScoreOut",
    "WarningChange",
    "WarningDetail",
    "WarningList",
    "WarningOut",
    "finite",
]
