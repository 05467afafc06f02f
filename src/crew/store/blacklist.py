"""Shared blacklist entries (行业黑名单) in the operational store: hashes, never identifiers.

An entry names an identifier only by its HMAC-SHA256 under the partners' shared key (see
`crew.response.blacklist`); its reason, evidence, dates and source say why and who listed it.
Entries are disputed or withdrawn, never deleted, so the record of who listed what stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crew.errors import (
    BlacklistEntryNotFoundError,
    InvalidBlacklistEntryError,
    InvalidTransitionError,
)
from crew.store._ops_tables import UtcDateTime, metadata
from crew.store.audit import append_record


class IdentifierType(StrEnum):
    """What a blacklist entry identifies, each normalised its own way before hashing."""

    PHONE = "phone"
    ID_NUMBER = "id_number"
    EMAIL = "email"
    DEVICE = "device"


class EntryStatus(StrEnum):
    """Lifecycle of an entry: only active ones match customers."""

    ACTIVE = "active"
    DISPUTED = "disputed"
    WITHDRAWN = "withdrawn"


# active <-> disputed; either may be withdrawn; withdrawn is final.
ALLOWED_STATUS: dict[EntryStatus, tuple[EntryStatus, ...]] = {
    EntryStatus.ACTIVE: (EntryStatus.DISPUTED, EntryStatus.WITHDRAWN),
    EntryStatus.DISPUTED: (EntryStatus.ACTIVE, EntryStatus.WITHDRAWN),
    EntryStatus.WITHDRAWN: (),
}

blacklist_table = sa.Table(
    "blacklist_entries",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("identifier_type", sa.Text, nullable=False),
    sa.Column("identifier_hash", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("listed_on", sa.Date, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_ref", sa.Text, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("added_at", UtcDateTime, nullable=False),
    sa.Column("added_by", sa.Text, nullable=False),
    sa.Column("status_changed_at", UtcDateTime, nullable=True),
    sa.Column("status_changed_by", sa.Text, nullable=True),
    sa.Index(
        "uq_blacklist_listed",
        "source",
        "identifier_type",
        "identifier_hash",
        unique=True,
        sqlite_where=sa.text("status <> 'withdrawn'"),
        postgresql_where=sa.text("status <> 'withdrawn'"),
    ),
    sa.Index("ix_blacklist_hash", "identifier_type", "identifier_hash"),
)


@dataclass(frozen=True)
class NewEntry:
    """An entry checked and ready to store (its identifier already hashed)."""

    identifier_type: IdentifierType
    identifier_hash: str
    reason: str
    listed_on: date
    source: str
    evidence: str = ""
    expires_on: date | None = None
    source_ref: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two entries the same listing: source, identifier type and hash."""
        return (self.source, self.identifier_type.value, self.identifier_hash)


@dataclass(frozen=True)
class BlacklistEntry(NewEntry):
    """One stored entry, with its id, status and who added it when."""

    id: int = 0
    status: EntryStatus = EntryStatus.ACTIVE
    note: str | None = None
    added_at: datetime | None = None
    added_by: str = ""
    status_changed_at: datetime | None = None
    status_changed_by: str | None = None

    def is_in_force(self, on: date) -> bool:
        """Whether the entry matches on day `on`: active, listed by then, not yet expired.

        >>> e = BlacklistEntry(IdentifierType.PHONE, "0" * 64, "fraud", date(2025, 3, 1), "x",
        ...                    expires_on=date(2026, 3, 1))
        >>> e.is_in_force(date(2025, 3, 1)), e.is_in_force(date(2026, 3, 1))
        (True, False)
        """
        return (
            self.status == EntryStatus.ACTIVE
            and self.listed_on <= on
            and (self.expires_on is None or on < self.expires_on)
        )


