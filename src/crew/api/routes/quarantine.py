"""`/v1/quarantine`: events the stream accepted but kept away from the indicators."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crew.api.auth import require
from crew.api.schemas import ErrorOut, QuarantinedOut, QuarantineList
from crew.api.state import ApiState, api_state
from crew.store.tokens import ApiToken, TokenScope

router = APIRouter(prefix="/v1/quarantine", tags=["events"])


@router.get(
    "",
    response_model=QuarantineList,
    responses={
        401: {"model": ErrorOut, "description": "No valid API token."},
        403: {"model": ErrorOut, "description": "The token's scope does not allow this."},
        429: {"model": ErrorOut, "description": "Over the token's rate limit; see Retry-After."},
    },
)
def list_quarantine(
    state: Annotated[ApiState, Depends(api_state)],
    _token: Annotated[ApiToken, Depends(require(TokenScope.READ))],
    customer: Annotated[str | None, Query(description="Only this customer's events.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> QuarantineList:
    """Quarantined events with the reason (e.g. an unknown customer), newest first."""
    held = state.store.quarantine.list(customer_id=customer, limit=limit)
    events = [
        QuarantinedOut(
            id=h.id,
            event_key=h.event_key,
            customer_id=h.customer_id,
            reason=h.reason,
            received_at=h.received_at,
            event=json.loads(h.event),
        )
        for h in held
    ]
    return QuarantineList(count=len(events), events=events)


__all__ = ["router"]
