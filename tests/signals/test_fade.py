"""The fade detector against hand computations and a direct Poisson likelihood."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import poisson

from crew.signals.fade import fade_evidence, population_dispersion

# Five weeks, a fade starting two weeks ago that halves the rate each week.
X = np.array([[4.0, 4, 4, 2, 1]])
SEEN = np.ones(X.shape, dtype=bool)
HALF, QUARTER = math.log(2), math.log(4)
ONE_SPLIT = {"min_recent": 2, "max_recent": 2}


def _ratio(x: np.ndarray, decay: np.ndarray) -> float:
    """Log-likelihood ratio, fade against constant, each at its maximum-likelihood rate."""
    fade_rate = x.sum() / decay.sum() * decay
    flat_rate = np.full(len(x), x.mean())
    return float(poisson.logpmf(x, fade_rate).sum() - poisson.logpmf(x, flat_rate).sum())


def test_one_onset_and_speed_is_the_likelihood_ratio_by_hand() -> None:
    # g = (1, 1, 1, 1/2, 1/4): the ratio is 15 ln(5 / 3.75) + 2 ln(1/2) + 1 ln(1/4).
    by_hand = 15 * math.log(5 / 3.75) - 4 * math.log(2)
    assert _ratio(X[0], np.array([1, 1, 1, 0.5, 0.25])) == pytest.approx(by_hand)
    f = fade_evidence(X, SEEN, speeds=(HALF,), **ONE_SPLIT)
    assert f.z[0] == pytest.approx(math.sqrt(2 * by_hand))
    assert f.weeks_since[0] == 2 and f.speed[0] == pytest.approx(HALF)
    assert f.rate_before[0] == pytest.approx(4.0)  # 15 events over 3.75 rate-weeks
    assert f.rate_now[0] == pytest.approx(1.0)  # a quarter of it two weeks on


def test_several_fades_are_averaged_not_maximised() -> None:
    first = _ratio(X[0], np.array([1, 1, 1, 0.5, 0.25]))
    second = _ratio(X[0], np.array([1, 1, 1, 0.25, 0.0625]))
    bayes_factor = (math.exp(first) + math.exp(second)) / 2
    f = fade_evidence(X, SEEN, speeds=(HALF, QUARTER), **ONE_SPLIT)
    assert f.z[0] == pytest.approx(math.sqrt(2 * math.log(bayes_factor)))
    assert f.z[0] < math.sqrt(2 * max(first, second))  # below the best single fade
    assert f.speed[0] == pytest.approx(HALF if first > second else QUARTER)


def test_fades_keeping_most_of_the_rate_are_not_evidence() -> None:
    # exp(-0.1 * 2) = 0.82 of the rate left: not the half a fade must lose by default.
    f = fade_evidence(X, SEEN, speeds=(0.1,), **ONE_SPLIT)
    assert f.z[0] == 0.0
    assert f.rate_now[0] == f.rate_before[0] == pytest.approx(3.0)  # the constant rate shown


def test_dispersion_divides_the_evidence() -> None:
    by_hand = 15 * math.log(5 / 3.75) - 4 * math.log(2)
    f = fade_evidence(X, SEEN, speeds=(HALF,), dispersion=2.0, **ONE_SPLIT)
    assert f.z[0] == pytest.approx(math.sqrt(by_hand))


def test_a_lull_everybody_shares_is_no_fade() -> None:
    # Counts exactly as busy as the weeks were expected to be: nothing personal happened.
    exposure = np.array([[1.0, 1, 1, 0.5, 0.25]]) * 5 / 3.75
    f = fade_evidence(X, SEEN, exposure=exposure, speeds=(HALF, QUARTER), min_recent=2)
    assert f.z[0] == 0.0


def test_weeks_before_signup_are_left_out() -> None:
    late = np.array([[9.0, 9, 4, 4, 4, 2, 1]])
    seen = np.ones(late.shape, dtype=bool)
    seen[0, :2] = False
    same = {"speeds": (HALF, QUARTER), "min_recent": 2, "max_recent": 3}  # same onsets tried
    shifted = fade_evidence(late, seen, **same)
    alone = fade_evidence(X, SEEN, **same)
    assert alone.z[0] > 0
    assert shifted.z[0] == pytest.approx(alone.z[0])


def test_steady_and_rising_customers_score_zero() -> None:
    x = np.array([[3.0] * 12, [1.0] * 6 + [3.0] * 6])
    assert fade_evidence(x, np.ones(x.shape, dtype=bool)).z.tolist() == [0.0, 0.0]


def test_population_dispersion_by_hand_and_on_poisson_counts() -> None:
    x = np.array([[0.0, 4, 0, 4, 1], [2.0, 2, 2, 2, 1], [0.0, 4, 1, 3, 0]])
    # Ratios of the first four weeks: 16/3 / 2, 0, 10/3 / 2 -> median 5/3.
    assert population_dispersion(x, np.ones(x.shape, dtype=bool), 1) == pytest.approx(5 / 3)
    rng = np.random.default_rng(0)
    counts = rng.poisson(3.0, (2000, 20)).astype(float)
    assert population_dispersion(counts, np.ones(counts.shape, dtype=bool), 4) == 1.0
    bursty = rng.negative_binomial(1.5, 1 / 3, (2000, 20)).astype(float)  # var/mean = 3
    assert population_dispersion(bursty, np.ones(bursty.shape, dtype=bool), 4) == pytest.approx(
        3.0, rel=0.2
    )
