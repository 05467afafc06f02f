"""Monthly indicator sequences for the LSTM, built point in time at rolling snapshots.

At each snapshot (the instants of `build_examples`), every customer at risk gets the numeric
indicators at the snapshot and at the `months - 1` month ends before it, each computed with
`features_at`, so nothing after the snapshot is read.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from crew.errors import CrewError
from crew.indicators.catalog import Catalog
from crew.models.dataset import CATEGORICAL, features_at, snapshot_instants
from crew.models.labels import ChurnDefinition, churn_labels
from crew.types import Industry

Float32Array = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SequenceExamples:
    """Indicator sequences; row i is customer `index[i]` at snapshot `index[i]`.

    `values` is (rows, months, features) float32, oldest month first, the snapshot last,
    with missing values as 0 and flagged in `missing`; `labels` is None when scoring.
    """

    values: Float32Array
    missing: BoolArray
    labels: IntArray | None
    index: pd.MultiIndex
    features: tuple[str, ...]
    month_days: int = 30
    horizon_days: int = 0  # label window length: splits keep label windows apart

    def __post_init__(self) -> None:
        rows, _, width = self.values.shape
        if self.missing.shape != self.values.shape or rows != len(self.index):
            raise ValueError(
                f"values {self.values.shape}, missing {self.missing.shape} and "
                f"{len(self.index)} index rows do not match"
            )
        if width != len(self.features) or (self.labels is not None and len(self.labels) != rows):
            raise ValueError("features or labels do not match the values")

    @property
    def snapshots(self) -> list[datetime]:
        """The instants of the examples, oldest first."""
        return sorted(set(self.index.get_level_values("as_of")))

    def rows(self, mask: BoolArray) -> SequenceExamples:
        """The examples where `mask` is True."""
        return SequenceExamples(
            values=self.values[mask],
            missing=self.missing[mask],
            labels=None if self.labels is None else self.labels[mask],
            index=self.index[mask],
            features=self.features,
            month_days=self.month_days,
            horizon_days=self.horizon_days,
        )


def _indicator_columns(frame: pd.DataFrame) -> list[str]:
    """Numeric indicator columns: no categories, no imported attributes (those are static)."""
    return [
        str(c)
        for c in frame.columns
        if c not in CATEGORICAL
        and not str(c).startswith("attr_")
        and pd.api.types.is_numeric_dtype(frame[c])
    ]


def _indicators_at(
    conn: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    instant: datetime,
    profile: Industry | None,
    cache: dict[datetime, pd.DataFrame],
) -> pd.DataFrame:
    if instant not in cache:
        frame = features_at(conn, catalog, instant, profile)
        numeric = frame[_indicator_columns(frame)].astype(float)
        cache[instant] = numeric.replace([np.inf, -np.inf], np.nan)
    return cache[instant]


def _stack(
    conn: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    instant: datetime,
    customers: pd.Index,
    features: list[str],
    months: int,
    month_days: int,
    profile: Industry | None,
    cache: dict[datetime, pd.DataFrame],
) -> Float32Array:
    """(customers, months, features) at instant - (months - 1) * month_days, ..., instant."""
    steps = []
    for back in reversed(range(months)):
        at = instant - timedelta(days=month_days * back)
        frame = _indicators_at(conn, catalog, at, profile, cache)
        # Customers who had not signed up yet at `at` have no row: all missing.
        steps.append(frame.reindex(index=customers, columns=features).to_numpy(dtype=np.float32))
    return np.stack(steps, axis=1)


def build_sequences(
    conn: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    as_of: datetime,
    horizon_days: int,
    *,
    months: int = 6,
    snapshots: int = 6,
    step_days: int = 30,
    month_days: int = 30,
    profile: Industry | None = None,
    definition: ChurnDefinition = ChurnDefinition.OUTCOME,
) -> SequenceExamples:
    """Sequences at the rolling snapshots of `build_examples`, same customers, same labels."""
    cache: dict[datetime, pd.DataFrame] = {}
    features: list[str] = []
    blocks: list[Float32Array] = []
    labels: list[IntArray] = []
    keys: list[tuple[datetime, str]] = []
    for instant in snapshot_instants(as_of, horizon_days, snapshots, step_days):
        current = _indicators_at(conn, catalog, instant, profile, cache)
        features = features or list(current.columns)
        # The inner join of build_examples: the same customers, in the same order.
        labels_at = churn_labels(conn, instant, horizon_days, definition)
        at_risk = current[[]].join(labels_at, how="inner")
        blocks.append(
            _stack(
                conn, catalog, instant, at_risk.index, features, months, month_days, profile, cache
            )
        )
        labels.append(at_risk["label"].to_numpy(dtype=np.int64))
        keys.extend((instant, str(c)) for c in at_risk.index)
    y = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)
    if len(y) == 0 or len(set(y.tolist())) < 2:
        raise CrewError(
            f"No usable training sequences before {as_of:%Y-%m-%d}: "
            f"{len(y)} rows, {int(y.sum())} churners.",
            hint="Train at a later --as-of, with a shorter --horizon, or check the outcomes "
            "table ('crew status').",
        )
    built = _sequences(np.concatenate(blocks), y, keys, features, month_days)
    return dataclasses.replace(built, horizon_days=horizon_days)


def build_sequences_at(
    conn: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    as_of: datetime,
    *,
    features: Iterable[str] | None = None,
    months: int = 6,
    month_days: int = 30,
    profile: Industry | None = None,
) -> SequenceExamples:
    """Unlabelled sequences ending at `as_of` for every customer signed up by then (scoring)."""
    cache: dict[datetime, pd.DataFrame] = {}
    current = _indicators_at(conn, catalog, as_of, profile, cache)
    names = list(features) if features is not None else list(current.columns)
    values = _stack(conn, catalog, as_of, current.index, names, months, month_days, profile, cache)
    keys = [(as_of, str(c)) for c in current.index]
    return _sequences(values, None, keys, names, month_days)


def _sequences(
    values: Float32Array,
    labels: IntArray | None,
    keys: list[tuple[datetime, str]],
    features: list[str],
    month_days: int,
) -> SequenceExamples:
    missing = np.isnan(values)
    return SequenceExamples(
        values=np.where(missing, np.float32(0.0), values).astype(np.float32),
        missing=missing,
        labels=labels,
        index=pd.MultiIndex.from_tuples(keys, names=["as_of", "customer_id"]),
        features=tuple(features),
        month_days=month_days,
    )


def snapshot_fingerprint(customers: Iterable[object], labels: Iterable[int]) -> str:
    """A hash of the (customer, label) pairs of one snapshot, whatever their order.

    >>> snapshot_fingerprint(["b", "a"], [0, 1]) == snapshot_fingerprint(["a", "b"], [1, 0])
    True
    """
    lines = sorted(f"{c}\t{int(y)}" for c, y in zip(customers, labels, strict=True))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


__all__ = [
    "SequenceExamples",
    "build_sequences",
    "build_sequences_at",
    "snapshot_fingerprint",
]
