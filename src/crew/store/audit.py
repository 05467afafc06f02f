"""The tamper-evident audit log (审计日志): an append-only, hash-chained table.

Each record holds actor, action, subject, instant and details, the previous record's hash
and its own: SHA-256 of the canonical JSON of all of these. Editing a record breaks its
hash; deleting one leaves a gap in the numbers and breaks the next record's link; deleting
the newest ones disagrees with the head row. `verify` names the first record that fails.
Anyone able to rewrite the whole table can recompute the chain: note the head hash that
`crew audit verify` prints somewhere else to detect that too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from crew.store._access_tables import audit_head_table, audit_table

GENESIS = "0" * 64
"""`prev_hash` of the first record."""


@dataclass(frozen=True)
class AuditRecord:
    """One audit record; `hash` covers every other field."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, object]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditCheck:
    """What `verify` found: `ok`, or the first failing record and what is wrong with it."""

    ok: bool
    records: int
    head: str
    first_bad: int | None = None
    problem: str | None = None


def canonical_json(value: object) -> str:
    """JSON with sorted keys and no spaces: one text per value, the input of the hash.

    >>> canonical_json({"b": 1, "a": ["张", 2.5]})
    '{"a":["张",2.5],"b":1}'
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def record_hash(
    seq: int, at: datetime, actor: str, action: str, subject: str, details: str, prev_hash: str
) -> str:
    """SHA-256 (hex) of a record's canonical JSON; `details` is its canonical JSON text.

    >>> record_hash(1, datetime(2025, 1, 1, tzinfo=UTC), "ann", "login", "ann", "{}", GENESIS)[:16]
    '41ab1f8c691fa3de'
    """
    body = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": json.loads(details),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


class AuditLog:
    """Append to, read and verify the audit log of one operational store."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def append(
        self,
        actor: str,
        action: str,
        subject: str,
        details: Mapping[str, object] | None = None,
        *,
        at: datetime,
    ) -> AuditRecord:
        """Add one record at the end of the chain (one writer at a time, in one transaction).

        `details` must be JSON (no NaN); keep personal data out of it: name the fields
        that were seen, never their values.
        """
        with self._engine.begin() as conn:
            return append_record(conn, actor, action, subject, details, at=at)

    def records(
        self,
        *,
        limit: int = 100,
        actor: str | None = None,
        action: str | None = None,
        subject: str | None = None,
    ) -> list[AuditRecord]:
        """The newest `limit` records matching every filter given, newest first."""
        a = audit_table.c
        query = sa.select(audit_table).order_by(a.seq.desc()).limit(limit)
        for column, value in ((a.actor, actor), (a.action, action), (a.subject, subject)):
            if value is not None:
                query = query.where(column == value)
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def verify(self) -> AuditCheck:
        """Recompute the chain from the first record; the first record that fails, if any."""
        head = audit_head_table.c
        expected_seq, prev, count = 1, GENESIS, 0
        with self._engine.connect() as conn:
            head_seq, head_hash = conn.execute(
                sa.select(head.seq, head.hash).where(head.id == 1)
            ).one()
            rows = conn.execute(sa.select(audit_table).order_by(audit_table.c.seq)).mappings()
            for row in rows:
                problem = _problem(row, expected_seq, prev)
                if problem is not None:
                    bad = expected_seq if row["seq"] > expected_seq else int(row["seq"])
                    return AuditCheck(False, count, head_hash, bad, problem)
                expected_seq, prev, count = int(row["seq"]) + 1, str(row["hash"]), count + 1
        if int(head_seq) != count or head_hash != prev:
            problem = (
                f"records {count + 1} to {head_seq} are missing (deleted from the end)"
                if int(head_seq) > count
                else f"the head names record {head_seq} with another hash than the chain's"
            )
            return AuditCheck(False, count, head_hash, count + 1, problem)
        return AuditCheck(True, count, head_hash)


@dataclass(frozen=True)
class AuditEntry:
    """What one record to append says: who did what to which subject, with details."""

    actor: str
    action: str
    subject: str
    details: Mapping[str, object] = field(default_factory=dict)


def append_record(
    conn: sa.Connection,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, object] | None = None,
    *,
    at: datetime,
) -> AuditRecord:
    """Add one record at the end of the chain inside the transaction open on `conn`.

    For a change and its record to commit or roll back together (a case change, say): the
    caller writes both on one connection, and an error in either leaves neither.
    """
    (record,) = append_records(conn, [AuditEntry(actor, action, subject, details or {})], at=at)
    return record


def append_records(
    conn: sa.Connection, entries: Sequence[AuditEntry], *, at: datetime
) -> list[AuditRecord]:
    """Add `entries` in order at the end of the chain, in the transaction open on `conn`.

    One head read and one insert for all of them: a run that opens thousands of cases
    audits them in one statement.
    """
    if not entries:
        return []
    at = at.astimezone(UTC)
    head = audit_head_table.c
    # A write first: SQLite takes its write lock, PostgreSQL locks the head row, so two
    # appends never read the same head.
    conn.execute(audit_head_table.update().where(head.id == 1).values(seq=head.seq))
    seq, prev = conn.execute(sa.select(head.seq, head.hash).where(head.id == 1)).one()
    seq, prev = int(seq), str(prev)
    records, rows = [], []
    for entry in entries:
        text = canonical_json(dict(entry.details))
        seq += 1
        digest = record_hash(seq, at, entry.actor, entry.action, entry.subject, text, prev)
        record = AuditRecord(seq, at, entry.actor, entry.action, entry.subject,
                             json.loads(text), prev, digest)  # fmt: skip
        records.append(record)
        rows.append({**asdict(record), "details": text})  # the very text that was hashed
        prev = digest
    conn.execute(audit_table.insert(), rows)
    conn.execute(audit_head_table.update().where(head.id == 1).values(seq=seq, hash=prev))
    return records


def _problem(row: sa.RowMapping, expected_seq: int, prev: str) -> str | None:
    """What is wrong with `row` as the next link after a record hashed `prev`, if anything."""
    seq = int(row["seq"])
    if seq != expected_seq:
        missing = (
            f"record {expected_seq} is"
            if seq == expected_seq + 1
            else f"records {expected_seq} to {seq - 1} are"
        )
        return f"{missing} missing (deleted): record {seq} follows record {expected_seq - 1}"
    try:
        digest = record_hash(
            seq,
            row["at"],
            row["actor"],
            row["action"],
            row["subject"],
            row["details"],
            row["prev_hash"],
        )
    except ValueError:
        return f"record {seq} was edited: its details are no longer JSON"
    if digest != row["hash"]:
        return f"record {seq} was edited: its content does not match its hash"
    if row["prev_hash"] != prev:
        return f"record {seq} does not link to record {seq - 1}: one of them was replaced"
    return None


def _record(row: sa.RowMapping) -> AuditRecord:
    return AuditRecord(
        seq=int(row["seq"]),
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        details=json.loads(row["details"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


__all__ = [
    "GENESIS",
    "AuditCheck",
    "AuditEntry",
    "AuditLog",
    "AuditRecord",
    "append_record",
    "append_records",
    "canonical_json",
    "record_hash",
]
