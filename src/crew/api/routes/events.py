"""`POST /v1/events`: transactions, interactions and account events onto the bus.

The body is one event or a JSON list of them. Every item is validated before anything is
published; one bad item (422, naming its index and field) keeps the whole batch out.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter

from crew.api.auth import require
from crew.api.schemas import Accepted, ErrorOut
from crew.api.state import ApiState, api_state
from crew.errors import ValidationFailed
from crew.ingest.events import Event, parse_events
from crew.store.tokens import ApiToken, TokenScope

router = APIRouter(prefix="/v1", tags=["events"])

# The body is read and validated by hand (to name the bad item and keep the batch out), so
# its schema is declared here; `crew.api.app` adds the event models to the components.
EVENT_SCHEMA = TypeAdapter[object](Event).json_schema(ref_template="#/components/schemas/{model}")
EVENT_DEFS = EVENT_SCHEMA.pop("$defs")
_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"anyOf": [EVENT_SCHEMA, {"type": "array", "items": EVENT_SCHEMA}]},
            "example": {
                "table": "transactions",
                "txn_id": "T-1001",
                "customer_id": "C0001",
                "ts": "2025-06-01T09:30:00+08:00",
                "amount": 129.0,
                "type": "purchase",
            },
        }
    },
}


@router.post(
    "/events",
    status_code=202,
    response_model=Accepted,
    openapi_extra={"requestBody": _BODY},
    responses={
        401: {"model": ErrorOut, "description": "No valid API token."},
        403: {"model": ErrorOut, "description": "The token lacks the ingest scope."},
        413: {"model": ErrorOut, "description": "The body is above api.max_body_bytes."},
        422: {"model": ErrorOut, "description": "An event is malformed; none was accepted."},
        429: {"model": ErrorOut, "description": "Rate limit or full stream; see Retry-After."},
        503: {"model": ErrorOut, "description": "The event bus is unreachable."},
    },
)
async def post_events(
    request: Request,
    state: Annotated[ApiState, Depends(api_state)],
    _token: Annotated[ApiToken, Depends(require(TokenScope.INGEST))],
) -> Accepted:
    """Validate one event or a list of them and publish them all, or none."""
    raw = await request.body()
    events = await run_in_threadpool(_parse, raw)
    count = await run_in_threadpool(state.bus.publish, events)
    for table, n in Counter(getattr(e, "table", "?") for e in events).items():
        state.metrics.events_in.labels(table).inc(n)
    return Accepted(accepted=count)


def _parse(raw: bytes) -> list[Event]:
    try:
        payload = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            f"The body is not JSON ({exc.__class__.__name__} at position "
            f"{getattr(exc, 'pos', '?')}); none was accepted.",
            problems=[],
            total=0,
            hint="Send one event object or a JSON list of them.",
        ) from None
    if isinstance(payload, list) and not payload:
        raise ValidationFailed(
            "The list of events is empty.", problems=[], total=0, hint="Send at least one."
        )
    return parse_events(payload)


__all__ = ["EVENT_DEFS", "router"]
