"""`crew train`: examples -> churn model, fuzzy evaluator, CLV -> one registered bundle."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from crew.errors import CrewError, InsufficientDataError
from crew.indicators.catalog import Catalog, Direction
from crew.indicators.compute import profile_name
from crew.indicators.weights import entropy_scopes
from crew.models.churn import ChurnModel
from crew.models.clv import CustomerLifetimeValue, fit_clv
from crew.models.dataset import Examples, build_examples, build_snapshot_examples
from crew.models.fuzzy import FuzzyEvaluator, weights_from_scopes
from crew.models.labels import ChurnDefinition
from crew.models.registry import ModelBundle, indicator_fingerprints
from crew.models.sequence import (
    SequenceChurnModel,
    build_sequences,
    compare_with_lightgbm,
    require_torch,
)
from crew.store.weights import load_weights
from crew.types import Industry

GRID_POINTS = 1000


@dataclass(frozen=True)
class TrainOptions:
    """What `crew train` was asked."""

    as_of: datetime
    horizon_days: int = 90
    snapshots: int = 6
    step_days: int = 30
    profile: Industry | None = None
    definition: ChurnDefinition = ChurnDefinition.OUTCOME
    weight_set: str | None = None
    seed: int = 0
    lstm: bool = False  # also train the LSTM sequence model and compare it
    months: int = 6  # months per sequence for the LSTM


def has_history(conn: duckdb.DuckDBPyConnection) -> bool:
    """False for a snapshot data set: customers and outcomes, but no dated activity."""
    ((rows,),) = conn.execute(
        "SELECT (SELECT count(*) FROM transactions) + (SELECT count(*) FROM interactions) "
        "+ (SELECT count(*) FROM events)"
    ).fetchall()
    return int(rows) > 0


def train_bundle(
    conn: duckdb.DuckDBPyConnection, catalog: Catalog, options: TrainOptions
) -> tuple[ModelBundle, dict[str, object]]:
    """Fit every model of a bundle; returns it with the metadata the registry keeps."""
    snapshot = not has_history(conn)
    if options.lstm:
        require_torch()  # before the slow part
        if snapshot:
            raise CrewError(
                "The LSTM needs dated history; this is a snapshot data set.",
                hint="Train without --model lstm.",
            )
    if snapshot:
        examples = build_snapshot_examples(conn)
    else:
        examples = build_examples(
            conn,
            catalog,
            options.as_of,
            options.horizon_days,
            snapshots=options.snapshots,
            step_days=options.step_days,
            profile=options.profile,
            definition=options.definition,
        )
    lstm = None
    if options.lstm:
        sequences = build_sequences(
            conn,
            catalog,
            options.as_of,
            options.horizon_days,
            months=options.months,
            snapshots=options.snapshots,
            step_days=options.step_days,
            profile=options.profile,
            definition=options.definition,
        )
        lstm = SequenceChurnModel(seed=options.seed).fit(sequences)
    scopes = None
    weights_note = (
        "none (snapshot data)" if snapshot else "entropy weights of the newest training snapshot"
    )
    if options.weight_set is not None and not snapshot:
        scopes = load_weights(conn, options.weight_set).weights
        weights_note = f"weight set '{options.weight_set}'"
    bundle = fit_bundle(
        examples,
        catalog,
        options,
        snapshot=snapshot,
        weight_scopes=scopes,
        clv=None if snapshot else _fit_clv(conn, options.as_of),
        sequence=lstm,
    )
    churn, clv = bundle.churn, bundle.clv
    metadata: dict[str, object] = {
        "churn": churn.describe(),
        "training": {
            "as_of": options.as_of.isoformat(),
            "horizon_days": options.horizon_days,
            "definition": options.definition.value,
            "snapshots": [s.isoformat() for s in examples.snapshots] if not snapshot else [],
            "examples": len(examples.labels),
            "churners": int(examples.labels.sum()),
            "snapshot_data_set": snapshot,
        },
        "fuzzy_weights": weights_note,
        "lstm": lstm.describe() if lstm is not None else None,
        "comparison": compare_with_lightgbm(lstm.report, churn.report, churn_examples=examples)
        if lstm is not None and lstm.report is not None and churn.report is not None
        else None,
        "clv": clv.to_dict() if clv is not None else None,
        "data_fingerprint": data_fingerprint(conn),
    }
    return bundle, metadata


def fit_bundle(
    examples: Examples,
    catalog: Catalog,
    options: TrainOptions,
    *,
    snapshot: bool = False,
    weight_scopes: dict[str, dict[str, float]] | None = None,
    clv: CustomerLifetimeValue | None = None,
    sequence: SequenceChurnModel | None = None,
) -> ModelBundle:
    """The churn model and fuzzy evaluator fitted on `examples`, bundled with `clv`.

    The fuzzy evaluation uses `weight_scopes` (a stored weight set) or, without them,
    entropy weights of the newest snapshot; snapshot data sets get none.
    """
    churn = ChurnModel(seed=options.seed).fit(examples)
    fuzzy = None if snapshot else _fit_fuzzy(catalog, examples, options, weight_scopes)
    latest = _latest(examples)
    grid = _quantile_grid(churn.predict_proba(latest.features))
    fuzzy_grid: list[float] = []
    if fuzzy is not None:
        index = fuzzy.evaluate(latest.features.reset_index(level="as_of", drop=True)).risk_index
        fuzzy_grid = _quantile_grid(index.to_numpy(dtype=float))
    fuzzy_inputs = [i for w in (fuzzy.local_weights_.values() if fuzzy else []) for i in w]
    used = [c for c in (*churn.numeric, *fuzzy_inputs) if c in catalog.by_id]
    return ModelBundle(
        churn=churn,
        fuzzy=fuzzy,
        clv=clv,
        indicators=tuple(dict.fromkeys(used)),
        fingerprints=indicator_fingerprints(catalog, used),
        profile=profile_name(options.profile),
        horizon_days=options.horizon_days,
        definition=options.definition,
        snapshot=snapshot,
        base_rate=float(examples.labels.mean()),
        probability_grid=grid,
        fuzzy_grid=fuzzy_grid,
        sequence=sequence,
        indicator_grids={
            c: _quantile_grid(_finite(latest.features[c]))
            for c in churn.numeric
            if c in catalog.by_id
        },
    )


def _quantile_grid(values: np.ndarray) -> list[float]:
    """Quantiles of the observed values: the reference for percentile indices."""
    observed = values[~np.isnan(values)]
    if observed.size == 0:
        return []
    return [float(q) for q in np.quantile(observed, np.linspace(0, 1, GRID_POINTS))]


def _finite(column: pd.Series) -> np.ndarray:
    """A column's numbers as floats, infinities as missing."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    return np.where(np.isinf(values), np.nan, values)


