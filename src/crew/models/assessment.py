"""Scoring: one row per customer per `as_of`, the output contract of a risk assessment.

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

from crew.indicators.catalog import Catalog, ChangeMethod, IndicatorDef
from crew.models.clv import clv_decline_rate, score_clv
from crew.models.combining import CombineRule
from crew.models.dataset import customer_attributes, features_at
from crew.models.registry import ModelBundle
from crew.types import Industry, Level

COLOURS = {Level.HIGH: "red", Level.MEDIUM: "orange", Level.LOW: "yellow", Level.NONE: "green"}


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
    if features is not None:
        features = features.copy()
    elif bundle.snapshot:
        features = customer_attributes(conn)
    else:
        features = features_at(conn, catalog, as_of, profile)
    for column in bundle.churn.features:
        if column not in features.columns:
            features[column] = np.nan
    n = len(features)
    probability = bundle.churn.predict_proba(features)
    probability_index = bundle.probability_index(probability)
    fuzzy_index = np.full(n, np.nan)
    coverage = np.ones(n)
    dimension_scores: list[dict[str, float | None]] = [{} for _ in range(n)]
    if bundle.fuzzy is not None:
        fuzzy = bundle.fuzzy.evaluate(features)
        fuzzy_index = fuzzy.risk_index.to_numpy(dtype=float)
        coverage = fuzzy.coverage.to_numpy(dtype=float)
        dims = fuzzy.dimension_scores.to_numpy(dtype=float)
        names = [str(c) for c in fuzzy.dimension_scores.columns]
        dimension_scores = [
            {
                k: (None if math.isnan(v) else round(float(v), 1))
                for k, v in zip(names, row, strict=True)
            }
            for row in dims
        ]
    share = rule.fuzzy_share if bundle.fuzzy is not None else 0.0
    fuzzy_rank = bundle.fuzzy_percentile(fuzzy_index)
    fuzzy_part = np.where(np.isnan(fuzzy_rank), probability_index, fuzzy_rank)
    risk_index = np.round((1 - share) * probability_index + share * fuzzy_part, 1)
    tenure = _column(features, "tenure_days")
    notes = [_evidence_note(t, c, rule) for t, c in zip(tenure, coverage, strict=True)]
    levels = [
        Level.NONE if note else rule.level_for(float(index))
        for note, index in zip(notes, risk_index, strict=True)
    ]
    clv, clv_decline = _clv_columns(conn, bundle, as_of, features.index)
    return pd.DataFrame(
        {
            "as_of": as_of,
            "state": ["insufficient_evidence" if note else "scored" for note in notes],
            "churn_probability": probability,
            "risk_index": risk_index,
            "level": [lv.value for lv in levels],
            "colour": [COLOURS[lv] for lv in levels],
            "fuzzy_index": np.round(fuzzy_index, 1),
            "coverage": np.round(coverage, 3),
            "clv": clv,
            "clv_decline": clv_decline,
            "dimension_scores": dimension_scores,
            "reasons": _reasons(
                catalog, bundle, features, rule.reasons, [lv != Level.NONE for lv in levels]
            ),
            "evidence_note": notes,
        },
        index=features.index,
    )


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def _evidence_note(tenure: float, coverage: float, rule: CombineRule) -> str | None:
    if not math.isnan(tenure) and tenure < rule.min_tenure_days:
        return f"relationship only {tenure:.0f} days old (needs {rule.min_tenure_days:.0f})"
    if not math.isnan(coverage) and coverage < rule.min_coverage:
        return (
            f"only {coverage:.0%} of the indicator weight observed (needs {rule.min_coverage:.0%})"
        )
    return None


def _clv_columns(
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


def _reasons(
    catalog: Catalog,
    bundle: ModelBundle,
    features: pd.DataFrame,
    top: int,
    wanted: list[bool] | None = None,
) -> list[list[dict[str, object]]]:
    """Top contributions of the churn model, with a sentence in English and Chinese.

    Contributions (TreeSHAP for LightGBM) cost far more than scores, so they are computed
    for the `wanted` rows only (the warned customers); the others get an empty list and
    `crew explain` computes theirs on demand.
    """
    mask = np.ones(len(features), dtype=bool) if wanted is None else np.asarray(wanted, bool)
    result: list[list[dict[str, object]]] = [[] for _ in range(len(features))]
    if not mask.any():
        return result
    contributions = bundle.churn.contributions(features[mask])
    indicators = [str(c) for c in contributions.columns if c in catalog.by_id]
    numeric = features[indicators].apply(pd.to_numeric, errors="coerce")
    # Share of customers with a strictly lower value ("higher than 97% of customers").
    counts = numeric.notna().sum().to_numpy(dtype=float)
    ranks = ((numeric.rank(method="min").to_numpy(dtype=float) - 1) / counts)[mask]
    values = numeric.to_numpy(dtype=float)[mask]
    weights = contributions[indicators].to_numpy(dtype=float)
    order = np.argsort(-weights, axis=1)[:, :top]
    for row, position in enumerate(np.flatnonzero(mask)):
        reasons: list[dict[str, object]] = []
        for j in order[row]:
            weight = float(weights[row, j])
            if weight <= 0:
                break
            ind = catalog.by_id[indicators[j]]
            value = float(values[row, j])
            en, zh = reason_sentence(ind, value, float(ranks[row, j]))
            reasons.append(
                {
                    "indicator": ind.id,
                    "value": None if math.isnan(value) else value,
                    "contribution": round(weight, 4),
                    "en": en,
                    "zh": zh,
                }
            )
        result[position] = reasons
    return result


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


def reason_sentence(ind: IndicatorDef, value: float, share_below: float) -> tuple[str, str]:
    """A readable reason for one indicator value, in English and Chinese.

    >>> from crew.indicators.catalog import load_catalog
    >>> reason_sentence(load_catalog().get("txn_freq_change"), -0.72, 0.05)[0]
    "Purchase frequency change: fell 72% below this customer's usual level"
    """
    label, zh = ind.label.en, ind.label.zh
    if math.isnan(value):
        return (
            f"{label}: not available, which the model reads as a risk sign",
            f"{zh}：无数据（模型视为风险信号）",
        )
    v = value
    if ind.change is not None and ind.change.method in (
        ChangeMethod.RELATIVE,
        ChangeMethod.SYMMETRIC,
    ):
        if ind.change.method == ChangeMethod.SYMMETRIC:
            v = (2 + v) / (2 - v) - 1 if v < 2 else math.inf  # back to a relative change
        word, zh_word = ("fell", "下降") if v < 0 else ("rose", "上升")
        side = "below" if v < 0 else "above"
        amount = "sharply, from nothing" if math.isinf(v) else f"{abs(v):.0%}"
        zh_amount = "（此前为零）" if math.isinf(v) else f"{abs(v):.0%}"
        return (
            f"{label}: {word} {amount} {side} this customer's usual level",
            f"{zh}：较该客户常态{zh_word}{zh_amount}",
        )
    if ind.change is not None and ind.change.method == ChangeMethod.SMOOTHED:
        return (
            f"{label}: {v + 1:.1f}x this customer's usual rate",
            f"{zh}：为该客户常态的{v + 1:.1f}倍",
        )
    if ind.unit == "flag":
        return (f"{label}: {'yes' if v >= 0.5 else 'no'}", f"{zh}：{'是' if v >= 0.5 else '否'}")
    if ind.unit in ("share", "share points"):
        shown = f"{v:.0%}"
    elif abs(v) >= 100 or v.is_integer():
        shown = f"{v:,.0f}"
    else:
        shown = f"{v:,.2f}"
    unit_en, unit_zh = _UNITS.get(ind.unit, ("", ""))
    shown_en, shown_zh = shown + unit_en, shown + unit_zh
    if math.isnan(share_below):
        return f"{label}: {shown_en}", f"{zh}：{shown_zh}"
    if share_below >= 0.5:
        # Rounded down: 99.9% of customers below is "higher than 99%", never "than 100%".
        pct = f"{math.floor(share_below * 100)}%"
        return (
            f"{label}: {shown_en}, higher than {pct} of customers",
            f"{zh}：{shown_zh}，高于{pct}的客户",
        )
    above = f"{math.floor((1 - share_below) * 100)}%"
    return (
        f"{label}: {shown_en}, lower than most customers ({above} are at or above it)",
        f"{zh}：{shown_zh}，{above}的客户不低于此值",
    )


_UNITS = {
    "days": (" days", "天"),
    "hours": (" hours", "小时"),
    "points": (" points", "分"),
    "points per 30 days": (" points per 30 days", "分/30天"),
}


__all__ = ["COLOURS", "assess", "reason_sentence", "what_moved"]
