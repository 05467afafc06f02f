"""Real-time events: rows of the canonical tables, validated one by one as they arrive.

An event is a transaction, an interaction or an account event with a `table` tag naming
which; its fields are that table's columns (see `crew.store.schema`), with the same rules
as an import: ids are strings, timestamps carry a time zone, amounts are never negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from crew.errors import ValidationFailed
from crew.types import InteractionKind, TxnType

Id = Annotated[str, Field(min_length=1, max_length=200, description="Identifier (a string).")]
_SHOWN_PROBLEMS = 20


class CanonicalEvent(BaseModel):
    """What every event has: the customer, the instant, and an id unique in its table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: Id = Field(description="Customer identifier.")
    ts: AwareDatetime = Field(description="When it happened, with a time zone (stored as UTC).")

    @field_validator("ts", "resolved_ts", mode="after", check_fields=False)
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    @property
    def record_id(self) -> str:
        """The row's own id (txn_id, interaction_id or event_id)."""
        raise NotImplementedError

    @property
    def key(self) -> str:
        """Id of the event across tables, `table:record_id`: what deduplication compares."""
        return f"{getattr(self, 'table', '?')}:{self.record_id}"


class TransactionEvent(CanonicalEvent):
    """A money movement: one row of `transactions`."""

    table: Literal["transactions"] = Field(description="Always 'transactions'.")
    txn_id: Id = Field(description="Transaction identifier.")
    amount: float = Field(ge=0, allow_inf_nan=False, description="Money amount, never negative.")
    type: TxnType | None = Field(default=None, description="Kind of money movement.")
    channel: str | None = Field(default=None, description="app, web, store, branch, ...")
    category: str | None = Field(default=None, description="Product category.")
    status: str | None = Field(default=None, description="completed, failed, reversed.")
    quantity: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="Units bought, when known."
    )

    @property
    def record_id(self) -> str:
        """The transaction id."""
        return self.txn_id


class InteractionEvent(CanonicalEvent):
    """A contact: one row of `interactions` (complaint, ticket, survey, review, ...)."""

    table: Literal["interactions"] = Field(description="Always 'interactions'.")
    interaction_id: Id = Field(description="Interaction identifier.")
    kind: InteractionKind = Field(description="Kind of contact.")
    severity: int | None = Field(default=None, ge=1, le=5, description="1 (minor) to 5.")
    status: str | None = Field(default=None, description="open, resolved, escalated.")
    resolved_ts: AwareDatetime | None = Field(default=None, description="When it was resolved.")
    nps: int | None = Field(default=None, ge=0, le=10, description="Net Promoter answer 0-10.")
    csat: int | None = Field(default=None, ge=1, le=5, description="Satisfaction 1-5.")
    rating: float | None = Field(default=None, ge=1, le=5, description="Review rating 1-5.")
    text: str | None = Field(default=None, description="Free text (may hold personal data).")

    @model_validator(mode="after")
    def _resolved_after_opened(self) -> InteractionEvent:
        if self.resolved_ts is not None and self.resolved_ts < self.ts:
            raise ValueError("resolved_ts is before ts")
        return self

    @property
    def record_id(self) -> str:
        """The interaction id."""
        return self.interaction_id


class AccountEvent(CanonicalEvent):
    """An account or data event: one row of `events` (login, device change, data access)."""

    table: Literal["events"] = Field(description="Always 'events'.")
    event_id: Id = Field(description="Event identifier.")
    kind: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        description="snake_case kind: login, login_failed, device_change, data_access, ...",
    )
    actor: str | None = Field(default=None, description="The customer, a staff id, a system.")
    attributes: dict[str, JsonValue] | None = Field(
        default=None, description="Anything else, as a JSON object."
    )

    @property
    def record_id(self) -> str:
        """The event id."""
        return self.event_id


Event = Annotated[TransactionEvent | InteractionEvent | AccountEvent, Field(discriminator="table")]
EVENT = TypeAdapter[TransactionEvent | InteractionEvent | AccountEvent](Event)


@dataclass(frozen=True)
class Delivery:
    """An event as a bus handed it out: where it sits, so that it can be acknowledged."""

    entry_id: str
    partition: int
    event: Event


def parse_events(payload: object) -> list[Event]:
    """Events from decoded JSON: one object or a list of them; all valid or none.

    Raises:
        ValidationFailed: naming each bad item by index and field, e.g. `[3].amount`.
    """
    items = payload if isinstance(payload, list) else [payload]
    events: list[Event] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            events.append(EVENT.validate_python(item))
        except ValidationError as exc:
            problems.extend(_describe(index, exc))
    if problems:
        total = len(problems)
        raise ValidationFailed(
            f"{total} problem(s) in {len(items)} event(s); none was accepted.",
            problems=problems[:_SHOWN_PROBLEMS],
            total=total,
            hint="Each event needs 'table' (transactions, interactions or events) and that "
            "table's columns; see GET /docs.",
        )
    return events


def event_json(event: Event) -> str:
    """The event as compact JSON (what the bus carries)."""
    return event.model_dump_json(exclude_none=True)


def event_from_json(text: str | bytes) -> Event:
    """An event from the bus's JSON; ValidationError if it is not one."""
    return EVENT.validate_json(text)


def _describe(index: int, exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = list(error["loc"])
        if loc and loc[0] in ("transactions", "interactions", "events"):
            loc = loc[1:]  # the discriminator's tag, not a field
        if error["type"] in ("union_tag_not_found", "union_tag_invalid"):
            loc = ["table"]
        where = f"[{index}]" + "".join(f".{part}" for part in loc)
        lines.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return lines


__all__ = [
    "EVENT",
    "AccountEvent",
    "CanonicalEvent",
    "Delivery",
    "Event",
    "InteractionEvent",
    "TransactionEvent",
    "event_from_json",
    "event_json",
    "parse_events",
]
