"""Cohort tables with Wilson intervals; uplift with a bootstrap interval."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, norm

from crew.evaluation.cohorts import indicator_cohorts, wilson_interval
from crew.evaluation.uplift import uplift


def test_wilson_interval_by_hand_and_against_scipy() -> None:
    # p = 0.1, n = 50, z = 1.96: centre (0.1 + 0.0384) / 1.0768, half-width 0.0850 / 1.0768.
    low, high = wilson_interval(5, 50)
    assert (round(low, 4), round(high, 4)) == (0.0435, 0.2136)
    ci = binomtest(12, 80).proportion_ci(method="wilson")
    assert wilson_interval(12, 80) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert wilson_interval(0, 0) == (0.0, 0.0)


def test_cohorts_rise_with_a_risky_indicator_and_keep_missing_apart() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 10, 5000)
    y = rng.binomial(1, 0.01 + 0.02 * x)
    values = pd.Series(np.concatenate([x, [np.nan] * 100]))
    labels = pd.Series(np.concatenate([y, np.ones(100, dtype=int)]))
    table = indicator_cohorts(values, labels)
    ordered = [b for b in table.bins if not b["missing"]]
    assert len(ordered) == 10 and sum(b["count"] for b in ordered) == 5000
    assert table.monotonicity is not None and table.monotonicity > 0.9
    assert all(b["ci_low"] <= b["rate"] <= b["ci_high"] for b in table.bins)
    assert table.bins[-1]["missing"] and table.bins[-1]["rate"] == 1.0


def test_cohorts_of_a_yes_no_indicator_have_two_bins() -> None:
    table = indicator_cohorts(pd.Series([0, 0, 0, 1, 1, 1]), pd.Series([0, 0, 1, 1, 1, 0]))
    assert [(b["low"], b["count"], b["positives"]) for b in table.bins] == [(0, 3, 1), (1, 3, 2)]


def test_uplift_detects_a_real_effect_and_not_a_null_one() -> None:
    rng = np.random.default_rng(1)
    treated, control = rng.binomial(1, 0.8, 2000), rng.binomial(1, 0.5, 2000)
    real = uplift(treated, control, treated_value=np.full(2000, 10.0))
    assert real.ci_low is not None and real.ci_low > 0
    assert real.uplift == pytest.approx(treated.mean() - control.mean())
    assert real.saved_value == pytest.approx(real.uplift * 20000)
    assert real.p_value is not None and real.p_value < 1e-6
    same = np.array([1] * 7 + [0] * 3)  # both groups retain exactly 70%
    null = uplift(np.tile(same, 180), np.tile(same, 20))
    assert null.ci_low is not None and null.ci_high is not None
    assert null.ci_low < 0 < null.ci_high
    # Seeded: the same inputs give the same interval.
    assert uplift(treated, control).ci_low == uplift(treated, control).ci_low


def test_uplift_without_a_control_group_says_so() -> None:
    result = uplift([1, 0, 1], [])
    assert result.uplift is None and result.treated_rate == pytest.approx(2 / 3)


def test_wilson_interval_by_hand_at_the_edges() -> None:
    # 0 of 10: centre and half-width are both (z²/20) / (1 + z²/10), so [0, 0.2775].
    z2 = 1.959963984540054**2
    high = (z2 / 20 + math.sqrt(z2) * math.sqrt(z2 / 400)) / (1 + z2 / 10)
    assert wilson_interval(0, 10) == pytest.approx((0.0, high))
    assert round(high, 4) == 0.2775
    low, top = wilson_interval(10, 10)
    assert top == pytest.approx(1.0) and low == pytest.approx(1 - high)


def test_a_protective_indicator_has_a_falling_rate() -> None:
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 10, 4000)
    table = indicator_cohorts(pd.Series(x), pd.Series(rng.binomial(1, 0.25 - 0.02 * x)))
    assert table.monotonicity is not None and table.monotonicity < -0.9
    lows = [b["low"] for b in table.bins]
    assert lows == sorted(lows)  # type: ignore[type-var]


def test_heavy_ties_give_fewer_ordered_bins_and_a_flat_rate_no_direction() -> None:
    values = pd.Series([0.0] * 80 + list(range(1, 21)))
    labels = pd.Series([0, 1] * 50)
    table = indicator_cohorts(values, labels)
    assert 2 <= len(table.bins) < 10 and sum(b["count"] for b in table.bins) == 100  # type: ignore[misc]
    assert table.bins[0]["low"] == table.bins[0]["high"] == 0.0 and table.bins[0]["count"] == 80
    flat = indicator_cohorts(pd.Series(range(100)), pd.Series([1] * 100))
    assert flat.monotonicity is None  # every decile at rate 1: no direction to read


def test_uplift_p_value_is_the_two_proportion_z_test_and_the_interval_its_normal_width() -> None:
    treated = np.array([1] * 130 + [0] * 70)  # 0.65
    control = np.array([1] * 110 + [0] * 90)  # 0.55
    result = uplift(treated, control, n_boot=20_000, seed=3)
    pooled = 240 / 400
    z = 0.1 / math.sqrt(pooled * (1 - pooled) * (2 / 200))
    assert result.p_value == pytest.approx(2 * norm.sf(z))
    # The bootstrap interval of a difference of proportions is close to the unpooled Wald one.
    se = math.sqrt(0.65 * 0.35 / 200 + 0.55 * 0.45 / 200)
    assert result.ci_low == pytest.approx(0.1 - 1.96 * se, abs=0.01)
    assert result.ci_high == pytest.approx(0.1 + 1.96 * se, abs=0.01)


def test_uplift_when_everyone_is_retained_is_zero_with_no_evidence() -> None:
    result = uplift(np.ones(50), np.ones(20))
    assert result.uplift == 0.0 and result.p_value == 1.0
    assert (result.ci_low, result.ci_high) == (0.0, 0.0)
    assert result.as_dict()["control_n"] == 20
