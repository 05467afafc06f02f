"""A blacklist change (entries added, imported or pushed; an entry disputed or withdrawn) and
its audit record commit together: a failing audit append leaves the blacklist as it was, on
SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from crew.store import OperationalStore
from crew.store.blacklist import EntryStatus, IdentifierType, NewEntry

from .conftest import Breaker

AT = datetime(2025, 3, 2, 9, tzinfo=UTC)


def _entry(digest: str) -> NewEntry:
    return NewEntry(IdentifierType.PHONE, digest, "chargeback fraud", date(2025, 3, 1), "bank-x")


def _state(store: OperationalStore) -> list[tuple[int, str, str | None]]:
    return [(e.id, e.status.value, e.note) for e in store.blacklist.entries()]


def test_a_failing_audit_append_leaves_the_blacklist_unchanged(
    breakable: tuple[OperationalStore, Breaker],
) -> None:
    store, breaker = breakable
    (first,) = store.blacklist.add([_entry("a" * 64)], actor="ann", at=AT)
    before = _state(store)
    breaker(True)
    with pytest.raises(sa.exc.DBAPIError, match="audit log unavailable"):
        store.blacklist.add([_entry("b" * 64), _entry("c" * 64)], actor="ann", at=AT,
                            action="blacklist.import", audit={"file": "x.csv"})  # fmt: skip
    with pytest.raises(sa.exc.DBAPIError, match="audit log unavailable"):
        store.blacklist.set_status(first, EntryStatus.DISPUTED, actor="bob", at=AT, note="n")
    assert _state(store) == before, "no entry and no status change without its record"
    assert store.audit.verify().records == 1

    breaker(False)
    ids = store.blacklist.add([_entry("b" * 64), _entry("c" * 64)], actor="ann", at=AT,
                              action="blacklist.import", audit={"file": "x.csv"})  # fmt: skip
    store.blacklist.set_status(first, EntryStatus.DISPUTED, actor="bob", at=AT, note="n")
    records = [(r.actor, r.action, r.subject, r.details) for r in store.audit.records()]
    assert records == [
        ("bob", "blacklist.status", f"blacklist/{first}",
         {"status": "disputed", "source": "bank-x"}),
        ("ann", "blacklist.import", "blacklist/bank-x",
         {"source": "bank-x", "entries": 2, "ids": ids, "file": "x.csv"}),
        ("ann", "blacklist.add", "blacklist/bank-x",
         {"source": "bank-x", "entries": 1, "ids": [first]}),
    ]  # fmt: skip
    assert "a" * 64 not in str(records), "no hash of an identifier in the audit log"
    assert store.audit.verify().ok
