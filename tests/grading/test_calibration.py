"""False-alarm budgets and value-optimal cut-offs against hand counts and brute force."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crew.errors import InsufficientDataError
from crew.grading.calibration import (
    empirical_threshold,
    false_alarm_threshold,
    level_cutoffs,
    rate_text,
    target_rate_for,
    value_optimal_cutoff,
    years_per_alarm,
)
from crew.types import Level

# The hand-worked example, save rate 0.3 and cost 10 per warning:
#   customer          A     B     C     D     E     F
#   probability     0.9   0.5   0.2   0.6   0.1  0.05
#   value           100  1000    50   200  2000    10
#   p * v * 0.3 - 10 17   140    -7    26    50 -9.85
# Ranking by expected saved value: B 140, E 50, D 26, A 17, then C and F (negative).
P = np.array([0.9, 0.5, 0.2, 0.6, 0.1, 0.05])
V = np.array([100.0, 1000.0, 50.0, 200.0, 2000.0, 10.0])
Y = np.array([1, 0, 0, 1, 1, 0])  # A, D and E churned


# --- false-alarm budget -------------------------------------------------------------------


def test_empirical_threshold_by_hand() -> None:
    scores = np.arange(1.0, 101.0)
    # 5% of 100 = 5 scores may alarm: 96..100.
    assert empirical_threshold(scores, target_rate=0.05) == 96.0
    # 5.5% still allows only 5; 6% allows 95..100.
    assert empirical_threshold(scores, target_rate=0.055) == 96.0
    assert empirical_threshold(scores, target_rate=0.06) == 95.0
    # Ties at the top: [1, 2, 3, 3, 3] with 40% allowed -> two alarms, but the three 3s tie,
    # so no observed score qualifies and the threshold sits just above the maximum.
    assert empirical_threshold([1.0, 2.0, 3.0, 3.0, 3.0], target_rate=0.4) > 3.0
    assert empirical_threshold([1.0, 2.0, 3.0, 3.0, 3.0], target_rate=0.6) == 3.0


def test_empirical_threshold_agrees_with_numpy_quantile() -> None:
    scores = np.random.default_rng(1).gamma(2.0, 1.0, 20_000)
    for rate in (0.01, 0.002, 0.05):  # rate * n is whole: the 'higher' quantile is the rule
        expected = np.quantile(scores, 1 - rate, method="higher")
        assert empirical_threshold(scores, target_rate=rate) == expected


@given(
    st.lists(st.integers(0, 30), min_size=20, max_size=300),
    st.floats(0.001, 0.5),
)
def test_threshold_is_the_smallest_score_within_budget(values: list[int], rate: float) -> None:
    scores = np.asarray(values, dtype=float)
    t = empirical_threshold(scores, target_rate=rate)
    assert np.mean(scores >= t) <= rate + 1e-12
    smaller = scores[scores < t]
    if smaller.size:  # the next observed score down would break the budget
        assert np.mean(scores >= smaller.max()) > rate


def test_false_alarm_threshold_empirical_when_enough_samples() -> None:
    scores = np.random.default_rng(2).normal(size=30_000)
    scores[::100] = np.nan
    rate = target_rate_for(1, periods_per_year=52)  # 1/52: needs >= 520 samples
    cal = false_alarm_threshold(scores, target_rate=rate)
    assert not cal.extrapolated and cal.samples == 29_700
    assert cal.achieved_rate <= rate
    finite = scores[~np.isnan(scores)]
    assert cal.threshold == empirical_threshold(finite, target_rate=rate)
    assert json.loads(json.dumps(cal.evidence()))["samples"] == 29_700


def test_false_alarm_threshold_extrapolates_an_exponential_tail() -> None:
    rng = np.random.default_rng(3)
    scores = rng.exponential(2.0, 2_000)  # true tail: P(S >= t) = exp(-t / 2)
    rate = target_rate_for(5, periods_per_year=52)  # 1/260 needs 2,600 samples
    cal = false_alarm_threshold(scores, target_rate=rate)
    assert cal.extrapolated and cal.samples == 2_000
    true_threshold = -2.0 * np.log(rate)  # 11.12
    assert cal.threshold == pytest.approx(true_threshold, rel=0.15)


def test_false_alarm_threshold_rejects_bad_input() -> None:
    with pytest.raises(InsufficientDataError, match="at least 20"):
        false_alarm_threshold(np.arange(10.0), target_rate=0.1)
    with pytest.raises(ValueError, match="target_rate"):
        false_alarm_threshold(np.arange(100.0), target_rate=0.0)


def test_rate_helpers() -> None:
    assert years_per_alarm(1 / 260, periods_per_year=52) == pytest.approx(5.0)
    assert rate_text(1 / 260, periods_per_year=52) == "one per customer per 5 years"
    assert rate_text(1 / 52, periods_per_year=52) == "one per customer per year"
    assert rate_text(1 / 12, periods_per_year=12) == "one per customer per year"
    assert rate_text(1 / 3, periods_per_year=12) == "one per customer per 3 months"
    assert rate_text(0.5, periods_per_year=365.25) == "one per customer per 2 days"


# --- value under capacity -----------------------------------------------------------------


def test_hand_worked_example_capacity_binding() -> None:
    cut = value_optimal_cutoff(P, V, Y, capacity_per_day=2, days=1, save_rate=0.3, action_cost=10)
    # B and E are chosen; E (p = 0.1) sets the probability cut-off.
    assert cut.capacity == 2 and cut.alerts == 2 and cut.capacity_binding
    assert cut.min_probability == 0.1 and cut.min_expected_value == pytest.approx(50)
    assert cut.expected_saved_value == pytest.approx(190)
    assert cut.alerts_per_day == 2
    # Of B and E only E churned: 1 of 2 warnings right, 1 of 3 churners found.
    assert cut.precision == 0.5 and cut.recall == pytest.approx(1 / 3)
    assert cut.saved_value_realised == pytest.approx(0.3 * 2000 - 2 * 10)


def test_negative_marginal_value_stops_before_capacity() -> None:
    cut = value_optimal_cutoff(P, V, Y, capacity_per_day=5, days=2, save_rate=0.3, action_cost=10)
    # Capacity 10, but C and F would lose money: B, E, D, A only.
    assert cut.capacity == 10 and cut.alerts == 4 and not cut.capacity_binding
    assert cut.expected_saved_value == pytest.approx(140 + 50 + 26 + 17)
    assert cut.min_expected_value == pytest.approx(17) and cut.min_probability == 0.1
    assert cut.alerts_per_day == 2
    # A, D and E churned and all are chosen: 3 of 4 right, 3 of 3 found.
    assert cut.precision == 0.75 and cut.recall == 1.0
    assert cut.saved_value_realised == pytest.approx(0.3 * (100 + 200 + 2000) - 4 * 10)


def test_without_outcome_and_without_cost() -> None:
    cut = value_optimal_cutoff(P, V, None, capacity_per_day=100, days=1)
    assert cut.alerts == 6 and cut.precision is None and cut.saved_value_realised is None
    assert cut.expected_saved_value == pytest.approx(float((P * V * 0.3).sum()))
    assert json.loads(json.dumps(cut.evidence()))["alerts"] == 6


def test_no_capacity_or_no_value_chooses_nothing() -> None:
    cut = value_optimal_cutoff(P, V, Y, capacity_per_day=0.4, days=2)
    assert cut.capacity == 0 and cut.alerts == 0 and cut.min_probability is None
    assert cut.precision is None and cut.recall == 0.0 and cut.saved_value_realised == 0.0
    cut = value_optimal_cutoff(P, V, None, capacity_per_day=10, days=1, action_cost=1e6)
    assert cut.alerts == 0 and cut.expected_saved_value == 0.0


def test_missing_probabilities_are_never_chosen() -> None:
    p = P.copy()
    p[1] = np.nan  # B, the best, is unknown
    cut = value_optimal_cutoff(p, V, None, capacity_per_day=10, days=1, action_cost=10)
    assert cut.alerts == 3 and cut.expected_saved_value == pytest.approx(50 + 26 + 17)


@pytest.mark.parametrize("seed", range(20))
def test_choice_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p, v = rng.uniform(0, 1, 8), rng.lognormal(3, 1, 8)
    cost, capacity = rng.uniform(0, 10), int(rng.integers(0, 9))
    cut = value_optimal_cutoff(p, v, None, capacity_per_day=capacity, days=1, action_cost=cost)
    gain = p * v * 0.3 - cost
    best = max(
        sum(gain[list(subset)])
        for size in range(capacity + 1)
        for subset in itertools.combinations(range(8), size)
    )
    assert cut.expected_saved_value == pytest.approx(best)


def test_level_cutoffs_are_nested_shares_of_capacity() -> None:
    rng = np.random.default_rng(9)
    p, v = rng.uniform(0, 1, 500), rng.lognormal(4, 1, 500)
    y = (rng.uniform(0, 1, 500) < p).astype(int)
    levels = level_cutoffs(p, v, y, capacity_per_day=10, days=5, action_cost=1)
    assert list(levels) == [Level.HIGH, Level.MEDIUM, Level.LOW]
    assert [levels[lv].capacity for lv in levels] == [10, 25, 50]
    assert [levels[lv].alerts for lv in levels] == [10, 25, 50]
    high, medium, low = (levels[lv] for lv in levels)
    assert high.min_expected_value is not None and medium.min_expected_value is not None
    assert low.min_expected_value is not None
    assert high.min_expected_value >= medium.min_expected_value >= low.min_expected_value
    assert high.expected_saved_value <= medium.expected_saved_value <= low.expected_saved_value
    with pytest.raises(ValueError, match="rising"):
        level_cutoffs(p, v, y, capacity_per_day=10, days=5, shares=(0.5, 0.2, 1.0))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="length"):
        value_optimal_cutoff(P, V[:3], None, capacity_per_day=1, days=1)
    with pytest.raises(ValueError, match="0/1"):
        value_optimal_cutoff(P, V, P, capacity_per_day=1, days=1)
    with pytest.raises(ValueError, match="days"):
        value_optimal_cutoff(P, V, None, capacity_per_day=1, days=0)
