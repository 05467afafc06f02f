"""RFM summaries (frequency, recency, T, monetary value) from purchases, point in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

RFM_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def rfm_summary(
    conn: duckdb.DuckDBPyConnection,
    as_of: datetime,
    *,
    unit_days: float = 7.0,
    window_days: int | None = None,
) -> pd.DataFrame:
    """Frequency, recency, T and monetary value per customer from purchases before `as_of`.

    Purchases are grouped by UTC calendar day: `frequency` counts repeat purchase days
    (distinct days - 1), `recency` is the time from the first to the last purchase day,
    `T` the time from the start of the first purchase day to `as_of` (both in units of
    `unit_days`), `monetary_value` the mean spend of a repeat purchase day (0 without one).
    With `window_days`, only purchases in `[as_of - window_days, as_of)` count.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    if unit_days <= 0:
        raise ValueError(f"unit_days must be positive, got {unit_days}")
    at = as_of.astimezone(UTC)
    params: list[object] = [at.isoformat()]
    since = ""
    if window_days is not None:
        if window_days <= 0:
            raise ValueError(f"window_days must be positive, got {window_days}")
        since = "AND ts >= CAST(? AS TIMESTAMPTZ)"
        params.append((at - timedelta(days=window_days)).isoformat())
    frame = conn.execute(
        f"""
        WITH days AS (
            SELECT customer_id, CAST(timezone('UTC', ts) AS DATE) AS day, sum(amount) AS spend
            FROM transactions
            WHERE type = 'purchase' AND ts < CAST(? AS TIMESTAMPTZ) {since}
            GROUP BY ALL
        ), dated AS (
            SELECT *, min(day) OVER (PARTITION BY customer_id) AS first_day FROM days
        )
        SELECT customer_id,
               count(*) - 1 AS frequency,
               min(day) AS first_day,
               date_diff('day', min(day), max(day)) AS recency_days,
               coalesce(sum(spend) FILTER (WHERE day > first_day), 0) AS repeat_spend
        FROM dated GROUP BY customer_id ORDER BY customer_id
        """,
        params,
    ).df()
    first = pd.to_datetime(frame["first_day"]).dt.tz_localize(UTC)
    age_days = (pd.Timestamp(at) - first).dt.total_seconds() / 86400.0
    repeats = frame["frequency"].astype("int64")
    summary = pd.DataFrame(
        {
            "frequency": repeats.to_numpy(),
            "recency": frame["recency_days"].to_numpy(dtype=np.float64) / unit_days,
            "T": age_days.to_numpy(dtype=np.float64) / unit_days,
            "monetary_value": np.where(
                repeats > 0, frame["repeat_spend"] / repeats.clip(lower=1), 0.0
            ).astype(np.float64),
        },
        index=pd.Index(frame["customer_id"].astype(str), name="customer_id"),
    )
    return summary


__all__ = ["RFM_COLUMNS", "rfm_summary"]
