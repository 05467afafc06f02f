"""Blacklist entries checked before any is stored, from a file, an API push or by hand.

Every entry is checked first: known fields, the hash's shape, dates, duplicates within the
batch and against the store; the first problem refuses the whole batch with one line naming
where (file, row and line, or `entries[i]`) and which field. Identifiers and hashes are
never logged or repeated in messages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from crew.errors import InvalidBlacklistEntryError
from crew.response.blacklist import HASH_PATTERN, IdentifierHasher
from crew.response.blacklist_files import FIELDS, check_header, read_export, refused
from crew.store.blacklist import (
    Blacklist,
    BlacklistEntry,
    EntryStatus,
    IdentifierType,
    NewEntry,
)
from crew.store.operational import OperationalStore

log = logging.getLogger(__name__)

REQUIRED = ("identifier_type", "identifier_hash", "reason", "listed_on")
MAX_TEXT = {"reason": 500, "evidence": 2000, "ref": 64}


@dataclass(frozen=True)
class Locator:
    """Names where a problem is: a file's row and line, an API push's item, or one entry.

    >>> Locator().field(3, "listed_on"), Locator().item(3)
    ('entries[3].listed_on', 'entries[3]')
    >>> at = Locator(Path("x.csv"), (3, 4))
    >>> at.field(1, "reason"), at.item(1)
    ('x.csv: row 2 (line 4), reason', 'row 2')
    """

    path: Path | None = None
    lines: tuple[int, ...] = ()
    single: bool = False
    """One entry added by hand: fields are named alone, and nothing 'was added'."""

    def item(self, index: int) -> str:
        """The item at `index` (0-based), as a person counts it."""
        if self.single:
            return "this entry"
        return f"entries[{index}]" if self.path is None else f"row {index + 1}"

    def field(self, index: int, name: str) -> str:
        """Field `name` of the item at `index`."""
        if self.single:
            return name
        if self.path is None:
            return f"entries[{index}].{name}"
        return f"{self.path}: row {index + 1} (line {self.lines[index]}), {name}"

    def refuse(
        self, index: int, name: str, problem: str, hint: str | None = None
    ) -> InvalidBlacklistEntryError:
        """The error refusing the batch because field `name` of item `index` has `problem`."""
        outcome = "nothing was added" if self.single else "nothing was imported"
        return refused(f"{self.field(index, name)}: {problem}", outcome, hint)


def checked_entries(
    items: Sequence[Mapping[str, object]],
    *,
    source: str,
    today: date,
    blacklist: Blacklist,
    where: Locator,
) -> list[NewEntry]:
    """`items` as entries of `source`, or InvalidBlacklistEntryError at the first problem."""
    entries: list[NewEntry] = []
    first_at: dict[tuple[str, str, str], int] = {}
    for index, item in enumerate(items):
        try:
            entry = _entry(item, source=source, today=today)
        except _Problem as problem:
            raise where.refuse(index, problem.field, problem.text) from None
        if entry.key in first_at:
            kind = entry.identifier_type.value
            raise where.refuse(
                index, "identifier_hash", f"the same {kind} as {where.item(first_at[entry.key])}"
            )
        first_at[entry.key] = index
        entries.append(entry)
    listed = blacklist.listed_keys(first_at)
    for index, entry in enumerate(entries):
        if entry.key in listed:
            kind = entry.identifier_type.value
            raise where.refuse(
                index,
                "identifier_hash",
                f"this {kind} is already listed by {source} (entry {listed[entry.key]})",
                hint="Was it sent before? 'crew blacklist list' shows the entries; send only "
                "new ones, or withdraw the old entry first.",
            )
    return entries


class _Problem(ValueError):
    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field
        self.text = text


def _entry(item: Mapping[str, object], *, source: str, today: date) -> NewEntry:
    for name in item:
        if name not in FIELDS:
            raise _Problem(str(name)[:40], f"unknown field (only {', '.join(FIELDS)})")
    for name in REQUIRED:
        if item.get(name) is None or not str(item.get(name)).strip():
            raise _Problem(name, "missing")
    kind = str(item["identifier_type"])
    if kind not in {t.value for t in IdentifierType}:
        known = ", ".join(t.value for t in IdentifierType)
        raise _Problem("identifier_type", f"'{kind[:20]}' is not one of {known}")
    digest = item["identifier_hash"]
    if not isinstance(digest, str) or not HASH_PATTERN.match(digest):
        size = len(digest) if isinstance(digest, str) else 0
        # The value is not repeated: a partner may have sent a plain identifier by mistake.
        raise _Problem(
            "identifier_hash",
            f"expected 64 lowercase hexadecimal digits (an HMAC-SHA256), got {size} characters",
        )
    texts = {n: _text(n, item.get(n)) for n in ("reason", "evidence", "ref")}
    listed_on = _date("listed_on", item["listed_on"])
    if listed_on > today:
        raise _Problem("listed_on", f"{listed_on} is in the future")
    expires = item.get("expires_on")
    expires_on = None if expires in (None, "") else _date("expires_on", expires)
    if expires_on is not None and expires_on <= listed_on:
        raise _Problem("expires_on", f"{expires_on} is not after listed_on {listed_on}")
    return NewEntry(
        identifier_type=IdentifierType(kind), identifier_hash=digest,
        reason=texts["reason"] or "", listed_on=listed_on, source=source,
        evidence=texts["evidence"] or "", expires_on=expires_on, source_ref=texts["ref"],
    )  # fmt: skip


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _Problem(name, "expected text")
    text = str(value).strip()
    if len(text) > MAX_TEXT[name]:
        raise _Problem(name, f"{len(text)} characters, at most {MAX_TEXT[name]}")
    return text


def _date(name: str, value: object) -> date:
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _Problem(name, f"'{str(value)[:20]}' is not a date (YYYY-MM-DD)") from None


def import_file(
    store: OperationalStore,
    path: Path,
    *,
    fingerprint: str,
    source: str,
    today: date,
    actor: str,
    at: datetime,
) -> list[int]:
    """Store every entry of the export at `path` as listed by `source`, or none of them.

    Raises:
        InvalidBlacklistEntryError: the file, its key fingerprint or an entry is refused.
    """
    export = read_export(path)
    check_header(path, export.header, len(export.rows), fingerprint)
    where = Locator(path, tuple(export.lines))
    entries = checked_entries(
        export.rows, source=source, today=today, blacklist=store.blacklist, where=where
    )
    ids = store.blacklist.add(entries, actor=actor, at=at, action="blacklist.import",
                              audit={"file": path.name})  # fmt: skip
    _log("blacklist.import", source, ids, actor)
    return ids


def push_entries(
    store: OperationalStore,
    items: Sequence[Mapping[str, object]],
    *,
    their_fingerprint: str,
    fingerprint: str,
    source: str,
    today: date,
    actor: str,
    at: datetime,
) -> list[int]:
    """Store entries a partner pushed (already hashed) as listed by `source`, or none."""
    if their_fingerprint != fingerprint:
        raise InvalidBlacklistEntryError(
            f"key_fingerprint: {their_fingerprint[:32]} does not match this workspace's key "
            f"({fingerprint}); nothing was imported.",
            hint="Both partners must hash with the same shared key.",
        )
    entries = checked_entries(
        items, source=source, today=today, blacklist=store.blacklist, where=Locator()
    )
    ids = store.blacklist.add(entries, actor=actor, at=at, action="blacklist.push")
    _log("blacklist.push", source, ids, actor)
    return ids


def add_identifier(
    store: OperationalStore,
    hasher: IdentifierHasher,
    kind: IdentifierType,
    raw: str,
    *,
    reason: str,
    listed_on: date,
    source: str,
    actor: str,
    at: datetime,
    evidence: str = "",
    expires_on: date | None = None,
) -> int:
    """Hash `raw` at once and list it; the plain identifier is neither stored nor logged."""
    try:
        digest = hasher.hash(kind, raw)
    except ValueError as exc:
        raise InvalidBlacklistEntryError(
            f"{kind.value}: {exc}; nothing was added.",
            hint="docs/blacklist.md explains how each identifier is normalised.",
        ) from None
    item = {"identifier_type": kind.value, "identifier_hash": digest, "reason": reason,
            "listed_on": listed_on.isoformat(), "evidence": evidence,
            "expires_on": None if expires_on is None else expires_on.isoformat()}  # fmt: skip
    (entry,) = checked_entries(
        [item], source=source, today=at.date(), blacklist=store.blacklist,
        where=Locator(single=True),
    )  # fmt: skip
    ids = store.blacklist.add([entry], actor=actor, at=at, audit={"identifier_type": kind.value})
    _log("blacklist.add", source, ids, actor)
    return ids[0]


def change_status(
    store: OperationalStore,
    id: int,
    status: EntryStatus,
    *,
    actor: str,
    at: datetime,
    note: str | None = None,
) -> BlacklistEntry:
    """Dispute, reinstate or withdraw entry `id`; recorded in the entry and, in the same
    transaction, the audit log."""
    entry = store.blacklist.set_status(id, status, actor=actor, at=at, note=note)
    log.info("blacklist: entry %d is now %s (by %s)", id, status.value, actor)
    return entry


def _log(action: str, source: str, ids: Sequence[int], actor: str) -> None:
    """One log line per stored batch (its audit record is written with it): counts only."""
    log.info("%s: %d entries of %s by %s", action, len(ids), source, actor)


__all__ = [
    "MAX_TEXT",
    "REQUIRED",
    "Locator",
    "add_identifier",
    "change_status",
    "checked_entries",
    "import_file",
    "push_entries",
]
