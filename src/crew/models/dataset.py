"""Training examples: indicator snapshots at several past instants, each with its label.

Rolling snapshots: the latest instant is `as_of - horizon`, so its label window ends at
`as_of` and nothing after `as_of` is ever read; earlier ones step back `step_days` at a
time. A customer appears once per snapshot at which they were at risk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from crew.errors import CrewError
from crew.indicators._compile import compile_indicators
from crew.indicators.catalog import Catalog
from crew.indicators.engines import run_duckdb
from crew.models.labels import ChurnDefinition, churn_labels
from crew.types import Industry

CATEGORICAL = ("segment", "tier", "region")


@dataclass(frozen=True)
class Examples:
    """Feature rows with labels; the index is (as_of, customer_id)."""

    features: pd.DataFrame
    labels: pd.Series
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    horizon_days: int = 0  # label window length: splits keep label windows apart

    @property
    def snapshots(self) -> list[datetime]:
        """The instants of the examples, oldest first."""
        return sorted(set(self.features.index.get_level_values("as_of")))


def snapshot_instants(
    as_of: datetime, horizon_days: int, count: int, step_days: int
) -> list[datetime]:
    """Snapshot instants, oldest first, the newest at `as_of - horizon`.

    >>> from datetime import UTC
    >>> days = snapshot_instants(datetime(2025, 6, 30, tzinfo=UTC), 90, 3, 30)
    >>> [d.date().isoformat() for d in days]
    ['2025-01-31', '2025-03-02', '2025-04-01']
    """
    newest = as_of - timedelta(days=horizon_days)
    return [newest - timedelta(days=step_days * k) for k in reversed(range(count))]


def features_at(
    conn: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    as_of: datetime,
    profile: Industry | None = None,
) -> pd.DataFrame:
    """Indicators plus customer attributes at `as_of`, indexed by customer_id."""
    values: pd.DataFrame = run_duckdb(conn, compile_indicators(catalog, as_of, profile)).to_pandas()
    joined: pd.DataFrame = values.set_index("customer_id").join(customer_attributes(conn))
    return joined


def customer_attributes(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Segment, tier, region and the imported extra attributes (wide), by customer_id."""
    base: pd.DataFrame = (
        conn.sql(f"SELECT customer_id, {', '.join(CATEGORICAL)} FROM customers")
        .df()
        .set_index("customer_id")
    )
    kinds = dict(
        conn.execute("SELECT attribute, dtype FROM attribute_catalog WHERE NOT pii").fetchall()
    )
    if not kinds:
        return base
    long = conn.sql(
        "SELECT customer_id, attribute, value_num, value_text FROM customer_attributes "
        "WHERE attribute IN (SELECT attribute FROM attribute_catalog WHERE NOT pii)"
    ).df()
    numeric = long[long["attribute"].map(kinds) == "numeric"].pivot(
        index="customer_id", columns="attribute", values="value_num"
    )
    text = long[long["attribute"].map(kinds) != "numeric"].pivot(
        index="customer_id", columns="attribute", values="value_text"
    )
    wide: pd.DataFrame = base.join(numeric.add_prefix("attr_"), how="left").join(
        text.add_prefix("attr_"), how="left"
    )
    return wide


def build_examples(
    conn: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    as_of: datetime,
    horizon_days: int,
    *,
    snapshots: int = 6,
    step_days: int = 30,
    profile: Industry | None = None,
    definition: ChurnDefinition = ChurnDefinition.OUTCOME,
) -> Examples:
    """Examples from `snapshots` rolling instants before `as_of` (labels end by `as_of`)."""
    frames = []
    for instant in snapshot_instants(as_of, horizon_days, snapshots, step_days):
        labels = churn_labels(conn, instant, horizon_days, definition)
        feats = features_at(conn, catalog, instant, profile)
        frame = feats.join(labels, how="inner")
        frame.insert(0, "as_of", instant)
        frames.append(frame.reset_index())
    data = pd.concat(frames, ignore_index=True).set_index(["as_of", "customer_id"])
    if data.empty or data["label"].nunique() < 2:
        raise CrewError(
            f"No usable training examples before {as_of:%Y-%m-%d}: "
            f"{len(data)} rows, {int(data['label'].sum()) if len(data) else 0} churners.",
            hint="Train at a later --as-of, with a shorter --horizon, or check the outcomes "
            "table ('crew status').",
        )
    return replace(_examples(data), horizon_days=horizon_days)


def build_snapshot_examples(conn: duckdb.DuckDBPyConnection, outcome: str = "churn") -> Examples:
    """Examples of a snapshot data set: attributes only, label = has a `churn` outcome."""
    attrs = customer_attributes(conn)
    churned = {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT customer_id FROM outcomes WHERE kind = ?", [outcome]
        ).fetchall()
    }
    data = attrs.copy()
    data["label"] = [int(c in churned) for c in data.index]
    data.insert(0, "as_of", pd.Series([pd.NaT] * len(data), index=data.index))
    data = data.reset_index().set_index(["as_of", "customer_id"])
    if data["label"].nunique() < 2:
        raise CrewError(
            "The snapshot has only one class of label.",
            hint="Check the mapping's label.yes / label.no values.",
        )
    return _examples(data)


def _examples(data: pd.DataFrame) -> Examples:
    labels = data.pop("label").astype(int)
    categorical = tuple(
        c
        for c in data.columns
        if data[c].dtype == object or str(data[c].dtype) in ("string", "str")
    )
    numeric = tuple(c for c in data.columns if c not in categorical)
    empty = [c for c in data.columns if data[c].isna().all()]
    data = data.drop(columns=empty)
    return Examples(
        features=data,
        labels=labels,
        numeric=tuple(c for c in numeric if c not in empty),
        categorical=tuple(c for c in categorical if c not in empty),
    )


__all__ = [
    "Examples",
    "build_examples",
    "build_snapshot_examples",
    "customer_attributes",
    "features_at",
    "snapshot_instants",
]
