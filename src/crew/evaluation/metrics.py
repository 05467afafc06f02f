"""Ranking, calibration and timeliness figures of one score against 0/1 outcomes.

Builds on `crew.models.metrics` (KS, reliability bins) and scikit-learn (curves, AUC, Brier);
every function takes plain arrays and returns JSON-ready data for the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import numpy.typing as npt
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from crew.models.metrics import ks_statistic, reliability

Row = dict[str, float | int | None]


def _arrays(labels: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(labels, dtype=int), np.asarray(scores, dtype=float)


def _thin(x: np.ndarray, y: np.ndarray, max_points: int) -> list[list[float]]:
    """At most `max_points` points of a curve, always keeping both ends."""
    keep = np.unique(np.linspace(0, len(x) - 1, min(len(x), max_points)).round().astype(int))
    return [[round(float(x[i]), 5), round(float(y[i]), 5)] for i in keep]


def roc_points(
    labels: npt.ArrayLike, scores: npt.ArrayLike, max_points: int = 200
) -> list[list[float]]:
    """(false positive rate, true positive rate) along the ROC curve, for plotting."""
    fpr, tpr, _ = roc_curve(*_arrays(labels, scores))
    return _thin(fpr, tpr, max_points)


def pr_points(
    labels: npt.ArrayLike, scores: npt.ArrayLike, max_points: int = 200
) -> list[list[float]]:
    """(recall, precision) along the precision-recall curve, for plotting."""
    precision, recall, _ = precision_recall_curve(*_arrays(labels, scores))
    return _thin(recall[::-1], precision[::-1], max_points)


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Area under the ROC curve (scikit-learn); NaN unless both outcomes occur.

    >>> roc_auc([0, 1, 0, 1], [0.1, 0.9, 0.4, 0.3])
    0.75
    >>> roc_auc([0, 0], [0.1, 0.9])
    nan
    """
    y, s = _arrays(labels, scores)
    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else math.nan


