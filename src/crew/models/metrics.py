"""Discrimination and calibration figures for a probability score."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ScoreMetrics:
    """How well a probability separates and matches the outcomes."""

    n: int
    positives: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    ks: float
    brier: float
    brier_base_rate: float
    top_decile_lift: float
    max_calibration_gap: float

    def as_dict(self) -> dict[str, float]:
        """Plain numbers, for JSON and the registry."""
        return {k: float(v) for k, v in asdict(self).items()}


def ks_statistic(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Largest gap between the score distributions of positives and negatives.

    >>> ks_statistic([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    1.0
    """
    y, s = np.asarray(labels), np.asarray(scores, dtype=float)
    order = np.argsort(-s, kind="stable")
    y = y[order]
    tpr = np.cumsum(y) / max(y.sum(), 1)
    fpr = np.cumsum(1 - y) / max((1 - y).sum(), 1)
    return float(np.max(np.abs(tpr - fpr)))


def top_decile_lift(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Outcome rate among the 10% highest scores over the overall rate.

    >>> top_decile_lift([1] + [0] * 9 + [0] * 10, [0.9] + [0.1] * 19)
    10.0
    """
    y, s = np.asarray(labels, dtype=float), np.asarray(scores, dtype=float)
    k = max(round(len(y) * 0.1), 1)
    top = np.argsort(-s, kind="stable")[:k]
    base = y.mean()
    return float(y[top].mean() / base) if base > 0 else float("nan")


def reliability(
    labels: npt.ArrayLike, scores: npt.ArrayLike, bins: int = 10
) -> list[tuple[float, float, int]]:
    """(mean predicted, observed rate, count) per equal-count bin of the score."""
    y, s = np.asarray(labels, dtype=float), np.asarray(scores, dtype=float)
    order = np.argsort(s, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            out.append((float(s[chunk].mean()), float(y[chunk].mean()), len(chunk)))
    return out


def score_metrics(labels: npt.ArrayLike, scores: npt.ArrayLike) -> ScoreMetrics:
    """Every figure at once; labels are 0/1, scores are probabilities."""
    y, s = np.asarray(labels, dtype=int), np.asarray(scores, dtype=float)
    base = float(y.mean())
    gaps = [abs(p - o) for p, o, _ in reliability(y, s)]
    return ScoreMetrics(
        n=len(y),
        positives=int(y.sum()),
        base_rate=base,
        roc_auc=float(roc_auc_score(y, s)),
        pr_auc=float(average_precision_score(y, s)),
        ks=ks_statistic(y, s),
        brier=float(brier_score_loss(y, s)),
        brier_base_rate=float(brier_score_loss(y, np.full_like(s, base))),
        top_decile_lift=top_decile_lift(y, s),
        max_calibration_gap=float(max(gaps)) if gaps else float("nan"),
    )


__all__ = ["ScoreMetrics", "ks_statistic", "reliability", "score_metrics", "top_decile_lift"]
