"""`/v1/blacklist`: the shared blacklist (行业黑名单): list entries, partners push, dispute.

Entries name identifiers only by their HMAC-SHA256 hash under the partners' shared key; a
push is checked entry by entry exactly like `crew blacklist import` before any is stored.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, JsonValue

from crew.api.auth import require
from crew.api.schemas import ErrorOut
from crew.api.state import ApiState, api_state
from crew.response.blacklist import load_hasher, require_hasher
from crew.response.blacklist_checks import change_status, push_entries
from crew.store.blacklist import BlacklistEntry, EntryStatus, IdentifierType
from crew.store.tokens import ApiToken, TokenScope

router = APIRouter(prefix="/v1/blacklist", tags=["blacklist"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid API token."},
    403: {"model": ErrorOut, "description": "The token's scope does not allow this."},
    429: {"model": ErrorOut, "description": "Over the token's rate limit; see Retry-After."},
}
_NO_KEY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorOut, "description": "No shared blacklist key is configured."}
}


class StatusQuery(StrEnum):
    """Which entries a listing shows: active (in force today), disputed, withdrawn or all."""

    ACTIVE = "active"
    DISPUTED = "disputed"
    WITHDRAWN = "withdrawn"
    ALL = "all"


class EntryOut(BaseModel):
    """A blacklist entry: the identifier's hash and the entry's provenance, never the value."""

    id: int = Field(description="Entry id in this workspace.")
    identifier_type: IdentifierType = Field(description="phone, id_number, email or device.")
    identifier_hash: str = Field(description="HMAC-SHA256 hex of the normalised identifier.")
    reason: str = Field(description="Why it is listed.")
    evidence: str = Field(description="What proves it.")
    listed_on: date = Field(description="Day it was listed.")
    expires_on: date | None = Field(description="Day it stops matching (or null: never).")
    source: str = Field(description="Who listed it (partner name).")
    status: EntryStatus = Field(description="active, disputed or withdrawn.")
    note: str | None = Field(description="Note of the last dispute, reinstatement or withdrawal.")
    added_at: datetime | None = Field(description="When it was stored here.")
    added_by: str = Field(description="Who stored it (user or API token).")

    @classmethod
    def of(cls, entry: BlacklistEntry) -> Self:
        """The answer for one stored entry."""
        return cls.model_validate(entry, from_attributes=True)


class EntryList(BaseModel):
    """Entries and the fingerprint of the key their hashes were made with."""

    count: int = Field(description="Number of entries returned.")
    key_fingerprint: str | None = Field(
        description="First 16 hex of SHA-256(key); null when no key is configured."
    )
    entries: list[EntryOut] = Field(description="Entries by id.")


class EntryPush(BaseModel):
    """Entries a partner sends, hashed already with the shared key."""

    key_fingerprint: str = Field(description="Fingerprint of the key the hashes were made with.")
    source: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$",
        description="Partner name the entries are listed under (default: the token's name).",
    )
    entries: list[dict[str, JsonValue]] = Field(
        min_length=1,
        max_length=10_000,
        description="Entries with identifier_type, identifier_hash (64 lowercase hex), reason, "
        "listed_on (YYYY-MM-DD) and optional expires_on, evidence, ref; unknown fields are "
        "refused.",
    )


class PushResult(BaseModel):
    """What a push stored."""

    added: int = Field(description="Number of entries stored.")
    ids: list[int] = Field(description="Their ids, in the order sent.")


class EntryChange(BaseModel):
    """Dispute, reinstate (active) or withdraw an entry."""

    status: EntryStatus = Field(description="disputed, active (reinstated) or withdrawn.")
    note: str | None = Field(default=None, max_length=2000, description="Why.")


@router.get("", response_model=EntryList, responses=_ERRORS)
def list_entries(
    state: Annotated[ApiState, Depends(api_state)],
    _token: Annotated[ApiToken, Depends(require(TokenScope.READ))],
    status: Annotated[StatusQuery, Query(description="Which entries to show.")] = (
        StatusQuery.ACTIVE
    ),
) -> EntryList:
    """Blacklist entries (hashes only); by default those in force today."""
    blacklist = state.store.blacklist
    if status == StatusQuery.ACTIVE:
        entries = blacklist.in_force(datetime.now(UTC).date())
    elif status == StatusQuery.ALL:
        entries = blacklist.entries()
    else:
        entries = blacklist.entries(statuses=[EntryStatus(status.value)])
    hasher = load_hasher(state.settings.blacklist, os.environ)
    return EntryList(
        count=len(entries),
        key_fingerprint=None if hasher is None else hasher.fingerprint,
        entries=[EntryOut.of(e) for e in entries],
    )


@router.post(
    "",
    status_code=201,
    response_model=PushResult,
    responses=_ERRORS
    | _NO_KEY
    | {422: {"model": ErrorOut, "description": "An entry is refused; nothing was stored."}},
)
def push(
    body: EntryPush,
    state: Annotated[ApiState, Depends(api_state)],
    token: Annotated[ApiToken, Depends(require(TokenScope.ADMIN))],
) -> PushResult:
    """Store a partner's entries, all or none: the first bad one is named by index and field."""
    hasher = require_hasher(state.settings.blacklist, os.environ)
    now = datetime.now(UTC)
    ids = push_entries(
        state.store, body.entries, their_fingerprint=body.key_fingerprint,
        fingerprint=hasher.fingerprint, source=body.source or token.name, today=now.date(),
        actor=token.name, at=now,
    )  # fmt: skip
    return PushResult(added=len(ids), ids=ids)


@router.patch(
    "/{entry_id}",
    response_model=EntryOut,
    responses=_ERRORS
    | {
        404: {"model": ErrorOut, "description": "No entry has this id."},
        409: {"model": ErrorOut, "description": "The status change is not allowed."},
    },
)
def change_entry(
    entry_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="The entry's id.")],
    change: EntryChange,
    state: Annotated[ApiState, Depends(api_state)],
    token: Annotated[ApiToken, Depends(require(TokenScope.ADMIN))],
) -> EntryOut:
    """Dispute, reinstate or withdraw an entry; the token's name is recorded as who did it."""
    entry = change_status(
        state.store,
        entry_id,
        change.status,
        actor=token.name,
        at=datetime.now(UTC),
        note=change.note,
    )
    return EntryOut.of(entry)


__all__ = ["router"]
