"""Per-customer weekly activity series: the own baseline that individual signals compare with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import numpy.typing as npt

from crew.store.duckdb import as_of_literal

FloatMatrix = npt.NDArray[np.float32]

SERIES = ("purchases", "spend", "complaints", "activity")
"""The weekly measures, in the order of `WeeklySeries.values`' first axis.

`activity` counts every sign of life: purchases, logins and contacts other than complaints;
denser than purchases alone, it shows a fading relationship weeks earlier.
"""


@dataclass(frozen=True)
class WeeklySeries:
    """Weekly purchases, spend and complaints of every customer in the weeks before `as_of`.

    Week 0 is the oldest, week `weeks - 1` ends at `as_of`. `observed[i, w]` is False for
    weeks that ended before customer i signed up (not part of its history).
    """

    as_of: datetime
    customer_ids: npt.NDArray[np.object_]
    values: FloatMatrix  # shape (len(SERIES), customers, weeks)
    observed: npt.NDArray[np.bool_]  # shape (customers, weeks)

    @property
    def weeks(self) -> int:
        """Number of weeks in the series."""
        return int(self.values.shape[2])

    def measure(self, name: str) -> FloatMatrix:
        """The (customers, weeks) matrix of one measure."""
        matrix: FloatMatrix = self.values[SERIES.index(name)]
        return matrix


def weekly_series(conn: duckdb.DuckDBPyConnection, as_of: datetime, weeks: int) -> WeeklySeries:
    """Weekly series of every customer over the `weeks` weeks before `as_of` (rows ts < as_of)."""
    at = as_of_literal(as_of)
    start = f"{at} - INTERVAL '{7 * weeks}' DAY"
    week = f"{weeks - 1} - CAST(floor((epoch({at}) - epoch(ts)) / 604800) AS INTEGER)"
    ids = conn.sql("SELECT customer_id FROM customers ORDER BY customer_id").fetchnumpy()
    customer_ids = np.asarray(ids["customer_id"], dtype=object)
    n = len(customer_ids)
    values = np.zeros((len(SERIES), n, weeks), dtype=np.float32)
    sql = f"""
    WITH ids AS (SELECT customer_id, row_number() OVER (ORDER BY customer_id) - 1 AS i
                 FROM customers),
    txn AS (SELECT customer_id, {week} AS w, count(*) AS purchases, sum(amount) AS spend,
                   0 AS complaints, count(*) AS activity
            FROM transactions WHERE type = 'purchase' AND ts >= {start} AND ts < {at}
            GROUP BY ALL),
    ixn AS (SELECT customer_id, {week} AS w, 0 AS purchases, 0 AS spend,
                   count(*) FILTER (WHERE kind = 'complaint') AS complaints,
                   count(*) FILTER (WHERE kind <> 'complaint') AS activity
            FROM interactions WHERE ts >= {start} AND ts < {at}
            GROUP BY ALL),
    evt AS (SELECT customer_id, {week} AS w, 0 AS purchases, 0 AS spend, 0 AS complaints,
                   count(*) AS activity
            FROM events WHERE kind = 'login' AND ts >= {start} AND ts < {at}
            GROUP BY ALL)
    SELECT ids.i, u.w, sum(u.purchases) AS purchases, sum(u.spend) AS spend,
           sum(u.complaints) AS complaints, sum(u.activity) AS activity
    FROM (SELECT * FROM txn UNION ALL SELECT * FROM ixn UNION ALL SELECT * FROM evt) u
    JOIN ids USING (customer_id) GROUP BY ALL
    """
    cells = conn.sql(sql).fetchnumpy()
    row = np.asarray(cells["i"], dtype=np.int64)
    col = np.asarray(cells["w"], dtype=np.int64)
    for k, name in enumerate(SERIES):  # one row per (customer, week): plain assignment
        values[k][row, col] = np.asarray(cells[name], dtype=np.float32)
    signup = conn.sql(
        f"SELECT CAST(floor((epoch({at}) - epoch(CAST(signup_date AS TIMESTAMPTZ))) / 604800) "
        "AS DOUBLE) AS age FROM customers ORDER BY customer_id"
    ).fetchnumpy()["age"]
    age = np.nan_to_num(np.asarray(signup, dtype=float), nan=float(weeks))
    # Week w ends (weeks - 1 - w) weeks before as_of; it is history if signup came before its end.
    ends_ago = (weeks - 1) - np.arange(weeks)
    observed = age[:, None] > ends_ago[None, :]
    return WeeklySeries(as_of, customer_ids, values, observed)


__all__ = ["SERIES", "WeeklySeries", "weekly_series"]
