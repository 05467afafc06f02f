"""`/v1/alerts`: list and inspect stored warnings, change their state or assignee."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from crew.api.auth import require
from crew.api.schemas import (
    ErrorOut,
    HistoryOut,
    WarningChange,
    WarningDetail,
    WarningList,
    WarningOut,
)
from crew.api.state import ApiState, api_state
from crew.store.operational import OperationalStore
from crew.store.tokens import ApiToken, TokenScope
from crew.types import Level, RiskType, WarningState

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid API token."},
    403: {"model": ErrorOut, "description": "The token's scope does not allow this."},
    429: {"model": ErrorOut, "description": "Over the token's rate limit; see Retry-After."},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No warning has this id."}
}


class StateQuery(StrEnum):
    """Which states a listing shows: active (open, acknowledged, in_progress), all, or one."""

    ACTIVE = "active"
    ALL = "all"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    FALSE_POSITIVE = "false_positive"

    def states(self) -> list[WarningState]:
        """The warning states this stands for."""
        if self == StateQuery.ACTIVE:
            return [s for s in WarningState if s.is_active]
        if self == StateQuery.ALL:
            return list(WarningState)
        return [WarningState(self.value)]


@router.get("", response_model=WarningList, responses=_ERRORS)
def list_alerts(
    state: Annotated[ApiState, Depends(api_state)],
    _token: Annotated[ApiToken, Depends(require(TokenScope.READ))],
    level: Annotated[list[Level] | None, Query(description="Only these levels.")] = None,
    risk_type: Annotated[
        list[RiskType] | None, Query(alias="type", description="Only these risk types.")
    ] = None,
    warning_state: Annotated[
        StateQuery, Query(alias="state", description="Which states to show.")
    ] = StateQuery.ACTIVE,
    customer: Annotated[str | None, Query(description="Only this customer's warnings.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> WarningList:
    """Stored warnings matching every filter, newest first (last seen, then level)."""
    records = state.store.list_warnings(
        states=warning_state.states(),
        levels=level or None,
        risk_types=risk_type or None,
        customer_id=customer,
        limit=limit,
    )
    return WarningList(count=len(records), warnings=[WarningOut.of(r) for r in records])


@router.get("/{warning_id}", response_model=WarningDetail, responses=_ERRORS | _NOT_FOUND)
def get_alert(
    warning_id: str,
    state: Annotated[ApiState, Depends(api_state)],
    _token: Annotated[ApiToken, Depends(require(TokenScope.READ))],
) -> WarningDetail:
    """One warning with its evidence, reasons and history."""
    return _detail(state.store, warning_id)


@router.patch(
    "/{warning_id}",
    response_model=WarningDetail,
    responses=_ERRORS
    | _NOT_FOUND
    | {409: {"model": ErrorOut, "description": "The state change is not allowed."}},
)
def change_alert(
    warning_id: str,
    change: WarningChange,
    state: Annotated[ApiState, Depends(api_state)],
    token: Annotated[ApiToken, Depends(require(TokenScope.ADMIN))],
) -> WarningDetail:
    """Move a warning to another state and/or assign it; the token's name is the actor.

    The state changes first: when it is not allowed (409), nothing is written at all. Each
    change is audited (`via: api`) in the same transaction as the change itself.
    """
    now, via = datetime.now(UTC), {"via": "api"}
    if change.state is not None:
        state.store.set_state(warning_id, change.state, actor=token.name, at=now,
                              note=change.note, audit=via)  # fmt: skip
    if change.assignee is not None:
        state.store.assign(warning_id, change.assignee, actor=token.name, at=now, audit=via)
    return _detail(state.store, warning_id)


def _detail(store: OperationalStore, warning_id: str) -> WarningDetail:
    record = store.get_warning(warning_id)
    history = [HistoryOut.of(h) for h in store.history(warning_id)]
    return WarningDetail(**WarningOut.of(record).model_dump(), history=history)


__all__ = ["router"]
