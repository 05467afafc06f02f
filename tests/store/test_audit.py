"""The audit log's hash chain: intact, edited, deleted (in the middle and at the end)."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from crew.store.audit import GENESIS, AuditLog, canonical_json, record_hash
from crew.store.operational import OperationalStore

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> OperationalStore:
    """A SQLite store in a file with five audit records."""
    store = OperationalStore.open(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    for i in range(5):
        store.audit.append(
            "ann", "pii.view", f"C{i}", {"fields": ["name", "phone"], "n": i},
            at=T0 + timedelta(minutes=i),
        )  # fmt: skip
    return store


def _sql(store: OperationalStore, statement: str) -> None:
    engine = sa.create_engine(store.url)
    with engine.begin() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()


def test_an_untouched_chain_verifies(store: OperationalStore) -> None:
    check = store.audit.verify()
    assert check.ok and check.records == 5 and check.first_bad is None
    records = store.audit.records(limit=10)
    assert [r.seq for r in records] == [5, 4, 3, 2, 1]
    assert records[-1].prev_hash == GENESIS
    assert all(a.prev_hash == b.hash for a, b in itertools.pairwise(records))
    assert check.head == records[0].hash


def test_the_hash_covers_every_field() -> None:
    base = (1, T0, "ann", "pii.view", "C1", canonical_json({"fields": ["name"]}), GENESIS)
    digest = record_hash(*base)
    for i, other in enumerate(
        (2, T0 + timedelta(microseconds=1), "bob", "pii.edit", "C2", '{"fields":[]}', "1" * 64)
    ):
        changed = list(base)
        changed[i] = other
        assert record_hash(*changed) != digest, i  # type: ignore[arg-type]


def test_an_edited_record_is_named(store: OperationalStore) -> None:
    _sql(store, 'UPDATE audit_log SET details = \'{"fields":[],"n":2}\' WHERE seq = 3')
    check = store.audit.verify()
    assert not check.ok and check.first_bad == 3
    assert check.problem == "record 3 was edited: its content does not match its hash"


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(store: OperationalStore) -> None:
    record = store.audit.records(subject="C2")[0]
    forged = record_hash(record.seq, record.at, "mallory", record.action, record.subject,
                         canonical_json(record.details), record.prev_hash)  # fmt: skip
    _sql(store, f"UPDATE audit_log SET actor = 'mallory', hash = '{forged}' WHERE seq = 3")
    check = store.audit.verify()
    assert not check.ok and check.first_bad == 4
    assert "record 4 does not link to record 3" in (check.problem or "")


def test_a_deleted_record_is_named_as_a_gap(store: OperationalStore) -> None:
    _sql(store, "DELETE FROM audit_log WHERE seq = 2")
    check = store.audit.verify()
    assert not check.ok and check.first_bad == 2
    assert check.problem == "record 2 is missing (deleted): record 3 follows record 1"


def test_deleting_the_newest_records_disagrees_with_the_head(store: OperationalStore) -> None:
    _sql(store, "DELETE FROM audit_log WHERE seq >= 4")
    check = store.audit.verify()
    assert not check.ok and check.first_bad == 4
    assert check.problem == "records 4 to 5 are missing (deleted from the end)"


def test_concurrent_appends_keep_one_chain(store: OperationalStore) -> None:
    def append(worker: int) -> None:
        for i in range(10):
            store.audit.append(f"w{worker}", "warning.state", f"W{i}", at=datetime.now(UTC))

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = store.audit.verify()
    assert check.ok and check.records == 45


def test_filters_and_details_round_trip() -> None:
    log = OperationalStore.in_memory().audit
    assert isinstance(log, AuditLog)
    log.append("ann", "user.login", "ann", at=T0)
    log.append("bob", "pii.view", "C1", {"fields": ["name"], "页面": "客户"}, at=T0)
    assert [r.actor for r in log.records(action="pii.view")] == ["bob"]
    assert log.records(actor="bob")[0].details == {"fields": ["name"], "页面": "客户"}
    assert log.records(subject="nobody") == []
    assert log.verify().ok
