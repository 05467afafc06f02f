"""Complaint surges: weekly counts that grow exponentially rather than stay level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import xlogy

Vector = npt.NDArray[np.float64]

NEWTON_STEPS = 30


@dataclass(frozen=True)
class SurgeFit:
    """Log-linear Poisson fit of recent weekly counts, per customer."""

    z: Vector  # signed sqrt of the likelihood-ratio statistic; > 0 for growth
    growth_per_week: Vector  # exp(slope): 2.0 means doubling every week
    total: Vector  # events in the weeks fitted
    fitted: npt.NDArray[np.bool_]  # False where the minimum count rule was not met


def exponential_surge(counts: npt.ArrayLike, *, min_total: int = 3) -> SurgeFit:
    """Whether each row of weekly counts fits count_t ~ Poisson(exp(a + b t)) better than a level.

    The statistic is the likelihood ratio of the log-linear model against a constant rate
    (one degree of freedom), signed by the slope and square-rooted so it reads as a z score.
    Rows with fewer than `min_total` events are not judged (z = 0).

    >>> fit = exponential_surge([[0, 0, 1, 2, 4, 8], [3, 3, 3, 3, 3, 3]])
    >>> [round(float(v), 1) for v in fit.growth_per_week], [round(float(v), 1) for v in fit.z]
    ([2.3, 1.0], [4.3, 0.0])
    """
    y = np.asarray(counts, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError("counts must be a (customers, weeks) matrix")
    n, m = y.shape
    total = y.sum(axis=1)
    fitted = total >= min_total
    t = np.arange(m, dtype=np.float64) - (m - 1) / 2
    a = np.log(np.maximum(total, 0.5) / m)
    b = np.zeros(n)
    for _ in range(NEWTON_STEPS):
        mu = np.exp(np.clip(a[:, None] + b[:, None] * t, -50, 50))
        r = y - mu
        g_a, g_b = r.sum(axis=1), (r * t).sum(axis=1)
        h_aa, h_ab, h_bb = mu.sum(axis=1), (mu * t).sum(axis=1), (mu * t * t).sum(axis=1)
        det = np.maximum(h_aa * h_bb - h_ab**2, 1e-12)
        step_a = (h_bb * g_a - h_ab * g_b) / det
        step_b = (h_aa * g_b - h_ab * g_a) / det
        a, b = a + np.clip(step_a, -2, 2), b + np.clip(step_b, -2, 2)
    mu1 = np.exp(np.clip(a[:, None] + b[:, None] * t, -50, 50))
    mu0 = np.maximum(total / m, 1e-12)[:, None]
    ll1 = (xlogy(y, mu1) - mu1).sum(axis=1)
    ll0 = (xlogy(y, mu0) - mu0).sum(axis=1)
    lr = np.maximum(2 * (ll1 - ll0), 0.0)
    z = np.where(fitted & (b > 0), np.sqrt(lr), 0.0)
    return SurgeFit(z=z, growth_per_week=np.exp(b), total=total, fitted=fitted)


__all__ = ["SurgeFit", "exponential_surge"]
