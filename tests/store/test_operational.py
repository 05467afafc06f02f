"""The operational store: runs written atomically, deduplication, UTC, state transitions.

Every test that takes `store` runs on SQLite and on PostgreSQL (own schema per test).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from tests.factories import postgres_schema

from crew.errors import (
    DuplicateWarningError,
    InvalidTransitionError,
    OperationalStoreError,
    WarningNotFoundError,
)
from crew.store import Workspace
from crew.store.operational import (
    OperationalStore,
    RunRecord,
    open_operational_store,
    warning_id,
)
from crew.types import Level, RiskType, WarningState

DAY1 = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY1 + timedelta(days=2)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OperationalStore]:
    """An empty, migrated store on SQLite (a file) or PostgreSQL (a fresh schema)."""
    if request.param == "sqlite":
        with OperationalStore.open(f"sqlite:///{tmp_path / 'ops.sqlite'}") as opened:
            yield opened
        return
    with postgres_schema() as (_, url), OperationalStore.open(url) as opened:
        yield opened


def run_record(run_id: str, as_of: datetime, **counts: int) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        as_of=as_of,
        started_at=as_of,
        finished_at=as_of + timedelta(minutes=1),
        dry_run=False,
        config_fingerprint="sha256:abc",
        counts=dict(counts),
    )


def opened_frame(*rows: Mapping[str, object]) -> pd.DataFrame:
    base: dict[str, object] = {
        "risk_type": "churn",
        "level": "medium",
        "score": 0.6,
        "first_seen": DAY1,
        "signals": ["recency_days"],
        "evidence": {"recency_days": 45, "spend_30d": 12.5},
        "reasons": [{"sentence": "No purchase for 45 days.", "zh": "45天未购买"}],
    }
    return pd.DataFrame([{**base, **row} for row in rows])


def updated_frame(id: str, level: str, at: datetime, score: float = 0.9) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": id,
                "level": level,
                "score": score,
                "last_seen": at,
                "signals": ["recency_days", "complaints_30d"],
                "evidence": {"recency_days": 60},
                "reasons": [{"sentence": "Two complaints this month."}],
                "recommended_action": "call the customer",
            }
        ]
    )


def closed_frame(id: str, at: datetime, cooldown_days: int = 14) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": id, "resolved_at": at, "cooldown_until": at + timedelta(days=cooldown_days)}]
    )


NONE = pd.DataFrame()


def seed(store: OperationalStore) -> None:
    """Day 1: a churn warning for C1 and a segment-level complaint surge."""
    opened = opened_frame(
        {"customer_id": "C1"},
        {"segment": "north", "risk_type": "complaint_surge", "level": "high", "score": 0.95},
    )
    store.apply_run(run_record("r1", DAY1, opened=2), opened, NONE, NONE)


def test_apply_run_opens_updates_and_closes_with_history(store: OperationalStore) -> None:
    seed(store)
    active = store.active_warnings()
    assert sorted(active["id"]) == ["churn-C1-20240501", "complaint_surge-seg.north-20240501"]
    churn = store.get_warning("churn-C1-20240501")
    assert (churn.level, churn.state, churn.run_id) == (Level.MEDIUM, WarningState.OPEN, "r1")
    assert churn.reasons[0]["zh"] == "45天未购买"
    assert churn.evidence == {"recency_days": 45, "spend_30d": 12.5}

    store.apply_run(
        run_record("r2", DAY2, updated=1),
        NONE,
        updated_frame("churn-C1-20240501", "high", DAY2),
        NONE,
    )
    churn = store.get_warning("churn-C1-20240501")
    assert (churn.level, churn.score, churn.last_seen) == (Level.HIGH, 0.9, DAY2)
    assert churn.level_changed_at == DAY2 and churn.first_seen == DAY1
    assert churn.recommended_action == "call the customer" and churn.run_id == "r2"
    level_change = store.history(churn.id)[-1]
    assert (level_change.field, level_change.old_value, level_change.new_value) == (
        "level",
        "medium",
        "high",
    )
    assert (level_change.note, level_change.actor, level_change.at) == (
        "escalated",
        "crew run",
        DAY2,
    )

    store.apply_run(
        run_record("r3", DAY3, closed=1), NONE, NONE, closed_frame("churn-C1-20240501", DAY3)
    )
    churn = store.get_warning("churn-C1-20240501")
    assert churn.state == WarningState.RESOLVED and churn.resolved_at == DAY3
    assert [h.field for h in store.history(churn.id)] == ["created", "level", "state"]
    assert list(store.active_warnings()["id"]) == ["complaint_surge-seg.north-20240501"]
    cooling = store.cooling_down(DAY3 + timedelta(days=13))
    assert list(cooling["id"]) == ["churn-C1-20240501"]
    assert cooling["cooldown_until"].iloc[0] == DAY3 + timedelta(days=14)
    assert store.cooling_down(DAY3 + timedelta(days=14)).empty
    assert [r.run_id for r in store.runs()] == ["r3", "r2", "r1"]
    assert store.runs()[2].counts == {"opened": 2}


def test_an_unchanged_level_keeps_its_change_time_and_a_drop_is_noted(
    store: OperationalStore,
) -> None:
    seed(store)
    store.apply_run(
        run_record("r2", DAY2), NONE, updated_frame("churn-C1-20240501", "medium", DAY2), NONE
    )
    assert store.get_warning("churn-C1-20240501").level_changed_at == DAY1
    assert [h.field for h in store.history("churn-C1-20240501")] == ["created"]
    store.apply_run(
        run_record("r3", DAY3), NONE, updated_frame("churn-C1-20240501", "low", DAY3), NONE
    )
    assert store.history("churn-C1-20240501")[-1].note == "de-escalated"


def test_a_second_active_warning_for_a_subject_rolls_the_whole_run_back(
    store: OperationalStore,
) -> None:
    seed(store)
    before = store.active_warnings()
    # C1 already has an active churn warning; C2's is fine; the update and closure are fine.
    opened = opened_frame(
        {"customer_id": "C2", "first_seen": DAY2}, {"customer_id": "C1", "first_seen": DAY2}
    )
    with pytest.raises(DuplicateWarningError) as caught:
        store.apply_run(
            run_record("r2", DAY2),
            opened,
            updated_frame("churn-C1-20240501", "high", DAY2),
            closed_frame("complaint_surge-seg.north-20240501", DAY2),
        )
    assert "second active churn warning for C1" in caught.value.message
    assert "churn-C1-20240501" in caught.value.message
    assert caught.value.hint is not None
    assert [r.run_id for r in store.runs()] == ["r1"]
    pd.testing.assert_frame_equal(store.active_warnings(), before)
    assert [h.field for h in store.history("churn-C1-20240501")] == ["created"]


def test_two_warnings_for_one_subject_in_one_run_are_refused(store: OperationalStore) -> None:
    opened = opened_frame(
        {"customer_id": "C1", "id": "a"}, {"customer_id": "C1", "id": "b", "level": "high"}
    )
    with pytest.raises(DuplicateWarningError, match="second active churn warning for C1"):
        store.apply_run(run_record("r1", DAY1), opened, NONE, NONE)
    assert store.runs() == [] and store.active_warnings().empty


def test_a_reused_run_id_is_refused(store: OperationalStore) -> None:
    seed(store)
    with pytest.raises(DuplicateWarningError, match="Run 'r1' is already stored"):
        store.apply_run(run_record("r1", DAY2), opened_frame({"customer_id": "C9"}), NONE, NONE)
    assert len(store.active_warnings()) == 2


def test_a_failure_after_some_writes_leaves_nothing_behind(store: OperationalStore) -> None:
    seed(store)
    with pytest.raises(ValueError, match="no stored warning"):
        store.apply_run(
            run_record("r2", DAY2),
            opened_frame({"customer_id": "C2", "first_seen": DAY2}),
            updated_frame("churn-nobody-20240501", "high", DAY2),
            closed_frame("churn-C1-20240501", DAY2),  # written before the update fails
        )
    assert store.get_warning("churn-C1-20240501").state == WarningState.OPEN
    assert len(store.active_warnings()) == 2 and len(store.runs()) == 1


def test_a_closed_subject_may_open_again(store: OperationalStore) -> None:
    seed(store)
    store.apply_run(run_record("r2", DAY2), NONE, NONE, closed_frame("churn-C1-20240501", DAY2))
    store.apply_run(
        run_record("r3", DAY3), opened_frame({"customer_id": "C1", "first_seen": DAY3}), NONE, NONE
    )
    assert store.get_warning("churn-C1-20240503").state == WarningState.OPEN


def test_opened_rows_get_defaults_and_other_columns_are_ignored(
    store: OperationalStore,
) -> None:
    opened = pd.DataFrame(
        [
            {
                "customer_id": "C7",
                "risk_type": RiskType.FRAUD,
                "level": Level.LOW,
                "score": 0.3,
                "first_seen": DAY2,
                "leading_signal": "chargebacks",  # not a column: ignored
            }
        ]
    )
    store.apply_run(run_record("r1", DAY2), opened, NONE, NONE)
    (record,) = store.list_warnings()
    assert record.id == warning_id("fraud", "C7", None, DAY2)
    assert (record.signals, record.evidence, record.reasons) == ([], {}, [])
    assert record.state == WarningState.OPEN and record.run_id == "r1"
    assert record.last_seen == record.level_changed_at == DAY2


def test_a_run_may_close_a_warning_and_open_its_successor(store: OperationalStore) -> None:
    seed(store)
    store.apply_run(
        run_record("r2", DAY2),
        opened_frame({"customer_id": "C1", "first_seen": DAY2, "level": "high"}),
        NONE,
        closed_frame("churn-C1-20240501", DAY2),
    )
    assert store.get_warning("churn-C1-20240502").level == Level.HIGH
    assert store.get_warning("churn-C1-20240501").state == WarningState.RESOLVED


def test_level_none_is_no_warning(store: OperationalStore) -> None:
    with pytest.raises(ValueError, match="'none' is no warning"):
        store.apply_run(
            run_record("r1", DAY1), opened_frame({"customer_id": "C1", "level": "none"}), NONE, NONE
        )


def test_timestamps_come_back_as_aware_utc(store: OperationalStore) -> None:
    shanghai = datetime(2024, 5, 1, 16, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # 08:30 UTC
    store.apply_run(
        run_record("r1", DAY1),
        opened_frame({"customer_id": "C1", "first_seen": shanghai}),
        NONE,
        NONE,
    )
    record = store.get_warning("churn-C1-20240501")
    assert record.first_seen == DAY1 and record.first_seen.tzinfo == UTC
    assert record.first_seen.hour == 8
    frame = store.active_warnings()
    assert str(frame["first_seen"].dtype) == "datetime64[us, UTC]"
    assert frame["first_seen"].iloc[0] == pd.Timestamp(DAY1)
    assert store.history(record.id)[0].at.tzinfo == UTC
    assert store.runs()[0].as_of.tzinfo == UTC


def test_naive_timestamps_are_refused_before_anything_is_written(
    store: OperationalStore,
) -> None:
    naive = opened_frame({"customer_id": "C1", "first_seen": datetime(2024, 5, 1)})
    with pytest.raises(ValueError, match="first_seen"):
        store.apply_run(run_record("r1", DAY1), naive, NONE, NONE)
    assert store.runs() == []


def test_active_warnings_at_an_instant_omit_later_ones(store: OperationalStore) -> None:
    seed(store)
    store.apply_run(
        run_record("r2", DAY2), opened_frame({"customer_id": "C2", "first_seen": DAY2}), NONE, NONE
    )
    assert len(store.active_warnings()) == 3
    assert "churn-C2-20240502" not in set(store.active_warnings(DAY1)["id"])
    assert list(store.active_warnings().columns)[:3] == ["id", "customer_id", "segment"]


def test_legal_transitions_are_recorded(store: OperationalStore) -> None:
    seed(store)
    id = "churn-C1-20240501"
    store.set_state(id, WarningState.ACKNOWLEDGED, actor="alice", at=DAY2)
    store.set_state(id, WarningState.IN_PROGRESS, actor="alice", at=DAY2)
    record = store.set_state(id, WarningState.RESOLVED, actor="bob", at=DAY3, note="called")
    assert record.state == WarningState.RESOLVED and record.resolved_at == DAY3
    changes = [(h.actor, h.old_value, h.new_value) for h in store.history(id) if h.field == "state"]
    assert changes == [
        ("alice", "open", "acknowledged"),
        ("alice", "acknowledged", "in_progress"),
        ("bob", "in_progress", "resolved"),
    ]
    assert store.history(id)[-1].note == "called"
    dismissed = store.set_state(
        "complaint_surge-seg.north-20240501", WarningState.FALSE_POSITIVE, actor="bob", at=DAY2
    )
    assert dismissed.state == WarningState.FALSE_POSITIVE and store.active_warnings().empty


def test_illegal_transitions_name_the_states_and_the_way_on(store: OperationalStore) -> None:
    seed(store)
    id = "churn-C1-20240501"
    store.set_state(id, WarningState.ACKNOWLEDGED, actor="alice", at=DAY2)
    with pytest.raises(InvalidTransitionError) as caught:
        store.set_state(id, WarningState.OPEN, actor="alice", at=DAY2)
    assert caught.value.message == (
        "Warning 'churn-C1-20240501' is acknowledged; it cannot become open."
    )
    assert caught.value.hint == (
        "From acknowledged it can become: in_progress, resolved, false_positive."
    )
    with pytest.raises(InvalidTransitionError, match="already acknowledged"):
        store.set_state(id, WarningState.ACKNOWLEDGED, actor="alice", at=DAY2)
    store.set_state(id, WarningState.RESOLVED, actor="alice", at=DAY2)
    with pytest.raises(InvalidTransitionError) as closed:
        store.set_state(id, WarningState.ACKNOWLEDGED, actor="alice", at=DAY3)
    assert closed.value.hint is not None and "closed warning stays closed" in closed.value.hint
    assert store.get_warning(id).state == WarningState.RESOLVED


def test_open_cannot_skip_to_in_progress(store: OperationalStore) -> None:
    seed(store)
    with pytest.raises(InvalidTransitionError, match="is open; it cannot become in_progress"):
        store.set_state("churn-C1-20240501", WarningState.IN_PROGRESS, actor="a", at=DAY2)


def test_an_unknown_id_says_where_the_ids_are(store: OperationalStore) -> None:
    with pytest.raises(WarningNotFoundError) as caught:
        store.get_warning("churn-C404-20240501")
    assert caught.value.message == "No warning 'churn-C404-20240501'."
    assert caught.value.hint == "'crew alerts list' shows the ids."
    with pytest.raises(WarningNotFoundError):
        store.set_state("nope", WarningState.RESOLVED, actor="a", at=DAY1)
    with pytest.raises(WarningNotFoundError):
        store.history("nope")


def test_assign_is_recorded(store: OperationalStore) -> None:
    seed(store)
    record = store.assign("churn-C1-20240501", "carol", actor="alice", at=DAY2)
    assert record.assignee == "carol"
    last = store.history(record.id)[-1]
    assert (last.field, last.old_value, last.new_value, last.actor) == (
        "assignee",
        None,
        "carol",
        "alice",
    )


def test_list_filters_and_orders_newest_first(store: OperationalStore) -> None:
    seed(store)
    store.apply_run(
        run_record("r2", DAY2),
        opened_frame(
            {"customer_id": "C2", "first_seen": DAY2, "level": "low"},
            {"customer_id": "C3", "first_seen": DAY2, "level": "high", "risk_type": "fraud"},
        ),
        NONE,
        NONE,
    )
    store.set_state("churn-C2-20240502", WarningState.RESOLVED, actor="a", at=DAY3)
    assert [r.id for r in store.list_warnings()] == [
        "fraud-C3-20240502",
        "complaint_surge-seg.north-20240501",
        "churn-C1-20240501",
    ]
    everything = store.list_warnings(states=list(WarningState))
    assert [r.id for r in everything][:2] == ["fraud-C3-20240502", "churn-C2-20240502"]
    assert [r.id for r in store.list_warnings(levels=[Level.HIGH])] == [
        "fraud-C3-20240502",
        "complaint_surge-seg.north-20240501",
    ]
    assert [r.id for r in store.list_warnings(risk_types=[RiskType.CHURN])] == ["churn-C1-20240501"]
    assert [r.subject for r in store.list_warnings(segment="north")] == ["seg.north"]
    assert store.list_warnings(customer_id="C2") == []
    assert len(store.list_warnings(customer_id="C2", states=[WarningState.RESOLVED])) == 1
    assert len(store.list_warnings(limit=1)) == 1


def test_warning_ids_are_readable_and_deterministic() -> None:
    assert warning_id("churn", "C1", None, DAY1) == "churn-C1-20240501"
    assert warning_id(RiskType.FRAUD, None, "vip", DAY2) == "fraud-seg.vip-20240502"
    with pytest.raises(ValueError):
        warning_id("not_a_risk", "C1", None, DAY1)


def test_reopening_a_file_keeps_the_data_and_migrates_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    with OperationalStore.open(url) as first:
        seed(first)
    with OperationalStore.open(url) as again:
        assert len(again.active_warnings()) == 2


def test_the_in_memory_store_is_a_full_store() -> None:
    with OperationalStore.in_memory() as memory:
        seed(memory)
        assert len(memory.list_warnings()) == 2


def test_the_default_store_is_a_file_in_the_workspace(workspace: Workspace) -> None:
    with open_operational_store(workspace, None) as default:
        seed(default)
    assert (workspace.root / "operational.sqlite").exists()
    assert workspace.operational_url == f"sqlite:///{workspace.root / 'operational.sqlite'}"


def test_a_bad_url_is_a_crew_error_without_the_password() -> None:
    with pytest.raises(OperationalStoreError) as caught:
        OperationalStore.open("postgres ql://me:s3cret@db")
    assert "s3cret" not in caught.value.message and caught.value.exit_code == 8
    assert caught.value.hint is not None and "postgresql+psycopg://" in caught.value.hint
    with pytest.raises(OperationalStoreError, match="Cannot use nosuchdb://"):
        OperationalStore.open("nosuchdb://me:s3cret@db/x")


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    (tmp_path / "ops.sqlite").write_text("not sqlite at all " * 100)
    with pytest.raises(OperationalStoreError) as caught:
        OperationalStore.open(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    assert str(tmp_path / "ops.sqlite") in caught.value.message
    assert caught.value.hint is not None


@pytest.mark.slow
def test_fifty_thousand_warnings_are_written_in_one_run(tmp_path: Path) -> None:
    n = 50_000
    opened = opened_frame(*({"customer_id": f"C{i:06d}"} for i in range(n)))
    with OperationalStore.open(f"sqlite:///{tmp_path / 'ops.sqlite'}") as big:
        big.apply_run(run_record("r1", DAY1, opened=n), opened, NONE, NONE)
        assert len(big.active_warnings()) == n
        assert big.outbox.last_id() == n  # one notification each, in the same transaction
