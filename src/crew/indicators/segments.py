"""Segment-level daily series, the input of shock and surge detection on whole segments."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pyarrow as pa

from crew.store.duckdb import as_of_literal

SERIES_COLUMNS = (
    "day",
    "segment",
    "customers",
    "purchasers",
    "purchases",
    "spend",
    "complaints",
    "nps_answers",
    "nps_mean",
    "logins",
)


def segment_daily_series(
    conn: duckdb.DuckDBPyConnection, start: datetime, as_of: datetime
) -> pa.Table:
    """One row per segment and day in [start, as_of): customers, activity, complaints, NPS.

    Point in time: only rows with `ts < as_of` are read; `customers` counts those who had
    signed up by the end of the day. Days without activity are present, with zeros.
    """
    if start >= as_of:
        raise ValueError("start must be before as_of")
    at, since = as_of_literal(as_of), as_of_literal(start)
    last_day = (as_of - timedelta(microseconds=1)).date().isoformat()
    sql = f"""
    WITH days AS (
        SELECT CAST(d AS DATE) AS day FROM generate_series(
            CAST({since} AS DATE), DATE '{last_day}', INTERVAL 1 DAY) AS g(d)),
    segs AS (SELECT DISTINCT coalesce(segment, 'unknown') AS segment FROM customers),
    cust AS (SELECT customer_id, coalesce(segment, 'unknown') AS segment, signup_date
             FROM customers),
    txn AS (
        SELECT CAST(t.ts AS DATE) AS day, c.segment, count(DISTINCT t.customer_id) AS purchasers,
               count(*) AS purchases, sum(t.amount) AS spend
        FROM transactions t JOIN cust c USING (customer_id)
        WHERE t.ts >= {since} AND t.ts < {at} AND t.type = 'purchase' GROUP BY ALL),
    ixn AS (
        SELECT CAST(i.ts AS DATE) AS day, c.segment,
               count(*) FILTER (WHERE i.kind = 'complaint') AS complaints,
               count(i.nps) AS nps_answers, avg(i.nps) AS nps_mean
        FROM interactions i JOIN cust c USING (customer_id)
        WHERE i.ts >= {since} AND i.ts < {at} GROUP BY ALL),
    evt AS (
        SELECT CAST(e.ts AS DATE) AS day, c.segment, count(*) AS logins
        FROM events e JOIN cust c USING (customer_id)
        WHERE e.ts >= {since} AND e.ts < {at} AND e.kind = 'login' GROUP BY ALL),
    pop AS (
        SELECT d.day, c.segment, count(c.customer_id) AS customers
        FROM days d JOIN cust c ON c.signup_date IS NULL OR c.signup_date <= d.day
        GROUP BY ALL)
    SELECT d.day, s.segment, coalesce(p.customers, 0) AS customers,
           coalesce(t.purchasers, 0) AS purchasers, coalesce(t.purchases, 0) AS purchases,
           coalesce(t.spend, 0) AS spend, coalesce(i.complaints, 0) AS complaints,
           coalesce(i.nps_answers, 0) AS nps_answers, i.nps_mean, coalesce(e.logins, 0) AS logins
    FROM days d CROSS JOIN segs s
    LEFT JOIN pop p USING (day, segment) LEFT JOIN txn t USING (day, segment)
    LEFT JOIN ixn i USING (day, segment) LEFT JOIN evt e USING (day, segment)
    ORDER BY s.segment, d.day
    """
    return conn.sql(sql).to_arrow_table()


__all__ = ["SERIES_COLUMNS", "segment_daily_series"]
