"""One scoring code path: a feature frame in, the output contract out, row by row.

`score_features` is pure and row-independent: a customer's row depends on that customer's
features and the model bundle only, never on which other customers are scored with it.
That is what lets `crew score --engine spark` run it inside `mapInPandas` on any split of
the customers and give the same scores as the local engine (see `crew.models.spark`).

Reason sentences place a value against a reference ("higher than 93% of customers"): the
indicator's distribution over the newest training snapshot, stored in the bundle like the
percentile grids of the risk index. A bundle registered before those grids existed falls
back to the customers scored together (the local engine only).
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from crew.indicators.catalog import Catalog, ChangeMethod, IndicatorDef
from crew.models.combining import CombineRule
from crew.models.registry import ModelBundle
from crew.types import Level

COLOURS = {Level.HIGH: "red", Level.MEDIUM: "orange", Level.LOW: "yellow", Level.NONE: "green"}
FloatArray = npt.NDArray[np.float64]
OUTPUT_COLUMNS = (
    "as_of",
    "state",
    "churn_probability",
    "risk_index",
    "level",
    "colour",
    "fuzzy_index",
    "coverage",
    "clv",
    "clv_decline",
    "dimension_scores",
    "reasons",
    "evidence_note",
)


def score_features(
    catalog: Catalog,
    bundle: ModelBundle,
    features: pd.DataFrame,
    as_of: datetime,
    *,
    rule: CombineRule,
    clv: FloatArray | None = None,
    clv_decline: FloatArray | None = None,
) -> pd.DataFrame:
    """The assessment of every row of `features` (index customer_id), OUTPUT_COLUMNS.

    `clv` and `clv_decline` are aligned with `features` (missing: NaN). Columns the model
    reads but `features` lacks count as missing values; `features` is not modified.
    """
    absent = [c for c in bundle.churn.features if c not in features.columns]
    if absent:
        features = features.assign(**dict.fromkeys(absent, np.nan))
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
        dimension_scores = _dimension_dicts(fuzzy.dimension_scores)
    share = rule.fuzzy_share if bundle.fuzzy is not None else 0.0
    fuzzy_rank = bundle.fuzzy_percentile(fuzzy_index)
    fuzzy_part = np.where(np.isnan(fuzzy_rank), probability_index, fuzzy_rank)
    risk_index = np.round((1 - share) * probability_index + share * fuzzy_part, 1)
    notes = _evidence_notes(_column(features, "tenure_days"), coverage, rule)
    levels = _levels(risk_index, notes, rule)
    nan = np.full(n, np.nan)
    clv = nan if clv is None else np.asarray(clv, dtype=float)
    clv_decline = nan if clv_decline is None else np.asarray(clv_decline, dtype=float)
    return pd.DataFrame(
        {
            "as_of": as_of,
            "state": ["scored" if n is None else "insufficient_evidence" for n in notes],
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
                catalog,
                bundle,
                features,
                rule.reasons,
                np.array([lv != Level.NONE for lv in levels]),
            ),
            # object, whatever the batch holds (pandas would infer str only where some are set)
            "evidence_note": pd.Series(notes, index=features.index, dtype=object),
        },
        index=features.index,
    )


_RANKED = list(Level)  # mildest first


def with_signal_levels(
    assessment: pd.DataFrame, warnings: pd.DataFrame, rule: CombineRule
) -> pd.DataFrame:
    """`assessment` (index customer_id) with each customer's level raised to that of its
    highest warning in `warnings` (a run's customer warnings: customer_id, level, reasons),
    whose first reason then comes first; as it is when `rule.signal_floor` is off.

    The combining rule's third part: probability and fuzzy index set the risk index and its
    band, and a signal graded at a higher level in the same run (a fraud pattern, a
    complaint to a regulator) lifts the customer's level to it.
    """
    if not rule.signal_floor or warnings.empty or assessment.empty:
        return assessment
    mine = warnings[warnings["customer_id"].notna()]
    rank = mine["level"].map(lambda v: _RANKED.index(Level(v)))
    top = (
        mine.assign(_rank=rank)
        .sort_values("_rank", kind="stable")
        .drop_duplicates("customer_id", keep="last")
    )
    out = assessment.copy()
    levels, colours, reasons = list(out["level"]), list(out["colour"]), list(out["reasons"])
    position = {c: i for i, c in enumerate(out.index)}
    for customer, level, found in zip(top["customer_id"], top["level"], top["reasons"],
                                      strict=True):  # fmt: skip
        i = position.get(customer)
        if i is None or _RANKED.index(Level(level)) <= _RANKED.index(Level(levels[i])):
            continue
        levels[i], colours[i] = str(level), COLOURS[Level(level)]
        lead = [dict(found[0])] if isinstance(found, list) and found else []
        reasons[i] = [*lead, *list(reasons[i] or [])][: rule.reasons]
    out["level"], out["colour"] = levels, colours
    out["reasons"] = pd.Series(reasons, index=out.index, dtype=object)
    return out


def _dimension_dicts(scores: pd.DataFrame) -> list[dict[str, float | None]]:
    names = [str(c) for c in scores.columns]
    rounded = np.round(scores.to_numpy(dtype=float), 1)
    columns = [
        [None if math.isnan(v) else v for v in rounded[:, j].tolist()] for j in range(len(names))
    ]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _levels(
    risk_index: FloatArray, notes: npt.NDArray[np.object_], rule: CombineRule
) -> list[Level]:
    """`rule.level_for` of each index, NONE where evidence is insufficient (one call per
    distinct index: indices are rounded to 0.1, so there are at most about a thousand)."""
    distinct = {float(v): rule.level_for(float(v)) for v in np.unique(risk_index)}
    nan_level = rule.level_for(math.nan)
    return [
        Level.NONE if note is not None else (nan_level if math.isnan(v) else distinct[v])
        for note, v in zip(notes.tolist(), risk_index.tolist(), strict=True)
    ]


def _column(frame: pd.DataFrame, name: str) -> FloatArray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def _evidence_notes(
    tenure: FloatArray, coverage: FloatArray, rule: CombineRule
) -> npt.NDArray[np.object_]:
    """Why each row has too little evidence to be scored, or None."""
    notes = np.full(len(tenure), None, dtype=object)
    thin = coverage < rule.min_coverage
    for i in np.flatnonzero(thin):
        notes[i] = (
            f"only {coverage[i]:.0%} of the indicator weight observed "
            f"(needs {rule.min_coverage:.0%})"
        )
    young = tenure < rule.min_tenure_days
    for i in np.flatnonzero(young):
        notes[i] = f"relationship only {tenure[i]:.0f} days old (needs {rule.min_tenure_days:.0f})"
    return notes


def reason_reference(bundle: ModelBundle, features: pd.DataFrame) -> dict[str, FloatArray]:
    """Sorted reference values per indicator for "higher than X% of customers".

    The bundle's training grids; for an older bundle without them, the non-missing values
    of the customers in `features`.
    """
    if bundle.indicator_grids is not None:
        return {k: np.asarray(v, dtype=float) for k, v in bundle.indicator_grids.items()}
    reference: dict[str, FloatArray] = {}
    for name in features.columns:
        values = pd.to_numeric(features[name], errors="coerce").to_numpy(dtype=float)
        reference[str(name)] = np.sort(values[~np.isnan(values)])
    return reference


def shares_below(reference: FloatArray, values: FloatArray) -> FloatArray:
    """Share of `reference` strictly below each value (NaN for a missing value).

    >>> shares_below(np.array([0.0, 0.0, 1.0, 3.0]), np.array([0.0, 2.0, np.nan]))
    array([0.  , 0.75,  nan])
    """
    if reference.size == 0:
        return np.full(len(values), np.nan)
    below = np.searchsorted(reference, values, side="left") / reference.size
    return np.where(np.isnan(values), np.nan, below)


def _reasons(
    catalog: Catalog,
    bundle: ModelBundle,
    features: pd.DataFrame,
    top: int,
    wanted: npt.NDArray[np.bool_],
) -> list[list[dict[str, object]]]:
    """Top contributions of the churn model, with a sentence in English and Chinese.

    Contributions (TreeSHAP for LightGBM) cost far more than scores, so they and the
    sentences are computed for the `wanted` rows only (the warned customers); the others
    get an empty list and `crew explain` computes theirs on demand.
    """
    result: list[list[dict[str, object]]] = [[] for _ in range(len(features))]
    if not wanted.any():
        return result
    chosen = features[wanted]
    reference = reason_reference(bundle, features if bundle.indicator_grids is None else chosen)
    contributions = bundle.churn.contributions(chosen)
    indicators = [str(c) for c in contributions.columns if c in catalog.by_id]
    values = chosen[indicators].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    weights = contributions[indicators].to_numpy(dtype=float)
    order = np.argsort(-weights, axis=1)[:, :top]
    shares = {
        j: shares_below(reference.get(name, np.empty(0)), values[:, j])
        for j, name in enumerate(indicators)
    }
    for row, position in enumerate(np.flatnonzero(wanted)):
        reasons: list[dict[str, object]] = []
        for j in order[row]:
            weight = float(weights[row, j])
            if weight <= 0:
                break
            ind = catalog.by_id[indicators[j]]
            value = float(values[row, j])
            en, zh = reason_sentence(ind, value, float(shares[j][row]))
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


__all__ = [
    "COLOURS",
    "OUTPUT_COLUMNS",
    "reason_reference",
    "reason_sentence",
    "score_features",
    "shares_below",
]
