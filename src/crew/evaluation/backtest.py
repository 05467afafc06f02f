"""Replay the pipeline over history and line each instant up against what really happened.

A backtest runs `pipeline.replay` on a scratch operational store (nothing the workspace keeps
is touched) and, after each run, records a *panel* row per customer: every score that could
rank the customer (churn probability, fuzzy risk index, the level of the rule warnings, the
recency baseline) beside the outcomes that followed within the horizon. Rows whose horizon
reaches past the end of the data are kept but marked incomplete: their labels are not yet
known and no discrimination figure uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from crew.evaluation.outcomes import WARNED_BY
from crew.pipeline import RunResult, RunSetup, replay
from crew.store.operational import OperationalStore
from crew.types import OutcomeKind

LEVEL_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3}
"""Warning levels as an ordinal score: the rule signals' ranking of customers."""
SCORE_COLUMNS = ("churn_probability", "risk_index", "fuzzy_index")
"""Model scores carried into the panel when the run assessed the customers."""
MAX_SNAPSHOTS = 26
"""Indicator snapshots kept for drift and cohort tables (evenly spread over the replay)."""


@dataclass(frozen=True)
class Backtest:
    """A replay and everything it is measured against."""

    instants: list[datetime]
    horizon_days: int
    data_end: datetime  # the last instant with data: labels after it are unknown
    customers: int
    panel: pd.DataFrame  # one row per (as_of, customer): scores, rule levels, labels
    snapshots: list[tuple[datetime, pd.DataFrame]]  # numeric indicators per kept instant
    warnings: pd.DataFrame  # every warning the replay raised, all states
    outcomes: pd.DataFrame  # customer_id, kind, ts
    runs: list[RunResult] = field(default_factory=list)

    @property
    def complete(self) -> pd.DataFrame:
        """Panel rows whose whole horizon lies inside the data (labels known)."""
        return self.panel[self.panel["complete"]]


def run_backtest(
    conn: duckdb.DuckDBPyConnection,
    setup: RunSetup,
    instants: list[datetime],
    *,
    horizon: timedelta,
    root: Path | None = None,
    on_run: Callable[[RunResult], None] | None = None,
) -> Backtest:
    """Replay at `instants` on a scratch store and collect the panel; nothing is kept."""
    outcomes = conn.sql("SELECT customer_id, CAST(kind AS VARCHAR) AS kind, ts FROM outcomes").df()
    data_end = _data_end(conn)
    keep = set(np.linspace(0, len(instants) - 1, min(MAX_SNAPSHOTS, len(instants))).round())
    parts: list[pd.DataFrame] = []
    snapshots: list[tuple[datetime, pd.DataFrame]] = []
    store = OperationalStore.in_memory()

    def collect(result: RunResult) -> None:
        scored = result.scored
        assert scored is not None  # run_at always measures
        features = scored.features
        parts.append(_panel_rows(result.as_of, features, scored.assessment, store, outcomes))
        parts[-1]["complete"] = result.as_of + horizon <= data_end
        if instants.index(result.as_of) in keep:
            numeric = features.select_dtypes("number").astype("float32")
            snapshots.append((result.as_of, numeric))
        if on_run is not None:
            on_run(result)

    with store:
        runs = replay(conn, store, setup, instants, dry_run=True, root=root, on_run=collect)
        warnings = store.warnings_frame()
    panel = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    panel = _with_labels(panel, outcomes, horizon)
    customers = int(conn.sql("SELECT count(*) FROM customers").fetchall()[0][0])
    return Backtest(
        instants=instants,
        horizon_days=int(horizon.total_seconds() // 86400),
        data_end=data_end,
        customers=customers,
        panel=panel,
        snapshots=snapshots,
        warnings=warnings,
        outcomes=outcomes,
        runs=runs,
    )


def _panel_rows(
    as_of: datetime,
    features: pd.DataFrame,
    assessment: pd.DataFrame | None,
    store: OperationalStore,
    outcomes: pd.DataFrame,
) -> pd.DataFrame:
    """One row per customer still with us at `as_of`: scores and the rule levels."""
    gone = outcomes.loc[(outcomes["kind"] == OutcomeKind.CHURN.value) & (outcomes["ts"] < as_of)]
    present = features.index[~features.index.isin(gone["customer_id"])]
    rows = pd.DataFrame({"customer_id": present.astype(str)})
    rows.insert(0, "as_of", as_of)
    rows["segment"] = (
        features["segment"].reindex(present).astype("string").to_numpy()
        if "segment" in features.columns
        else None
    )
    if "recency_days" in features.columns:
        rows["recency_days"] = features["recency_days"].reindex(present).to_numpy(dtype=float)
    if assessment is not None:
        for column in SCORE_COLUMNS:
            if column in assessment.columns:
                rows[column] = assessment[column].reindex(present).to_numpy(dtype=float)
        if "clv" in assessment.columns:
            rows["clv"] = assessment["clv"].reindex(present).to_numpy(dtype=float)
    active = store.active_warnings()
    active = active[active["customer_id"].notna()]
    rank = active["level"].map(LEVEL_RANK).fillna(0)
    for kind, types in WARNED_BY.items():
        mine = rank[active["risk_type"].isin(types)].groupby(active["customer_id"]).max()
        rows[f"rule_{kind}"] = mine.reindex(rows["customer_id"]).fillna(0).to_numpy(dtype=int)
    return rows


def _with_labels(panel: pd.DataFrame, outcomes: pd.DataFrame, horizon: timedelta) -> pd.DataFrame:
    """label_<kind> = 1 when the customer had that outcome in [as_of, as_of + horizon)."""
    if panel.empty:
        return panel
    keys = panel[["as_of", "customer_id"]]
    for kind in WARNED_BY:
        mine = outcomes.loc[outcomes["kind"] == kind, ["customer_id", "ts"]]
        joined = keys.reset_index().merge(mine, on="customer_id", how="inner")
        inside = (joined["ts"] >= joined["as_of"]) & (joined["ts"] < joined["as_of"] + horizon)
        hit = set(joined.loc[inside, "index"])
        panel[f"label_{kind}"] = panel.index.isin(list(hit)).astype(int)
    return panel


def _data_end(conn: duckdb.DuckDBPyConnection) -> datetime:
    """The latest timestamp in the behaviour tables: what was known when the data was cut."""
    row = conn.sql(
        "SELECT greatest((SELECT max(ts) FROM transactions), (SELECT max(ts) FROM events), "
        "(SELECT max(ts) FROM interactions))"
    ).fetchall()[0][0]
    if row is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return pd.Timestamp(row).to_pydatetime()


__all__ = ["LEVEL_RANK", "SCORE_COLUMNS", "Backtest", "run_backtest"]
