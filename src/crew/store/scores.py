"""Stored assessments: one row per customer, instant and model version."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pandas as pd

from crew.store.duckdb import transaction

_COLUMNS = (
    "state",
    "churn_probability",
    "risk_index",
    "level",
    "colour",
    "fuzzy_index",
    "coverage",
    "clv",
    "clv_decline",
)


def save_scores(
    conn: duckdb.DuckDBPyConnection, scores: pd.DataFrame, as_of: datetime, model_version: int
) -> int:
    """Replace the scores of (as_of, model_version) with `scores` (index customer_id)."""
    frame = scores.reset_index()[["customer_id", *_COLUMNS]].copy()
    frame["dimension_scores"] = [json.dumps(d) for d in scores["dimension_scores"]]
    frame["reasons"] = [json.dumps(r, ensure_ascii=False) for r in scores["reasons"]]
    frame["evidence_note"] = scores["evidence_note"].to_numpy()
    with transaction(conn):
        conn.execute(
            "DELETE FROM scores WHERE as_of = ? AND model_version = ?", [as_of, model_version]
        )
        conn.register("_crew_scores", frame)
        conn.execute(
            "INSERT INTO scores SELECT customer_id, CAST(? AS TIMESTAMPTZ), ?, state, "
            "churn_probability, risk_index, level, colour, fuzzy_index, coverage, clv, "
            "clv_decline, CAST(dimension_scores AS JSON), CAST(reasons AS JSON), evidence_note, "
            "now() FROM _crew_scores",
            [as_of, model_version],
        )
        conn.unregister("_crew_scores")
    return len(frame)


def customer_scores(conn: duckdb.DuckDBPyConnection, customer_id: str) -> list[dict[str, object]]:
    """Every stored score of one customer, newest first."""
    cursor = conn.execute(
        "SELECT * FROM scores WHERE customer_id = ? ORDER BY as_of DESC, model_version DESC",
        [customer_id],
    )
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        for key in ("dimension_scores", "reasons"):
            if isinstance(row[key], str):
                row[key] = json.loads(row[key])
        rows.append(row)
    return rows


__all__ = ["customer_scores", "save_scores"]
