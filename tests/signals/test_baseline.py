"""Own-baseline detectors against hand computations and reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm, poisson
from sklearn.linear_model import PoissonRegressor

from crew.signals.baseline import (
    baseline_of,
    cusum_drop,
    ewma_drop,
    poisson_drop_z,
    poisson_spike_z,
    robust_z,
)
from crew.signals.surge import exponential_surge


def _series(rows: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array(rows, dtype=float)
    return x, np.ones(x.shape, dtype=bool)


def test_poisson_drop_matches_scipy_tail() -> None:
    x, seen = _series([[2, 3, 1, 2, 2, 2, 0, 1]])
    b = baseline_of(x, seen, 2, counts=True)
    expected_rate = 2.0 * 2  # mean 2 a week over 2 recent weeks
    p = poisson.cdf(1, expected_rate)
    assert poisson_drop_z(b)[0] == pytest.approx(-norm.ppf(p))
    assert poisson_spike_z(b)[0] < 0  # fewer events than usual: no spike


def test_unobserved_weeks_are_not_baseline() -> None:
    # A customer who signed up four weeks ago has only two baseline weeks, not six.
    x, seen = _series([[0, 0, 0, 0, 3, 3, 3, 3]])
    seen[0, :4] = False
    b = baseline_of(x, seen, 2, counts=True)
    assert b.weeks[0] == 2
    assert b.mean[0] == 3
    assert not b.has_history(min_weeks=4, min_total=1)[0]


def test_robust_z_ignores_one_wild_baseline_week() -> None:
    calm, seen = _series([[5, 5, 6, 4, 5, 5, 5, 5]])
    wild, _ = _series([[5, 5, 60, 4, 5, 5, 5, 5]])
    z_calm = robust_z(baseline_of(calm, seen, 2, counts=True))[0]
    z_wild = robust_z(baseline_of(wild, seen, 2, counts=True))[0]
    assert z_calm == pytest.approx(z_wild)


def test_cusum_adds_up_a_slow_decline_that_ewma_and_cusum_see() -> None:
    steady, seen = _series([[4.0] * 12])
    slow, _ = _series([[4.0] * 6 + [3.5, 3, 2.5, 2, 1.5, 1]])
    b_steady = baseline_of(steady, seen, 4, counts=True)
    b_slow = baseline_of(slow, seen, 4, counts=True)
    assert cusum_drop(steady, b_steady)[0] == 0
    assert cusum_drop(slow, b_slow)[0] > 1.5
    assert ewma_drop(slow, b_slow)[0] > ewma_drop(steady, b_steady)[0]


@pytest.mark.parametrize(
    "counts",
    [[0, 1, 1, 2, 3, 5, 8, 13], [4, 3, 5, 4, 4, 3, 5, 4], [9, 7, 6, 4, 3, 2, 1, 1]],
)
def test_surge_slope_matches_sklearn_poisson_regression(counts: list[int]) -> None:
    y = np.array(counts, dtype=float)
    t = np.arange(len(y)) - (len(y) - 1) / 2
    reference = PoissonRegressor(alpha=0, max_iter=1000, tol=1e-12).fit(t[:, None], y)
    fit = exponential_surge([y])
    assert fit.growth_per_week[0] == pytest.approx(np.exp(reference.coef_[0]), rel=1e-5)
    assert (fit.z[0] > 0) == (reference.coef_[0] > 0 and fit.z[0] > 0)


def test_surge_needs_the_minimum_count_and_growth() -> None:
    fit = exponential_surge(
        [[0, 0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 2, 4, 8], [8, 4, 2, 1, 0, 0, 0, 0]]
    )
    assert not fit.fitted[0] and fit.z[0] == 0
    assert fit.z[1] > 3
    assert fit.z[2] == 0  # shrinking complaints are no surge
