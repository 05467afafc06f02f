"""Labels for training: what happened to each customer in `[as_of, as_of + horizon)`."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import duckdb
import pandas as pd

from crew.store.duckdb import as_of_literal


class ChurnDefinition(StrEnum):
    """What counts as churn."""

    OUTCOME = "outcome"  # a `churn` row in outcomes
    NO_PURCHASE = "no_purchase"  # an active buyer makes no purchase (transaction-only data)


def churn_labels(
    conn: duckdb.DuckDBPyConnection,
    as_of: datetime,
    horizon_days: int,
    definition: ChurnDefinition = ChurnDefinition.OUTCOME,
    *,
    active_days: int = 90,
) -> pd.DataFrame:
    """1/0 churn per customer at risk at `as_of` (index customer_id, column `label`).

    At risk: signed up before `as_of` and not already churned before it (OUTCOME), or
    bought in the `active_days` before `as_of` (NO_PURCHASE). The label reads only
    `[as_of, as_of + horizon)`; features read only before `as_of`, so they never overlap.
    """
    at = as_of_literal(as_of)
    end = as_of_literal(as_of + timedelta(days=horizon_days))
    if definition == ChurnDefinition.OUTCOME:
        sql = f"""
        SELECT c.customer_id,
               CAST(EXISTS (SELECT 1 FROM outcomes o WHERE o.customer_id = c.customer_id
                            AND o.kind = 'churn' AND o.ts >= {at} AND o.ts < {end}) AS INTEGER)
               AS label
        FROM customers c
        WHERE (c.signup_date IS NULL OR c.signup_date < CAST({at} AS DATE))
          AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.customer_id = c.customer_id
                          AND o.kind = 'churn' AND o.ts < {at})
        ORDER BY 1"""
    else:
        start = as_of_literal(as_of - timedelta(days=active_days))
        sql = f"""
        WITH active AS (SELECT DISTINCT customer_id FROM transactions
                        WHERE type = 'purchase' AND ts >= {start} AND ts < {at})
        SELECT a.customer_id,
               CAST(NOT EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = a.customer_id
                                AND t.type = 'purchase' AND t.ts >= {at} AND t.ts < {end})
                    AS INTEGER) AS label
        FROM active a ORDER BY 1"""
    frame: pd.DataFrame = conn.sql(sql).df().set_index("customer_id")
    return frame


def horizon_is_observed(
    conn: duckdb.DuckDBPyConnection, as_of: datetime, horizon_days: int
) -> bool:
    """True when the data reaches the end of the label window (else labels are incomplete)."""
    ((last,),) = conn.execute(
        "SELECT max(m) FROM (SELECT max(ts) AS m FROM transactions UNION ALL "
        "SELECT max(ts) FROM interactions UNION ALL SELECT max(ts) FROM events)"
    ).fetchall()
    return last is not None and last >= as_of + timedelta(days=horizon_days) - timedelta(days=1)


__all__ = ["ChurnDefinition", "churn_labels", "horizon_is_observed"]