class Blacklist:
    """The blacklist entries of one operational store."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(
        self,
        entries: Sequence[NewEntry],
        *,
        actor: str,
        at: datetime,
        action: str = "blacklist.add",
        audit: Mapping[str, object] | None = None,
    ) -> list[int]:
        """Store `entries` in one transaction (all or none); their new ids, in order.

        Audited as `action` on `blacklist/<source>` in the same transaction: the source, the
        count and the ids, with `audit` added (e.g. the file), never an identifier's hash.

        Raises:
            InvalidBlacklistEntryError: one is listed already by the same source (unless
                withdrawn); nothing is stored.
        """
        rows = [
            {**_values(e), "status": EntryStatus.ACTIVE.value, "added_at": at, "added_by": actor}
            for e in entries
        ]
        if not rows:
            return []
        try:
            with self._engine.begin() as conn:
                insert = blacklist_table.insert().returning(blacklist_table.c.id)
                try:
                    ids = [int(conn.execute(insert.values(row)).scalar_one()) for row in rows]
                except IntegrityError as exc:
                    # Only here: an audit insert failing (SQLite: also IntegrityError) is no
                    # duplicate and must surface as what it is.
                    raise _Listed from exc
                source = entries[0].source
                details = {"source": source, "entries": len(ids), "ids": ids, **(audit or {})}
                append_record(conn, actor, action, f"blacklist/{source}", details, at=at)
                return ids
        except _Listed:
            raise _duplicate(entries, self.listed_keys(e.key for e in entries)) from None

    def listed_keys(self, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
        """Those of `keys` (source, type, hash) listed already and not withdrawn, with ids."""
        wanted = set(keys)
        if not wanted:
            return {}
        b = blacklist_table.c
        query = sa.select(b.id, b.source, b.identifier_type, b.identifier_hash).where(
            b.identifier_hash.in_(sorted({k[2] for k in wanted})),
            b.status != EntryStatus.WITHDRAWN.value,
        )
        with self._engine.connect() as conn:
            found = {
                (r.source, r.identifier_type, r.identifier_hash): r.id for r in conn.execute(query)
            }
        return {k: int(v) for k, v in found.items() if k in wanted}

    def entries(
        self, *, statuses: Sequence[EntryStatus] | None = None, source: str | None = None
    ) -> list[BlacklistEntry]:
        """Entries with one of `statuses` (default all) and from `source` (default any), by id."""
        b = blacklist_table.c
        query = sa.select(blacklist_table).order_by(b.id)
        if statuses is not None:
            query = query.where(b.status.in_([s.value for s in statuses]))
        if source is not None:
            query = query.where(b.source == source)
        with self._engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query).mappings()]

    def in_force(self, on: date) -> list[BlacklistEntry]:
        """The entries that match customers on day `on` (see `BlacklistEntry.is_in_force`)."""
        return [e for e in self.entries(statuses=[EntryStatus.ACTIVE]) if e.is_in_force(on)]

    def get(self, id: int) -> BlacklistEntry:
        """Entry `id`; BlacklistEntryNotFoundError if there is none."""
        with self._engine.connect() as conn:
            return _get(conn, id)

    def set_status(
        self, id: int, status: EntryStatus, *, actor: str, at: datetime, note: str | None = None
    ) -> BlacklistEntry:
        """Dispute, reinstate or withdraw entry `id`, recording who, when and why.

        Audited as `blacklist.status` in the same transaction; the note is free text that may
        name a person: the entry keeps it, the audit log does not.
        """
        with self._engine.begin() as conn:
            current = _get(conn, id, for_update=True)
            if status not in ALLOWED_STATUS[current.status]:
                allowed = ", ".join(s.value for s in ALLOWED_STATUS[current.status]) or "nothing"
                raise InvalidTransitionError(
                    f"Blacklist entry {id} is {current.status.value}; "
                    f"it cannot become {status.value}.",
                    hint=f"From {current.status.value} it can become: {allowed}.",
                )
            conn.execute(
                blacklist_table.update()
                .where(blacklist_table.c.id == id)
                .values(
                    status=status.value,
                    note=note if note is not None else current.note,
                    status_changed_at=at,
                    status_changed_by=actor,
                )
            )
            details = {"status": status.value, "source": current.source}
            append_record(conn, actor, "blacklist.status", f"blacklist/{id}", details, at=at)
            return _get(conn, id)


class _Listed(Exception):
    """An entry of the batch is listed already (the unique index refused it)."""


def _duplicate(
    entries: Sequence[NewEntry], listed: dict[tuple[str, str, str], int]
) -> InvalidBlacklistEntryError:
    seen: set[tuple[str, str, str]] = set()
    for e in entries:
        if e.key in listed or e.key in seen:
            where = f"entry {listed[e.key]}" if e.key in listed else "twice in this batch"
            return InvalidBlacklistEntryError(
                f"This {e.identifier_type.value} is already listed by {e.source} ({where}); "
                "nothing was added.",
                hint="'crew blacklist list' shows the entries.",
            )
        seen.add(e.key)
    return InvalidBlacklistEntryError("A blacklist entry is listed twice; nothing was added.")


def _values(entry: NewEntry) -> dict[str, object]:
    return {
        "identifier_type": entry.identifier_type.value,
        "identifier_hash": entry.identifier_hash,
        "reason": entry.reason,
        "evidence": entry.evidence,
        "listed_on": entry.listed_on,
        "expires_on": entry.expires_on,
        "source": entry.source,
        "source_ref": entry.source_ref,
    }


def _get(conn: sa.Connection, id: int, *, for_update: bool = False) -> BlacklistEntry:
    query = sa.select(blacklist_table).where(blacklist_table.c.id == id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise BlacklistEntryNotFoundError(
            f"No blacklist entry {id}.", hint="'crew blacklist list --status all' shows the ids."
        )
    return _entry(row)


def _entry(row: sa.RowMapping) -> BlacklistEntry:
    values = dict(row)
    return BlacklistEntry(
        **{
            **values,
            "id": int(values["id"]),
            "identifier_type": IdentifierType(values["identifier_type"]),
            "status": EntryStatus(values["status"]),
        }
    )


__all__ = [
    "ALLOWED_STATUS",
    "Blacklist",
    "BlacklistEntry",
    "EntryStatus",
    "IdentifierType",
    "NewEntry",
    "blacklist_table",
]
