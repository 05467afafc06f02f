"""`/v1/stream/alerts`: warning changes as Server-Sent Events, as they are committed.

The stream tails the outbox table (every `notify.stream_poll_s` seconds), so it shows the
changes of every writer, `crew run`, stream workers or people, in embedded and server mode.
Each event is `event: warning`, `id: <outbox id>` and `data: <JSON>`; a client that
reconnects with `Last-Event-ID` gets exactly the events after that id. A comment line goes
out after `notify.stream_heartbeat_s` seconds of quiet, so proxies keep the connection.

Browsers' EventSource cannot send headers, so the token may come as `?token=`. URLs end up
in logs and histories: CREW masks `token=` in its access log, but use a read-only token here
and rotate it; prefer the header wherever the client can send one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse

from crew.api.auth import require_in_query
from crew.api.schemas import ErrorOut
from crew.api.state import ApiState, api_state
from crew.store.outbox import Outbox
from crew.store.tokens import TokenScope

router = APIRouter(prefix="/v1/stream", tags=["stream"])

STREAM_READER = require_in_query(TokenScope.READ)
"""Who may read the stream. A page whose browser holds a session cookie rather than a token
(the dashboard) can admit its users with `app.dependency_overrides[STREAM_READER] = ...`."""

_BATCH = 100
_RETRY_MS = 3000  # how long a browser waits before reconnecting


class _MaskTokens(logging.Filter):
    """Replaces `token=<secret>` in access-log lines with `token=***`."""

    _pattern = re.compile(r"(token=)[^&\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._pattern.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


_access_log = logging.getLogger("uvicorn.access")
if not any(isinstance(f, _MaskTokens) for f in _access_log.filters):
    _access_log.addFilter(_MaskTokens())

_EVENTS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
        "description": "An endless stream: `event: warning`, `id:` and `data:` (the JSON of "
        "one change, as webhooks get it), and `: heartbeat` comments.",
    },
    401: {"model": ErrorOut, "description": "No valid API token."},
    403: {"model": ErrorOut, "description": "The token's scope does not allow this."},
    429: {"model": ErrorOut, "description": "Over the token's rate limit; see Retry-After."},
}


@router.get("/alerts", response_class=StreamingResponse, responses=_EVENTS)
async def stream_alerts(
    request: Request,
    state: Annotated[ApiState, Depends(api_state)],
    _reader: Annotated[object, Depends(STREAM_READER)],
    last_event_id: Annotated[
        int | None,
        Header(
            alias="Last-Event-ID",
            ge=0,
            description="Resume after this event id (browsers send it when they reconnect); "
            "without it the stream starts with the next change.",
        ),
    ] = None,
) -> StreamingResponse:
    """Warning changes (opened, escalated, resolved) as Server-Sent Events.

    Needs a read token, as `Authorization: Bearer` or, for EventSource, `?token=`.
    """
    outbox = state.store.outbox
    start = last_event_id if last_event_id is not None else await asyncio.to_thread(outbox.last_id)
    notify = state.settings.notify
    events = _events(request, outbox, start, notify.stream_poll_s, notify.stream_heartbeat_s)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request, outbox: Outbox, last: int, poll_s: float, heartbeat_s: float
) -> AsyncIterator[str]:
    yield f"retry: {_RETRY_MS}\n\n"
    quiet_since = time.monotonic()
    while not await request.is_disconnected():
        batch = await asyncio.to_thread(outbox.after, last, _BATCH)
        for notification in batch:
            data = json.dumps(notification.payload(), ensure_ascii=False)
            yield f"event: warning\nid: {notification.id}\ndata: {data}\n\n"
            last = notification.id
        now = time.monotonic()
        if batch:
            quiet_since = now
        elif now - quiet_since >= heartbeat_s:
            yield ": heartbeat\n\n"
            quiet_since = now
        if len(batch) < _BATCH:
            await asyncio.sleep(poll_s)


__all__ = ["STREAM_READER", "router"]
