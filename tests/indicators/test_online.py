"""Online indicators: hand-computed windows, the batch's boundary rule, SQL NULL semantics."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from crew.indicators._snippets import UnsupportedSnippet, compile_snippet
from crew.indicators.catalog import load_catalog
from crew.indicators.compute import compute_indicators
from crew.indicators.online import compile_online
from crew.indicators.online_state import OnlineState, event_row, micros
from crew.ingest.events import EVENT, Event
from crew.store import Workspace
from crew.types import Table

T = datetime(2024, 6, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
PLAN = compile_online(load_catalog())


def event(table: str, n: int, ts: datetime, **fields: object) -> Event:
    """A validated event of customer C1 (`n` makes its id)."""
    ids = {"transactions": "txn_id", "interactions": "interaction_id", "events": "event_id"}
    payload: dict[str, object] = {"table": table, ids[table]: f"{table[0]}{n}"}
    payload |= {"customer_id": "C1", "ts": ts.isoformat()}
    if table == "transactions":
        payload.setdefault("amount", 10.0)
    return EVENT.validate_python(payload | fields)


def fed(*events: Event) -> OnlineState:
    state = OnlineState(PLAN)
    for e in events:
        table = Table(e.table)
        state.add(e.customer_id, table, e.key, event_row(e, PLAN.columns[table]))
    return state


def complaint(n: int, ts: datetime, **fields: object) -> Event:
    return event("interactions", n, ts, kind="complaint", **fields)


BOUNDARY = [
    complaint(1, T - timedelta(days=30)),  # exactly as_of - 30d: in the 30-day window
    complaint(2, T - timedelta(days=30) - US),  # one µs earlier: in the baseline instead
    complaint(3, T - US),  # the last instant before as_of
    complaint(4, T),  # at as_of: not yet seen (ts < as_of)
    complaint(5, T - timedelta(days=120)),  # first instant of the baseline window
    complaint(6, T - timedelta(days=120) - US),  # before every window
]


def test_windows_follow_the_batch_rule_at_their_boundaries() -> None:
    values = fed(*BOUNDARY).values("C1", micros(T))
    assert values["complaint_count_30d"] == 2  # events 1 and 3
    assert values["complaint_count_prior_90d"] == 2  # events 2 and 5
    # (2 + 1) / (2 * 30 / 90 + 1) - 1, the smoothed growth with the baseline per 30 days
    assert values["complaint_growth"] == pytest.approx(3 / (2 * 30 / 90 + 1) - 1, abs=1e-12)
    assert values["repeat_complaint"] == 1
    assert values["txn_count_30d"] == 0 and values["recency_days"] == 730  # defaults


def test_the_batch_agrees_on_the_boundaries(workspace: Workspace) -> None:
    with workspace.connect() as conn:
        conn.execute("INSERT INTO customers (customer_id) VALUES ('C1')")
        for e in BOUNDARY:
            conn.execute(
                "INSERT INTO interactions (interaction_id, customer_id, ts, kind) "
                "VALUES (?, ?, ?, ?)",
                [e.record_id, e.customer_id, e.ts, "complaint"],
            )
    batch = compute_indicators(workspace, load_catalog(), T, store=False).values.to_pylist()[0]
    online = fed(*BOUNDARY).values("C1", micros(T))
    for name in ("complaint_count_30d", "complaint_growth", "repeat_complaint"):
        assert online[name] == pytest.approx(batch[name], abs=1e-9), name


def test_sums_averages_maxima_and_days_since_the_last_purchase() -> None:
    state = fed(
        event("transactions", 1, T - timedelta(days=2), amount=100.0, type="purchase"),
        event("transactions", 2, T - timedelta(days=10), amount=50.0, type="purchase"),
        event("transactions", 3, T - timedelta(days=40), amount=30.0, type="purchase"),
        event("transactions", 4, T - timedelta(days=1), amount=999.0, type="refund"),
    )
    values = state.values("C1", micros(T))
    assert values["spend_30d"] == 150.0 and values["txn_count_30d"] == 2
    assert values["spend_prior_90d"] == 30.0 and values["aov_30d"] == 75.0
    assert values["max_amount_30d"] == 999.0  # every money movement, the refund too
    assert values["recency_days"] == 2.0
    assert values["refund_count_90d"] == 1 and values["refund_rate_90d"] == 1 / 3
    # Two days later nothing new arrived, but the windows moved on.
    later = state.values("C1", micros(T + timedelta(days=2)))
    assert later["recency_days"] == 4.0


def test_the_latest_answer_is_the_mean_of_ties_and_nulls_do_not_count() -> None:
    state = fed(
        event("interactions", 1, T - timedelta(days=3), kind="survey", nps=9),
        event("interactions", 2, T - timedelta(days=1), kind="survey", nps=2),
        event("interactions", 3, T - timedelta(days=1), kind="survey", nps=5),
        event("interactions", 4, T - timedelta(hours=1), kind="survey"),  # no answer
    )
    values = state.values("C1", micros(T))
    assert values["nps_latest"] == 3.5
    assert values["detractor"] == 1
    assert values["nps_change"] == pytest.approx(3.5 - 16 / 3)


def test_status_and_resolution_are_what_they_were_at_as_of() -> None:
    state = fed(
        complaint(1, T - timedelta(days=5), resolved_ts=(T + timedelta(days=1)).isoformat()),
        complaint(2, T - timedelta(days=4), resolved_ts=(T - timedelta(days=3)).isoformat()),
        event("interactions", 3, T - timedelta(days=2), kind="ticket", status="resolved"),
    )
    values = state.values("C1", micros(T))
    # 1 is resolved only after as_of; 3 says resolved but has no resolution time.
    assert values["open_ticket_count"] == 2
    assert values["avg_resolution_hours_90d"] == 24.0
    after = state.values("C1", micros(T + timedelta(days=2)))
    assert after["open_ticket_count"] == 1
    assert after["avg_resolution_hours_90d"] == (24.0 + 6 * 24.0) / 2


def test_rapid_in_and_out_counts_withdrawals_within_a_day_of_a_deposit() -> None:
    day = T - timedelta(days=5)
    state = fed(
        event("transactions", 1, day, type="deposit"),
        event("transactions", 2, day + timedelta(hours=23), type="withdrawal"),
        event("transactions", 3, day + timedelta(hours=25), type="transfer"),
        event("transactions", 4, day + timedelta(days=2), type="deposit"),
        event("transactions", 5, day + timedelta(days=2), type="withdrawal"),  # same instant
    )
    assert state.values("C1", micros(T))["rapid_in_out_count_30d"] == 2


def test_the_same_event_twice_counts_once() -> None:
    once = complaint(1, T - timedelta(days=1))
    state = fed(once)
    assert state.add("C1", Table.INTERACTIONS, once.key, {"ts": micros(once.ts)}) is None
    assert state.values("C1", micros(T))["complaint_count_30d"] == 1


def test_old_rows_are_cut_but_values_at_later_instants_stay_exact() -> None:
    rows = [complaint(n, T - timedelta(days=400 - n)) for n in range(400)]
    state = fed(*rows)
    kept = state.customers["C1"].series["complaint_count_30d"][0]
    assert len(kept) < 100  # trimmed to the window (in chunks)
    assert state.values("C1", micros(T))["complaint_count_30d"] == 30


def test_only_what_is_asked_for_is_computed() -> None:
    values = fed(complaint(1, T - timedelta(days=1))).values("C1", micros(T), ["repeat_complaint"])
    assert set(values) == {"repeat_complaint", "complaint_count_30d"}


def test_indicators_without_an_online_form_are_listed_with_the_reason() -> None:
    reasons = {u.id: u.reason for u in PLAN.unsupported}
    assert "compares customers" in reasons["segment_shock_index"]
    # Text indicators are online: the handler derives interaction_text rows from the texts.
    assert {"sentiment_trend", "cancellation_intent_mentions_90d"} <= set(PLAN.order)
    assert len(PLAN.order) + len(PLAN.unsupported) == len(load_catalog().indicators)


@pytest.mark.parametrize(
    ("sql", "row", "expected"),
    [
        ("kind = 'complaint' AND severity >= 4", {"kind": "complaint", "severity": None}, None),
        ("kind = 'x' AND severity >= 4", {"kind": "complaint", "severity": None}, False),
        ("kind = 'complaint' OR severity >= 4", {"kind": "complaint", "severity": None}, True),
        ("actor NOT IN ('customer', 'system')", {"actor": None}, None),
        ("actor IS NOT NULL AND actor NOT IN ('system')", {"actor": "s1"}, True),
        ("CASE WHEN hour(ts) < 6 THEN 1.0 ELSE 0.0 END", {"ts": 5 * 3_600_000_000}, 1.0),
        ("(epoch(resolved_ts) - epoch(ts)) / 3600.0", {"ts": 0, "resolved_ts": 7_200_000_000}, 2),
        ("amount / 0", {"amount": 2.0}, math.inf),
        ("coalesce(nps, 5) + 1", {"nps": None}, 6),
        ("list_contains(topics, 'privacy_data')", {"topics": ["billing", "privacy_data"]}, True),
        ("list_contains(topics, 'privacy_data')", {"topics": []}, False),
        ("list_contains(topics, 'privacy_data')", {"topics": None}, None),
    ],
)
def test_snippets_follow_sql_null_logic(sql: str, row: dict[str, object], expected: object) -> None:
    assert compile_snippet(sql)(row, 0) == expected


def test_sql_without_an_online_form_is_refused() -> None:
    with pytest.raises(UnsupportedSnippet, match="StrPosition"):
        compile_snippet("strpos(channel, 'app') > 0")
