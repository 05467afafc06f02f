"""Live scores: each customer's newest assessment refreshed by the stream.

`crew run` stores everyone's assessment at its `as_of` in the analytical store; between two
runs the stream refreshes a customer whose events moved the model's inputs materially
(`crew.stream.refresh`) and keeps the result here, in the operational store every worker
and the API share. A row is only ever replaced by a newer one, so two workers racing on
one customer (a partition changing hands) leave the newest assessment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from crew.store._live_score_tables import live_scores_table
from crew.types import finite

_NUMBERS = (
    "churn_probability",
    "risk_index",
    "fuzzy_index",
    "coverage",
    "clv",
    "clv_decline",
)


class LiveScores:
    """The `live_scores` table of one operational store."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def save(
        self,
        scores: pd.DataFrame,
        *,
        model_version: int,
        moved: Sequence[list[dict[str, object]]],
        at: datetime,
    ) -> int:
        """Keep `scores` (index customer_id, `score_features`' columns) where newer than the
        stored row; `moved` gives each row's inputs that moved. Rows written."""
        if scores.empty:
            return 0
        rows = [
            {
                "customer_id": str(customer_id),
                "as_of": row["as_of"],
                "model_version": model_version,
                "state": row["state"],
                **{name: finite(row[name]) for name in _NUMBERS},
                "level": row["level"],
                "colour": row["colour"],
                "dimension_scores": finite(row["dimension_scores"]),
                "reasons": finite(row["reasons"]),
                "evidence_note": row["evidence_note"],
                "moved": finite(list(change)),
                "computed_at": at,
            }
            for (customer_id, row), change in zip(scores.iterrows(), moved, strict=True)
        ]
        table = live_scores_table
        dialect = self._engine.dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        newer = insert.excluded.as_of >= table.c.as_of
        upsert = insert.on_conflict_do_update(
            index_elements=["customer_id"],
            set_={c.name: insert.excluded[c.name] for c in table.c if c.name != "customer_id"},
            where=newer,
        )
        with self._engine.begin() as conn:
            conn.execute(upsert, rows)
        return len(rows)

    def get(self, customer_id: str) -> dict[str, object] | None:
        """The customer's live score as a dict of the table's columns (None if none)."""
        query = sa.select(live_scores_table).where(live_scores_table.c.customer_id == customer_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row is not None else None

    def count(self) -> int:
        """Customers with a live score."""
        with self._engine.connect() as conn:
            query = sa.select(sa.func.count()).select_from(live_scores_table)
            return int(conn.execute(query).scalar_one())


__all__ = ["LiveScores"]
