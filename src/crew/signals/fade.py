"""A relationship fading away: evidence that a count series decays from the customer's baseline.

A customer drifting off rarely stops at once: purchases, logins and contacts thin out week
after week, at a pace of its own. `fade_evidence` weighs every way this could have happened
in the recent weeks — a decay starting 3 to 16 weeks ago, at one of a few speeds — against
"nothing changed", and averages their likelihood ratios (a Bayes factor with a uniform prior
over onset and speed) instead of keeping the best one. Averaging pays little for trying many
onsets and speeds, so an ordinary lull, which fits one or two of them by chance, scores lower
than a fade that fits many; that is what lets a lower limit catch more without more false alarms.

Model, per customer, weeks w = 0..W-1 with counts x_w and expected busyness e_w (1 = an
ordinary week; the segment's seasonal index): before the onset s the weekly rate is λ, after
it λ · exp(-β (w - s + 1)). With λ at its maximum-likelihood value, the log-likelihood ratio
against a constant rate is

    ℓ(s, β) = -β Σ_{w≥s} x_w (w - s + 1) + X · ln(Σ_w e_w / Σ_w e_w g_w)

where X = Σ x_w and g_w is the decay factor (1 before s). The score is √(2 ln B), B the mean
of exp(ℓ / φ) over all onsets and speeds (0 when B ≤ 1), φ the over-dispersion of the counts.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import xlogy

Matrix = npt.NDArray[np.floating]
Vector = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

SPEEDS = (0.05, 0.1, 0.2, 0.35, 0.6)
"""Decay rates β per week tried: a rate halves in about 14, 7, 3.5, 2 and 1.2 weeks."""


@dataclass(frozen=True)
class FadeEvidence:
    """Per customer: the averaged evidence of a fade and the single best-fitting fade."""

    z: Vector  # sqrt(2 ln B): 0 when the data favour no change
    weeks_since: Vector  # onset of the best-fitting fade, in weeks before as_of
    speed: Vector  # its decay per week (β)
    rate_before: Vector  # weekly rate before the onset (busyness-adjusted)
    rate_now: Vector  # the fitted weekly rate of the last week


def fade_evidence(
    values: Matrix,
    observed: Mask,
    *,
    exposure: Matrix | None = None,
    min_recent: int = 3,
    max_recent: int = 16,
    speeds: tuple[float, ...] = SPEEDS,
    min_drop: float = 0.5,
    dispersion: float = 1.0,
) -> FadeEvidence:
    """Bayes factor of an exponential fade at an unknown recent onset and speed, per customer.

    The average runs over every onset and speed tried; fades whose fitted rate in the last
    week keeps more than `1 - min_drop` of the baseline, and onsets leaving under two ordinary
    weeks before them, add nothing to it (a customer with a short history needs more
    evidence). Weeks before the customer signed up are left out; `exposure` (customers x
    weeks, mean about 1) says how busy each week is expected to be. `dispersion` divides every
    log-likelihood ratio (quasi-likelihood for counts more variable than Poisson).

    >>> x = np.array([[4.0] * 10 + [3, 2, 1, 1, 0, 0], [4.0] * 16])
    >>> f = fade_evidence(x, np.ones((2, 16), bool))
    >>> [round(float(v), 2) for v in f.z], [int(v) for v in f.weeks_since]
    ([3.52, 0.0], [5, 0])
    """
    x = np.where(observed, np.asarray(values, dtype=np.float64), 0.0)
    n, n_weeks = x.shape
    e = np.ones_like(x) if exposure is None else np.asarray(exposure, dtype=np.float64)
    e = np.where(observed, np.maximum(e, 1e-6), 0.0)
    total, busy = x.sum(axis=1), e.sum(axis=1)
    # Only the last m weeks can follow an onset: suffix sums over them, [:, j] = weeks j..m-1.
    m = max(min(max_recent, n_weeks - 2), 0)
    xr, er = x[:, n_weeks - m :], e[:, n_weeks - m :]
    w = np.arange(m, dtype=np.float64)
    tail_x = np.cumsum(xr[:, ::-1], axis=1)[:, ::-1]
    tail_xw = np.cumsum((xr * w)[:, ::-1], axis=1)[:, ::-1]
    tail_e = np.cumsum(er[:, ::-1], axis=1)[:, ::-1]
    log_sum = np.full(n, -np.inf)  # log of the sum of the likelihood ratios so far
    best, since, speed = np.full(n, -np.inf), np.zeros(n), np.zeros(n)
    best_decayed = busy.copy()  # rate-weeks of the best fade (its λ = total / this)
    splits = range(min_recent, m + 1)
    for beta in speeds:
        tail_eg = np.cumsum((er * np.exp(-beta * w))[:, ::-1], axis=1)[:, ::-1]
        for k in splits:
            if np.exp(-beta * k) > 1 - min_drop:
                continue  # keeps too much of the rate: adds nothing to the sum
            j = m - k  # the onset week among the last m
            before_e = busy - tail_e[:, j]
            decayed = before_e + np.exp(beta * (j - 1)) * tail_eg[:, j]
            ratio = -beta * (tail_xw[:, j] - (j - 1) * tail_x[:, j]) + xlogy(
                total, busy / np.maximum(decayed, 1e-12)
            )
            ratio = np.where(before_e >= 2, ratio / dispersion, -np.inf)
            log_sum = np.logaddexp(log_sum, ratio)
            better = ratio > best
            best = np.where(better, ratio, best)
            since = np.where(better, k, since)
            speed = np.where(better, beta, speed)
            best_decayed = np.where(better, decayed, best_decayed)
    terms = max(len(speeds) * len(splits), 1)
    log_b = np.where(np.isfinite(log_sum), log_sum - np.log(terms), 0.0)
    z = np.sqrt(2 * np.maximum(log_b, 0.0))
    # Where no fade fits better than a constant rate, show that constant rate.
    flat = ~(best > 0)
    before = total / np.maximum(np.where(flat, busy, best_decayed), 1e-12)
    since, speed = np.where(flat, 0.0, since), np.where(flat, 0.0, speed)
    now = before * np.exp(-speed * since)
    return FadeEvidence(z, since, speed, before, now)


def population_dispersion(values: Matrix, observed: Mask, recent: int) -> float:
    """Over-dispersion of weekly counts across customers: the median variance/mean ratio of
    their weeks before the last `recent`, at least 1.

    One customer's own ratio from a few months of weeks is too noisy to divide its evidence
    by (Poisson counts give ratios from 0.5 to 1.6); the population's median is steady and
    still tells bursty buyers (ratio above 1) from Poisson ones.

    >>> x = np.array([[0.0, 4, 0, 4, 1], [2.0, 2, 2, 2, 1], [0.0, 4, 1, 3, 0]])
    >>> population_dispersion(x, np.ones((3, 5), bool), 1)
    1.6666666666666667
    """
    x = np.asarray(values, dtype=np.float64)
    base = np.where(observed[:, :-recent], x[:, :-recent], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # customers without older weeks
        mean = np.nanmean(base, axis=1)
        var = np.nanvar(base, axis=1, ddof=1)
    ok = np.isfinite(var) & (mean > 0)
    if not ok.any():
        return 1.0
    return float(max(1.0, np.median(var[ok] / mean[ok])))


__all__ = ["SPEEDS", "FadeEvidence", "fade_evidence", "population_dispersion"]