def _latest(examples: Examples) -> Examples:
    times = examples.features.index.get_level_values("as_of")
    if times.isna().all():
        return examples
    mask = times == max(times)
    return Examples(
        examples.features[mask], examples.labels[mask], examples.numeric, examples.categorical
    )


def _fit_fuzzy(
    catalog: Catalog,
    examples: Examples,
    options: TrainOptions,
    scopes: dict[str, dict[str, float]] | None,
) -> FuzzyEvaluator:
    latest = _latest(examples).features.reset_index(level="as_of", drop=True)
    chosen = [
        i
        for i in catalog.outputs(options.profile)
        if i.direction != Direction.NEUTRAL
        and i.id in latest.columns
        and latest[i.id].notna().any()
    ]
    values = latest[[i.id for i in chosen]].astype(float)
    if scopes is None:
        scopes = entropy_scopes(values.to_numpy(), chosen)
    dimension_weights, local_weights = weights_from_scopes(scopes)
    return FuzzyEvaluator().fit(values, catalog, dimension_weights, local_weights)


def _fit_clv(conn: duckdb.DuckDBPyConnection, as_of: datetime) -> CustomerLifetimeValue | None:
    try:
        return fit_clv(conn, as_of)
    except InsufficientDataError:
        return None  # no repeat purchases: CLV is left out and said so in the scores


def data_fingerprint(conn: duckdb.DuckDBPyConnection) -> str:
    """Rows and time span of every canonical table: changes when the data does."""
    parts = []
    for table in ("customers", "transactions", "interactions", "events", "outcomes"):
        span = "min(ts), max(ts)" if table != "customers" else "min(signup_date), max(signup_date)"
        ((n, lo, hi),) = conn.execute(f"SELECT count(*), {span} FROM {table}").fetchall()
        parts.append(f"{table}:{n}:{lo}:{hi}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


__all__ = ["TrainOptions", "data_fingerprint", "fit_bundle", "has_history", "train_bundle"]
