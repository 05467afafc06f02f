"""Change against the customer's own baseline: robust z, Poisson surprise, EWMA and CUSUM.

Every detector takes a (customers, weeks) matrix whose last `recent` weeks are compared with
the weeks before them (the baseline), and returns one score per customer, higher = riskier,
in standard-normal units, with NaN where the minimum history rule is not met.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri, xlogy
from scipy.stats import poisson

Matrix = npt.NDArray[np.floating]
Vector = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

MAD_TO_SIGMA = 1.4826
"""Scale of the median absolute deviation to a normal standard deviation."""


@dataclass(frozen=True)
class Baseline:
    """Per-customer summary of the baseline weeks and of the recent weeks."""

    mean: Vector  # weekly mean over observed baseline weeks
    median: Vector
    sigma: Vector  # robust weekly standard deviation (MAD based, with a floor)
    weeks: Vector  # observed baseline weeks
    total: Vector  # sum over the baseline weeks
    recent_mean: Vector
    recent_total: Vector
    recent: int

    def has_history(self, *, min_weeks: int, min_total: float) -> Mask:
        """Customers whose baseline is long and busy enough to judge a change."""
        return (self.weeks >= min_weeks) & (self.total >= min_total)


def baseline_of(values: Matrix, observed: Mask, recent: int, *, counts: bool) -> Baseline:
    """Summaries of the baseline (all weeks but the last `recent`) and of the recent weeks.

    For counts the robust sigma is floored at the Poisson one (sqrt of the mean): a customer
    buying twice a month has a weekly median of 0 and a MAD of 0, not a zero spread.

    >>> b = baseline_of(np.array([[2.0, 2, 2, 2, 0, 0]]), np.ones((1, 6), bool), 2, counts=True)
    >>> float(b.mean[0]), float(b.sigma[0]), float(b.recent_mean[0])
    (2.0, 1.4142135623730951, 0.0)
    """
    x = np.asarray(values, dtype=np.float64)
    base = np.where(observed[:, :-recent], x[:, :-recent], np.nan)
    weeks = np.sum(observed[:, :-recent], axis=1).astype(np.float64)
    with warnings.catch_warnings():
        # Customers with no baseline weeks give all-NaN rows on purpose.
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(base, axis=1)
        median = np.nanmedian(base, axis=1)
        mad = np.nanmedian(np.abs(base - median[:, None]), axis=1)
    sigma = MAD_TO_SIGMA * mad
    floor = np.sqrt(np.maximum(mean, 0.0)) if counts else 0.25 * np.abs(mean)
    sigma = np.fmax(np.fmax(sigma, floor), 1e-9)
    tail = x[:, -recent:]
    return Baseline(
        mean=np.nan_to_num(mean),
        median=np.nan_to_num(median),
        sigma=sigma,
        weeks=weeks,
        total=np.nansum(base, axis=1),
        recent_mean=tail.mean(axis=1),
        recent_total=tail.sum(axis=1),
        recent=recent,
    )


def robust_z(b: Baseline) -> Vector:
    """Drop of the recent weekly mean below the baseline median, in robust sigmas of a mean.

    >>> b = baseline_of(np.array([[5.0, 5, 6, 4, 1, 1]]), np.ones((1, 6), bool), 2, counts=True)
    >>> round(float(robust_z(b)[0]), 2)
    2.53
    """
    return np.asarray((b.median - b.recent_mean) / (b.sigma / np.sqrt(b.recent)), dtype=np.float64)


def poisson_drop_z(b: Baseline) -> Vector:
    """Surprise of so few events in the recent weeks if the baseline rate had held.

    The lower-tail Poisson probability of the recent count under the baseline rate, as a
    standard-normal quantile: about 0 when nothing changed, 3 for a one-in-740 shortfall.

    >>> b = baseline_of(np.array([[3.0, 3, 3, 3, 0, 0]]), np.ones((1, 6), bool), 2, counts=True)
    >>> round(float(poisson_drop_z(b)[0]), 2)
    2.81
    """
    expected = b.mean * b.recent
    p = poisson.cdf(b.recent_total, np.maximum(expected, 1e-12))
    return np.asarray(-ndtri(np.clip(p, 1e-300, 1.0)), dtype=np.float64)


def poisson_spike_z(b: Baseline) -> Vector:
    """Surprise of so many events in the recent weeks if the baseline rate had held."""
    expected = b.mean * b.recent
    p = poisson.sf(b.recent_total - 1, np.maximum(expected, 1e-12))
    return np.asarray(-ndtri(np.clip(p, 1e-300, 1.0)), dtype=np.float64)


def cusum_drop(values: Matrix, b: Baseline, *, slack: float = 0.5, span: int = 12) -> Vector:
    """One-sided lower CUSUM over the last `span` weeks, standardised by the baseline.

    S_t = max(0, S_{t-1} + (mean - x_t) / sigma - slack); the value at the last week. A slow
    decline that no single week shows adds up here.

    >>> x = np.array([[4.0] * 8 + [3, 2, 1, 0]])
    >>> b = baseline_of(x, np.ones((1, 12), bool), 4, counts=True)
    >>> round(float(cusum_drop(x, b, span=4)[0]), 2)
    3.0
    """
    x = np.asarray(values, dtype=np.float64)[:, -span:]
    u = (b.mean[:, None] - x) / b.sigma[:, None] - slack
    s = np.zeros(len(x))
    for t in range(x.shape[1]):
        s = np.maximum(0.0, s + u[:, t])
    return s


def ewma_drop(values: Matrix, b: Baseline, *, weight: float = 0.3, span: int = 12) -> Vector:
    """EWMA of the last `span` weeks below the baseline mean, in units of its own sigma.

    >>> x = np.array([[4.0] * 8 + [4, 4, 4, 4]])
    >>> b = baseline_of(x, np.ones((1, 12), bool), 4, counts=True)
    >>> float(ewma_drop(x, b, span=4)[0])
    0.0
    """
    x = np.asarray(values, dtype=np.float64)[:, -span:]
    z = b.mean.copy()
    for t in range(x.shape[1]):
        z = weight * x[:, t] + (1 - weight) * z
    sigma_ewma = b.sigma * np.sqrt(weight / (2 - weight))
    return np.asarray((b.mean - z) / sigma_ewma, dtype=np.float64)


@dataclass(frozen=True)
class StepDrop:
    """The most likely recent step down in a count series, per customer."""

    z: Vector  # sqrt of the likelihood-ratio statistic of the best split; 0 without a drop
    weeks_since: Vector  # weeks after the split (the "recent" part)
    rate_before: Vector  # weekly rate before the split
    rate_after: Vector  # weekly rate after it


def step_drop(
    values: Matrix,
    observed: Mask,
    *,
    exposure: Matrix | None = None,
    min_recent: int = 3,
    max_recent: int = 16,
) -> StepDrop:
    """Generalised likelihood ratio for a drop of a Poisson rate at an unknown recent week.

    For every split with `min_recent` to `max_recent` weeks after it, the counts before and
    after are compared (two Poisson rates against one); the best split wins. Unlike a fixed
    recent window, it finds both a sudden drop last month and a slide that began in spring.
    Weeks before the customer signed up are left out of the "before" part. Customers whose
    weekly counts vary more than a Poisson count would (bursty buyers) have the statistic
    divided by their dispersion (variance over mean of the earlier weeks, at least 1), the
    quasi-likelihood correction: their ordinary lulls are not drops. `exposure`
    (customers x weeks, mean about 1) says how busy each week is expected to be, e.g. the
    segment's seasonal index: a quiet August or a segment-wide shock is then not a drop.

    >>> x = np.array([[3.0] * 10 + [0.0] * 4, [3.0] * 14])
    >>> d = step_drop(x, np.ones((2, 14), bool))
    >>> [round(float(v), 1) for v in d.z], [int(v) for v in d.weeks_since]
    ([4.5, 0.0], [4, 0])
    """
    x = np.where(observed, np.asarray(values, dtype=np.float64), 0.0)
    n_weeks = x.shape[1]
    e = np.ones_like(x) if exposure is None else np.asarray(exposure, dtype=np.float64)
    e = np.where(observed, np.maximum(e, 1e-6), 0.0)
    seen = e.sum(axis=1)
    # Measured on the older weeks only: a fade in progress must not pass for a bursty habit.
    dispersion = _dispersion(x, observed, min(max_recent, n_weeks - 4))
    tail = np.cumsum(x[:, ::-1], axis=1)  # tail[:, k-1] = events in the last k weeks
    tail_e = np.cumsum(e[:, ::-1], axis=1)  # expected-busyness of the last k weeks
    total = tail[:, -1]
    best = np.zeros(len(x))
    since = np.zeros(len(x))
    before_rate = np.zeros(len(x))
    after_rate = np.zeros(len(x))
    for k in range(min_recent, min(max_recent, n_weeks - 2) + 1):
        b, wb = tail[:, k - 1], np.maximum(tail_e[:, k - 1], 1e-6)
        a = total - b
        weeks_a = seen - wb
        ok = weeks_a >= 2
        wa = np.where(ok, weeks_a, 1.0)
        lam = (a + b) / (wa + wb)
        lr = 2 * (xlogy(a, a / wa) + xlogy(b, b / wb) - xlogy(a + b, lam))
        z = np.where(ok & (b / wb < a / wa), np.sqrt(np.maximum(lr, 0.0) / dispersion), 0.0)
        better = z > best
        best = np.where(better, z, best)
        since = np.where(better, k, since)
        before_rate = np.where(better, a / wa, before_rate)
        after_rate = np.where(better, b / wb, after_rate)
    return StepDrop(best, since, before_rate, after_rate)


def _dispersion(x: npt.NDArray[np.float64], observed: Mask, recent: int) -> Vector:
    """Variance over mean of each customer's weekly counts before the last `recent` weeks.

    >>> _dispersion(np.array([[0.0, 4, 0, 4, 1], [2.0, 2, 2, 2, 1]]), np.ones((2, 5), bool), 1)
    array([2.66666667, 1.        ])
    """
    base = np.where(observed[:, :-recent], x[:, :-recent], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(base, axis=1)
        var = np.nanvar(base, axis=1, ddof=1)
    ratio = np.where(mean > 0, var / np.where(mean > 0, mean, 1.0), 1.0)
    return np.asarray(np.fmax(np.nan_to_num(ratio, nan=1.0), 1.0), dtype=np.float64)


__all__ = [
    "Baseline",
    "StepDrop",
    "baseline_of",
    "cusum_drop",
    "ewma_drop",
    "poisson_drop_z",
    "poisson_spike_z",
    "robust_z",
    "step_drop",
]