def pr_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Average precision (scikit-learn's area under the PR curve); NaN without outcomes.

    >>> round(pr_auc([0, 1, 0, 1], [0.1, 0.9, 0.4, 0.3]), 4)  # (1/1 + 2/3) / 2
    0.8333
    """
    y, s = _arrays(labels, scores)
    return float(average_precision_score(y, s)) if y.sum() > 0 else math.nan


def ks_curve(labels: npt.ArrayLike, scores: npt.ArrayLike, points: int = 50) -> dict[str, object]:
    """KS with where it is reached: cumulative shares of outcomes and non-outcomes by rank.

    >>> ks_curve([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], points=4)["ks"]
    0.5
    """
    y, s = _arrays(labels, scores)
    order = np.argsort(-s, kind="stable")
    yy = y[order]
    positives = np.cumsum(yy) / max(int(yy.sum()), 1)
    negatives = np.cumsum(1 - yy) / max(int((1 - yy).sum()), 1)
    gap = positives - negatives
    at = int(np.argmax(np.abs(gap)))
    share = np.arange(1, len(y) + 1) / len(y)
    keep = np.unique(np.linspace(0, len(y) - 1, min(len(y), points)).round().astype(int))
    return {
        "ks": ks_statistic(y, s),
        "at_share": float(share[at]),
        "at_score": float(s[order][at]),
        "points": [[0.0, 0.0, 0.0]]
        + [[float(share[i]), float(positives[i]), float(negatives[i])] for i in keep],
    }


def decile_table(labels: npt.ArrayLike, scores: npt.ArrayLike, bins: int = 10) -> list[Row]:
    """Per decile of the score, riskiest first: count, outcomes, rate, lift, cumulative capture.

    Ties are broken by position (stable sort on the negated score), so the table is
    deterministic. `cumulative_capture` is the gains curve; `cumulative_lift` its lift.

    >>> [r["positives"] for r in decile_table([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], bins=2)]
    [2, 0]
    """
    y, s = _arrays(labels, scores)
    total, base = int(y.sum()), float(y.mean()) if len(y) else 0.0
    order = np.argsort(-s, kind="stable")
    rows: list[Row] = []
    seen = positives_so_far = 0
    for chunk in np.array_split(order, bins):
        if not len(chunk):
            continue
        hits = int(y[chunk].sum())
        seen += len(chunk)
        positives_so_far += hits
        rate = hits / len(chunk)
        rows.append(
            {
                "count": len(chunk),
                "positives": hits,
                "rate": rate,
                "min_score": float(s[chunk].min()),
                "lift": rate / base if base > 0 else None,
                "cumulative_capture": positives_so_far / total if total else None,
                "cumulative_lift": (positives_so_far / seen) / base if base > 0 else None,
            }
        )
    return rows


def precision_recall_at_k(
    labels: npt.ArrayLike, scores: npt.ArrayLike, ks: Sequence[int]
) -> list[Row]:
    """Precision and recall among the `k` highest scores, for each k.

    >>> [r["precision"] for r in precision_recall_at_k([1, 0, 1, 0], [4, 3, 2, 1], [1, 2, 4])]
    [1.0, 0.5, 0.5]
    """
    y, s = _arrays(labels, scores)
    ranked = y[np.argsort(-s, kind="stable")]
    total = int(y.sum())
    out: list[Row] = []
    for k in ks:
        hits = int(ranked[:k].sum())
        out.append({"k": int(k), "precision": hits / k if k else None,
                    "recall": hits / total if total else None})  # fmt: skip
    return out


def calibration(
    labels: npt.ArrayLike, probabilities: npt.ArrayLike, bins: int = 10
) -> dict[str, object]:
    """Brier (and the base rate's), reliability bins, expected calibration error, largest gap.

    ECE = sum over equal-count bins of (n_b / N) * |mean predicted_b - observed rate_b|.
    """
    y, p = _arrays(labels, probabilities)
    table = reliability(y, p, bins)
    n = max(len(y), 1)
    gaps = [abs(pred - obs) for pred, obs, _ in table]
    return {
        "brier": float(brier_score_loss(y, p)),
        "brier_base_rate": float(brier_score_loss(y, np.full_like(p, y.mean()))),
        "ece": float(sum(c / n * g for (_, _, c), g in zip(table, gaps, strict=True))),
        "max_gap": float(max(gaps)) if gaps else None,
        "bins": [{"predicted": pred, "observed": obs, "count": c} for pred, obs, c in table],
    }


def level_confusion(levels: Sequence[str], labels: npt.ArrayLike) -> dict[str, object]:
    """Per warning level: count, outcomes, precision, and recall at that level or above.

    >>> rows = level_confusion(["high", "low", "none", "none"], [1, 1, 1, 0])["levels"]
    >>> [(r["level"], r["positives"], round(r["recall_at_or_above"], 2)) for r in rows][:3]
    [('high', 1, 0.33), ('medium', 0, 0.33), ('low', 1, 0.67)]
    """
    y = np.asarray(labels, dtype=int)
    named = np.asarray(levels, dtype=object)
    total = int(y.sum())
    rows: list[dict[str, object]] = []
    caught = 0
    for level in ("high", "medium", "low", "none"):
        mine = named == level
        hits = int(y[mine].sum())
        caught += hits
        rows.append(
            {
                "level": level,
                "count": int(mine.sum()),
                "positives": hits,
                "precision": hits / int(mine.sum()) if mine.any() else None,
                "recall_at_or_above": caught / total if total else None,
            }
        )
    return {"levels": rows, "positives": total, "n": len(y)}


def lead_time_summary(lead_days: npt.ArrayLike, bin_days: int = 7) -> dict[str, object]:
    """Count, median, quartiles and mean of lead times, with a histogram in `bin_days` bins.

    >>> s = lead_time_summary([3, 10, 17])
    >>> s["median"], s["histogram"]["counts"]
    (10.0, [1, 1, 1])
    """
    lead = np.asarray(lead_days, dtype=float)
    lead = lead[~np.isnan(lead)]
    if not len(lead):
        return {"count": 0, "median": None, "p25": None, "p75": None, "mean": None,
                "histogram": {"edges": [], "counts": []}}  # fmt: skip
    top = bin_days * max(int(np.ceil(lead.max() / bin_days)), 1)
    counts, edges = np.histogram(lead, bins=np.arange(0, top + bin_days, bin_days))
    p25, median, p75 = np.percentile(lead, [25, 50, 75])
    return {
        "count": len(lead),
        "median": float(median),
        "p25": float(p25),
        "p75": float(p75),
        "mean": float(lead.mean()),
        "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
    }


@dataclass(frozen=True)
class ScoreReport:
    """Every figure of one score against 0/1 outcomes; NaN or None where it is undefined.

    Ranking figures (AUC, KS, curves, deciles, top-k) need both outcomes and at least two
    distinct scores; otherwise they are NaN, None or empty. Calibration is only for
    probabilities. Rows whose score is NaN are left out and counted in `missing`.
    """

    n: int
    missing: int
    positives: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    ks: float
    ks_at_share: float
    ks_at_score: float
    top_decile_lift: float
    top_decile_capture: float
    roc: list[list[float]] | None
    pr: list[list[float]] | None
    deciles: list[Row]
    at_k: list[Row]
    calibration: dict[str, object] | None

    @property
    def rankable(self) -> bool:
        """Whether the ranking figures are defined (both outcomes, two distinct scores)."""
        return self.roc is not None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: NaN becomes None (so `json.dumps(..., allow_nan=False)` works)."""
        clean = _without_nan(asdict(self))
        assert isinstance(clean, dict)
        return clean


def score_report(
    labels: npt.ArrayLike,
    scores: npt.ArrayLike,
    *,
    is_probability: bool,
    at_k: Sequence[int] | None = None,
) -> ScoreReport:
    """Discrimination, ranking and (for probabilities) calibration of one score; never raises.

    `at_k` defaults to the top 1%, 5%, 10% and 20% of the scored rows.

    >>> r = score_report([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], is_probability=True)
    >>> r.roc_auc, r.ks, r.calibration is not None
    (1.0, 1.0, True)
    >>> score_report([0, 0, 0], [0.1, 0.2, 0.3], is_probability=False).roc_auc
    nan
    """
    y, s = _arrays(labels, scores)
    known = ~np.isnan(s)
    y, s = y[known], s[known]
    n, positives = len(y), int(y.sum())
    nan = math.nan
    report = ScoreReport(
        n=n,
        missing=int((~known).sum()),
        positives=positives,
        base_rate=positives / n if n else nan,
        roc_auc=nan,
        pr_auc=nan,
        ks=nan,
        ks_at_share=nan,
        ks_at_score=nan,
        top_decile_lift=nan,
        top_decile_capture=nan,
        roc=None,
        pr=None,
        deciles=[],
        at_k=[],
        calibration=calibration(y, s) if is_probability and n else None,
    )
    if not (0 < positives < n and len(np.unique(s)) >= 2):
        return report
    ks = ks_curve(y, s)
    deciles = decile_table(y, s)
    if at_k is None:
        at_k = sorted({max(round(n * share), 1) for share in (0.01, 0.05, 0.1, 0.2)})
    return replace(
        report,
        roc_auc=roc_auc(y, s),
        pr_auc=pr_auc(y, s),
        ks=_number(ks["ks"]),
        ks_at_share=_number(ks["at_share"]),
        ks_at_score=_number(ks["at_score"]),
        top_decile_lift=_number(deciles[0]["lift"]),
        top_decile_capture=_number(deciles[0]["cumulative_capture"]),
        roc=roc_points(y, s),
        pr=pr_points(y, s),
        deciles=deciles,
        at_k=precision_recall_at_k(y, s, at_k),
    )


def _number(value: object) -> float:
    """A figure from one of the JSON-ready rows above as a float; None becomes NaN."""
    if value is None:
        return math.nan
    assert isinstance(value, int | float)
    return float(value)


def _without_nan(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nan(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


__all__ = [
    "ScoreReport",
    "calibration",
    "decile_table",
    "ks_curve",
    "lead_time_summary",
    "level_confusion",
    "pr_auc",
    "pr_points",
    "precision_recall_at_k",
    "roc_auc",
    "roc_points",
    "score_report",
]
