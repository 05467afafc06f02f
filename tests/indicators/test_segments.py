"""Segment-level daily series, hand-checked and point in time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb

from crew.indicators.segments import SERIES_COLUMNS, segment_daily_series


def test_daily_series_by_hand(db: duckdb.DuckDBPyConnection) -> None:
    db.execute(
        "INSERT INTO customers (customer_id, segment, signup_date) VALUES "
        "('a', 'mass', DATE '2024-01-01'), ('b', 'mass', DATE '2024-03-02'), "
        "('c', 'vip', DATE '2024-01-01')"
    )
    db.execute(
        "INSERT INTO transactions (txn_id, customer_id, ts, amount, type) VALUES "
        "('1', 'a', '2024-03-01 09:00+00', 10, 'purchase'), "
        "('2', 'a', '2024-03-01 18:00+00', 5, 'purchase'), "
        "('3', 'c', '2024-03-02 10:00+00', 7, 'refund'), "
        "('4', 'b', '2024-03-03 00:00+00', 99, 'purchase')"  # at as_of: not read
    )
    db.execute(
        "INSERT INTO interactions (interaction_id, customer_id, ts, kind, nps) VALUES "
        "('i1', 'a', '2024-03-02 08:00+00', 'complaint', NULL), "
        "('i2', 'b', '2024-03-02 09:00+00', 'survey', 3), "
        "('i3', 'a', '2024-03-02 10:00+00', 'survey', 9)"
    )
    table = segment_daily_series(
        db, datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 3, tzinfo=UTC)
    )
    assert tuple(table.column_names) == SERIES_COLUMNS
    rows = {(r["segment"], r["day"]): r for r in table.to_pylist()}
    assert set(rows) == {
        ("mass", date(2024, 3, 1)),
        ("mass", date(2024, 3, 2)),
        ("vip", date(2024, 3, 1)),
        ("vip", date(2024, 3, 2)),
    }
    assert rows["mass", date(2024, 3, 1)] | {} == {
        "day": date(2024, 3, 1),
        "segment": "mass",
        "customers": 1,
        "purchasers": 1,
        "purchases": 2,
        "spend": 15.0,
        "complaints": 0,
        "nps_answers": 0,
        "nps_mean": None,
        "logins": 0,
    }
    second = rows["mass", date(2024, 3, 2)]
    assert (
        second["customers"],
        second["complaints"],
        second["nps_answers"],
        second["nps_mean"],
    ) == (2, 1, 2, 6.0)
    assert rows["vip", date(2024, 3, 2)]["purchases"] == 0  # a refund is not a purchase
