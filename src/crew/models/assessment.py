"""Assessment: one row per customer per `as_of`, the output contract of a risk assessment.

`assess` gathers a customer's features and CLV from the workspace and hands them to
`crew.models.scoring.score_features`, the one scoring code path of both engines.

Combining rule (documented in docs/models.md): the risk index (0-100) is the mean of two
percentiles against the newest training snapshot — of the churn probability and of the
fuzzy comprehensive evaluation index — so 90 means "riskier than about 90% of the
customers the model learned from" on both views together; without a fuzzy evaluator
(snapshot data) it is the probability percentile alone. The level follows bands of the
risk index, so level volumes stay predictable for the response team. A customer
whose relationship is too young or whose indicators are mostly missing gets the state
`insufficient_evidence` and no level, never a silently low score.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from crew.indicators.catalog import Catalog
from crew.models.clv import clv_decline_rate, score_clv
from crew.models.combining import CombineRule
from crew.models.dataset import customer_attributes, features_at
from crew.models.registry import ModelBundle
from crew.models.scoring import COLOURS, reason_sentence, score_features
from crew.types import Industry


def assess(
    conn: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    bundle: ModelBundle,
    as_of: datetime,
    *,
    rule: CombineRule | None = None,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The assessment of every customer at `as_of` (index customer_id).

    `features` (indicators and attributes at `as_of`) saves computing them again when the
    caller already has them; they are not modified.
    """
    rule = rule or CombineRule()
    profile = None if bundle.profile == "all" else Industry(bundle.profile)
    if features is None:
        features = (
            customer_attributes(conn)
            if bundle.snapshot
            else features_at(conn, catalog, as_of, profile)
        )
    clv, clv_decline = clv_columns(conn, bundle, as_of, features.index)
    return score_features(
        catalog, bundle, features, as_of, rule=rule, clv=clv, clv_decline=clv_decline
    )


def clv_columns(
    conn: duckdb.DuckDBPyConnection, bundle: ModelBundle, as_of: datetime, index: pd.Index
) -> tuple[np.ndarray, np.ndarray]:
    """CLV now and its relative change against 90 days earlier (empty without a CLV model)."""
    if bundle.clv is None:
        return np.full(len(index), np.nan), np.full(len(index), np.nan)
    now = score_clv(bundle.clv, conn, as_of).set_index("customer_id")["clv"]
    before = score_clv(bundle.clv, conn, as_of - timedelta(days=90)).set_index("customer_id")["clv"]
    current = now.reindex(index).to_numpy(dtype=float)
    previous = before.reindex(index).to_numpy(dtype=float)
    decline = clv_decline_rate(np.nan_to_num(current), np.nan_to_num(previous))
    return np.round(current, 2), np.where(np.isnan(previous), np.nan, np.round(decline, 4))


def what_moved(
    bundle: ModelBundle,
    catalog: Catalog,
    before: pd.DataFrame,
    after: pd.DataFrame,
    customer: str,
    top: int = 5,
) -> list[dict[str, object]]:
    """The indicators whose change moved one customer's fuzzy index most between two instants.

    `before` and `after` are feature frames (index customer_id) at the two instants; each
    entry gives the indicator's values then and now and how many index points its
    contribution changed by (the contributions sum to the fuzzy index, so the changes sum
    to the index's change).
    """
    if bundle.fuzzy is None or customer not in before.index or customer not in after.index:
        return []
    then_frame = bundle.fuzzy.evaluate(before.loc[[customer]]).contributions
    now_frame = bundle.fuzzy.evaluate(after.loc[[customer]]).contributions
    names = [str(c) for c in now_frame.columns]
    change = np.nan_to_num(now_frame.to_numpy(dtype=float)[0]) - np.nan_to_num(
        then_frame.to_numpy(dtype=float)[0]
    )
    moved: list[dict[str, object]] = []
    for j in np.argsort(-np.abs(change))[:top]:
        if change[j] == 0:
            break
        ind_id = names[j]
        ind = catalog.by_id.get(ind_id)
        moved.append(
            {
                "indicator": ind_id,
                "label_en": ind.label.en if ind else ind_id,
                "label_zh": ind.label.zh if ind else ind_id,
                "before": _plain(before.at[customer, ind_id]),
                "after": _plain(after.at[customer, ind_id]),
                "index_points": round(float(change[j]), 2),
            }
        )
    return moved


def _plain(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


__all__ = ["COLOURS", "assess", "clv_columns", "reason_sentence", "what_moved"]
