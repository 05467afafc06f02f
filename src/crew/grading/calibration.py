"""Thresholds that earn their place: a false-alarm budget (误报预算) and value under capacity.

Two ways to turn a score into a cut-off that a team can defend:

- `false_alarm_threshold`: from a detector's scores where nothing happened, the cut-off that
  keeps false warnings within a tolerated rate, e.g. one per customer per five years;
- `value_optimal_cutoff` / `level_cutoffs`: from churn probabilities and customer values, the
  cut-off that saves the most expected value with the warnings the response team can work
  (容量与价值约束下的阈值).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from crew.errors import InsufficientDataError
from crew.types import Level

FloatArray = npt.NDArray[np.float64]

MIN_SCORES = 20
"""Fewest scores a false-alarm threshold is computed from."""

TAIL_SHARE = 0.05
"""Share of the highest scores the exponential tail is fitted to (peaks over threshold)."""

MIN_TAIL_POINTS = 10
"""Fewest scores in the fitted tail."""

_EPS = 1e-9  # guards floor() against 0.29 * 100 == 28.999999999999996


@dataclass(frozen=True)
class FalseAlarmCalibration:
    """A threshold meeting a false-alarm budget, and how well the data supports it."""

    threshold: float
    target_rate: float
    achieved_rate: float
    samples: int
    extrapolated: bool

    def evidence(self) -> dict[str, object]:
        """Plain JSON-able values."""
        return asdict(self)


@dataclass(frozen=True)
class CutoffSuggestion:
    """The warnings worth working under a capacity, and what they are expected to save."""

    capacity: int
    alerts: int
    alerts_per_day: float
    capacity_binding: bool
    min_probability: float | None
    min_expected_value: float | None
    expected_saved_value: float
    precision: float | None = None
    recall: float | None = None
    saved_value_realised: float | None = None

    def evidence(self) -> dict[str, object]:
        """Plain JSON-able values."""
        return asdict(self)


def empirical_threshold(scores: npt.ArrayLike, *, target_rate: float) -> float:
    """Smallest observed score t with share(scores >= t) <= target_rate (NaN ignored).

    When no observed score qualifies (too few scores, or ties at the top), the next float
    above the maximum: nothing in the sample would alarm.

    >>> empirical_threshold(np.arange(1.0, 101.0), target_rate=0.05)
    96.0
    >>> empirical_threshold([1.0, 2.0, 2.0, 2.0], target_rate=0.5)
    2.0000000000000004
    """
    s = np.sort(np.asarray(scores, dtype=np.float64))
    s = s[~np.isnan(s)]
    n = s.size
    if n == 0:
        return math.nan
    allowed = math.floor(target_rate * n + _EPS)
    quiet = n - allowed  # at least this many scores must stay below the threshold
    if quiet <= 0:
        return float(s[0])
    first_above = int(np.searchsorted(s, s[quiet - 1], side="right"))
    return float(s[first_above]) if first_above < n else float(np.nextafter(s[-1], np.inf))


def exponential_tail_threshold(scores: npt.ArrayLike, *, target_rate: float) -> float:
    """Threshold from an exponential fit to the top 5% (at least 10) of the scores.

    Peaks over threshold: with u the largest score below the tail, p_u the tail's share and
    beta the mean excess over u, P(S >= t) ~ p_u * exp(-(t - u) / beta), so
    t = u + beta * ln(p_u / target_rate). Meant for rates below p_u. Below, u = 190,
    beta = 5.5 and p_u = 0.05, so t = 190 + 5.5 ln 10:

    >>> round(exponential_tail_threshold(np.arange(1.0, 201.0), target_rate=0.005), 2)
    202.66
    """
    s = np.sort(np.asarray(scores, dtype=np.float64))
    s = s[~np.isnan(s)]
    n = s.size
    k = max(math.ceil(TAIL_SHARE * n), MIN_TAIL_POINTS)
    if n <= k:
        raise InsufficientDataError(
            f"{n} scores cannot support a tail fit of {k} points.",
            hint=f"Calibrate on at least {MIN_SCORES} customer-periods.",
        )
    u = float(s[n - k - 1])
    beta = float(np.mean(s[n - k :] - u))
    if beta <= 0:
        return float(np.nextafter(s[-1], np.inf))
    return u + beta * math.log((k / n) / target_rate)


def false_alarm_threshold(scores: npt.ArrayLike, *, target_rate: float) -> FalseAlarmCalibration:
    """Threshold whose false-warning rate on outcome-free customer-periods is `target_rate`.

    `scores` holds one score per customer per period in which nothing happened (NaN ignored);
    `target_rate` is the tolerated false warnings per customer per period, e.g.
    `target_rate_for(5, periods_per_year=52)` for one per customer per five years of weeks.

    With at least 10 / target_rate scores the threshold is empirical (`empirical_threshold`,
    the conservative (1 - target_rate) quantile). With fewer, the tail cannot be resolved:
    an exponential tail is fitted to the top 5% of the scores and extrapolated
    (`exponential_tail_threshold`), and `extrapolated` is set. `achieved_rate` is the share of
    the given scores at or above the threshold.

    >>> cal = false_alarm_threshold(np.arange(1.0, 1001.0), target_rate=0.01)
    >>> cal.threshold, cal.achieved_rate, cal.extrapolated
    (991.0, 0.01, False)
    """
    if not 0 < target_rate < 1:
        raise ValueError(f"target_rate must be in (0, 1), got {target_rate}")
    s = np.asarray(scores, dtype=np.float64).ravel()
    s = s[~np.isnan(s)]
    if s.size < MIN_SCORES:
        raise InsufficientDataError(
            f"Only {s.size} scores to calibrate a false-alarm threshold; "
            f"at least {MIN_SCORES} are needed.",
            hint="Use a longer history of outcome-free customer-periods.",
        )
    extrapolated = s.size < 10 / target_rate
    threshold = (
        exponential_tail_threshold(s, target_rate=target_rate)
        if extrapolated
        else empirical_threshold(s, target_rate=target_rate)
    )
    return FalseAlarmCalibration(
        threshold=threshold,
        target_rate=target_rate,
        achieved_rate=float(np.mean(s >= threshold)),
        samples=int(s.size),
        extrapolated=extrapolated,
    )


def target_rate_for(years: float, *, periods_per_year: float = 52.0) -> float:
    """Rate per customer per period for one false warning per customer every `years`.

    >>> target_rate_for(5, periods_per_year=52) == 1 / 260
    True
    """
    return 1.0 / (years * periods_per_year)


def years_per_alarm(rate: float, *, periods_per_year: float = 52.0) -> float:
    """Years between two warnings of one customer at `rate` per period (inf for rate 0).

    >>> years_per_alarm(1 / 260, periods_per_year=52)
    5.0
    """
    return math.inf if rate <= 0 else 1.0 / (rate * periods_per_year)


def rate_text(rate: float, *, periods_per_year: float = 52.0) -> str:
    """A per-period rate as words: "one per customer per 5 years".

    >>> rate_text(1 / 260, periods_per_year=52)
    'one per customer per 5 years'
    >>> rate_text(1 / 26, periods_per_year=52), rate_text(0.0)
    ('one per customer per 6 months', 'none')
    """
    years = years_per_alarm(rate, periods_per_year=periods_per_year)
    if math.isinf(years):
        return "none"
    if years >= 1:
        amount, unit = years, "year"
    elif years * 12 >= 1:
        amount, unit = years * 12, "month"
    else:
        amount, unit = years * 365.25, "day"
    if f"{amount:.3g}" == "1":
        return f"one per customer per {unit}"
    return f"one per customer per {amount:.3g} {unit}s"


def expected_saved_value(
    probability: npt.ArrayLike,
    value: npt.ArrayLike,
    *,
    save_rate: float = 0.3,
    action_cost: float = 0.0,
) -> FloatArray:
    """Expected value saved by warning each customer: p * v * save_rate - action_cost.

    >>> expected_saved_value([0.5, 0.1], [1000.0, 50.0], save_rate=0.3, action_cost=10.0).tolist()
    [140.0, -8.5]
    """
    p, v = np.asarray(probability, dtype=np.float64), np.asarray(value, dtype=np.float64)
    return np.asarray(p * v * save_rate - action_cost, dtype=np.float64)


def value_optimal_cutoff(
    probability: npt.ArrayLike,
    value: npt.ArrayLike,
    outcome: npt.ArrayLike | None,
    *,
    capacity_per_day: float,
    days: float,
    save_rate: float = 0.3,
    action_cost: float = 0.0,
) -> CutoffSuggestion:
    """The warnings that save the most expected value within the team's capacity.

    Warning customer i is worth E_i = p_i * v_i * s - c: the churn probability p_i times the
    customer's value v_i times the share s of warned churners the team saves (`save_rate`),
    minus the cost c of working one warning (`action_cost`). Customers are ranked by E_i
    (ties: higher p first); the team can work K = floor(capacity_per_day * days) warnings,
    so the top min(K, #{E_i > 0}) are chosen: stopping where the marginal value is no longer
    positive maximises sum E_i subject to at most K warnings.

    `min_probability` is the smallest p among the chosen and `min_expected_value` the
    smallest E_i: the value cut-off reproduces the choice exactly (up to ties), a probability
    cut-off only when values are alike. With `outcome` (1 = churned) the choice is also
    scored: `precision`, `recall` and `saved_value_realised` = s * sum of v over chosen
    churners - c * alerts. NaN probabilities or values are never chosen.
    """
    p = np.asarray(probability, dtype=np.float64).ravel()
    v = np.asarray(value, dtype=np.float64).ravel()
    if p.shape != v.shape:
        raise ValueError(f"probability ({p.size}) and value ({v.size}) differ in length")
    if days <= 0 or capacity_per_day < 0 or not 0 <= save_rate <= 1 or action_cost < 0:
        raise ValueError("need days > 0, capacity_per_day >= 0, 0 <= save_rate <= 1, cost >= 0")
    gain = expected_saved_value(p, v, save_rate=save_rate, action_cost=action_cost)
    gain = np.where(np.isfinite(gain), gain, -np.inf)
    order = np.lexsort((-np.nan_to_num(p, nan=-np.inf), -gain))
    capacity = math.floor(capacity_per_day * days + _EPS)
    worth = int(np.count_nonzero(gain > 0))
    chosen = order[: min(capacity, worth)]
    alerts = int(chosen.size)
    precision = recall = realised = None
    if outcome is not None:
        y = np.asarray(outcome).ravel()
        if y.shape != p.shape or not np.isin(y, (0, 1)).all():
            raise ValueError("outcome must hold one 0/1 value per customer")
        y = y.astype(bool)
        hits = int(y[chosen].sum())
        precision = hits / alerts if alerts else None
        recall = hits / int(y.sum()) if y.any() else None
        realised = float(save_rate * v[chosen][y[chosen]].sum() - action_cost * alerts)
    return CutoffSuggestion(
        capacity=capacity,
        alerts=alerts,
        alerts_per_day=alerts / days,
        capacity_binding=worth > capacity,
        min_probability=float(p[chosen].min()) if alerts else None,
        min_expected_value=float(gain[chosen[-1]]) if alerts else None,
        expected_saved_value=float(gain[chosen].sum()),
        precision=precision,
        recall=recall,
        saved_value_realised=realised,
    )


def level_cutoffs(
    probability: npt.ArrayLike,
    value: npt.ArrayLike,
    outcome: npt.ArrayLike | None,
    *,
    capacity_per_day: float,
    days: float,
    shares: Sequence[float] = (0.2, 0.5, 1.0),
    save_rate: float = 0.3,
    action_cost: float = 0.0,
) -> dict[Level, CutoffSuggestion]:
    """Nested cut-offs: HIGH, MEDIUM and LOW take the first 20%, 50% and 100% of capacity.

    `shares` are the capacity shares of HIGH, MEDIUM and LOW, rising and at most 1. All three
    use the same expected-value ranking (`value_optimal_cutoff`), so every HIGH warning is
    also within MEDIUM and LOW.
    """
    if len(shares) != 3 or not 0 < shares[0] <= shares[1] <= shares[2] <= 1:
        raise ValueError(f"shares must be three rising values in (0, 1], got {list(shares)}")
    return {
        level: value_optimal_cutoff(
            probability,
            value,
            outcome,
            capacity_per_day=capacity_per_day * share,
            days=days,
            save_rate=save_rate,
            action_cost=action_cost,
        )
        for level, share in zip((Level.HIGH, Level.MEDIUM, Level.LOW), shares, strict=True)
    }


__all__ = [
    "CutoffSuggestion",
    "FalseAlarmCalibration",
    "empirical_threshold",
    "expected_saved_value",
    "exponential_tail_threshold",
    "false_alarm_threshold",
    "level_cutoffs",
    "rate_text",
    "target_rate_for",
    "value_optimal_cutoff",
    "years_per_alarm",
]
