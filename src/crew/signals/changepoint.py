"""Segment shifts (群体性变化): change points in a segment's daily rates, e.g. an external shock.

When a whole segment buys less, logs in less or complains more from one day on, the cause is
usually outside any single customer (a price change, an outage, a downturn, new regulation).
Per segment and metric the daily rate is deseasonalised by weekday, PELT (`ruptures`) finds
the change points, and an EWMA control chart against the pre-change baseline confirms that
the most recent change is real, recent and in the risky direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import ruptures as rpt

from crew.errors import UnknownIndicatorError

FloatArray = npt.NDArray[np.float64]

PENALTY_PER_LOG_N = 3.0
"""Default PELT penalty per change point, in units of log(n) x noise variance (BIC uses 2)."""

EWMA_LAMBDA = 0.2
"""Weight of the newest day in the EWMA control chart."""

CONTROL_L = 3.0
"""Width of the EWMA control limits in EWMA standard deviations."""

MIN_REGIME_DAYS = 7
"""Shortest stretch PELT may cut: a regime lasts at least a week."""

LOCAL_DAYS = 14
"""Days right before a change that its new level must also differ from (drift is no shift)."""


class ShiftDirection(StrEnum):
    """Which way a segment rate moved."""

    DOWN = "down"
    UP = "up"


class SegmentMetric(StrEnum):
    """Per-customer daily rates of a segment that are watched for shifts."""

    PURCHASES_PER_CUSTOMER = "purchases_per_customer"
    SPEND_PER_CUSTOMER = "spend_per_customer"
    COMPLAINTS_PER_1000 = "complaints_per_1000"
    LOGINS_PER_CUSTOMER = "logins_per_customer"

    @property
    def risky(self) -> ShiftDirection:
        """The direction that means trouble: activity down, complaints up.

        >>> SegmentMetric.COMPLAINTS_PER_1000.risky, SegmentMetric.SPEND_PER_CUSTOMER.risky
        (<ShiftDirection.UP: 'up'>, <ShiftDirection.DOWN: 'down'>)
        """
        if self is SegmentMetric.COMPLAINTS_PER_1000:
            return ShiftDirection.UP
        return ShiftDirection.DOWN


# Numerator column and multiplier of each rate; the denominator is always `customers`.
_RATE_OF = {
    SegmentMetric.PURCHASES_PER_CUSTOMER: ("purchases", 1.0),
    SegmentMetric.SPEND_PER_CUSTOMER: ("spend", 1.0),
    SegmentMetric.COMPLAINTS_PER_1000: ("complaints", 1000.0),
    SegmentMetric.LOGINS_PER_CUSTOMER: ("logins", 1.0),
}


def _relative(level: float, reference: float) -> float:
    if reference == 0:
        return 0.0 if level == 0 else math.copysign(math.inf, level)
    return (level - reference) / abs(reference)


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class SegmentShift:
    """A recent, confirmed shift of one segment rate in the risky direction."""

    segment: str
    metric: SegmentMetric
    onset: date
    baseline: float
    level: float
    relative_change: float
    z: float
    direction: ShiftDirection
    baseline_days: int
    days_since_onset: int
    control_limit: float

    def evidence(self) -> dict[str, object]:
        """Plain JSON-able values (non-finite numbers become None)."""
        return {
            "segment": self.segment,
            "metric": self.metric.value,
            "onset": self.onset.isoformat(),
            "baseline": self.baseline,
            "level": self.level,
            "relative_change": _finite_or_none(self.relative_change),
            "z": _finite_or_none(self.z),
            "direction": self.direction.value,
            "baseline_days": self.baseline_days,
            "days_since_onset": self.days_since_onset,
            "control_limit": self.control_limit,
        }


def segment_rates(series: pa.Table | pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Daily per-customer rates by segment from `segment_daily_series`, complete days only.

    Point in time: a day is used only when it ended by `as_of` (UTC), so a partial last day
    never looks like a drop. Days with no customers give NaN rates. Index (segment, day).
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    frame = series.to_pandas() if isinstance(series, pa.Table) else series
    last_day = (as_of.astimezone(UTC) - timedelta(days=1)).date()
    days = pd.to_datetime(frame["day"])
    frame = frame.loc[(days <= pd.Timestamp(last_day)).to_numpy()]
    counts = ["customers", *sorted({col for col, _ in _RATE_OF.values()})]
    totals = (
        frame.assign(day=pd.to_datetime(frame["day"]), segment=frame["segment"].astype(str))
        .groupby(["segment", "day"])[counts]
        .sum()
        .astype(np.float64)
    )
    customers = totals["customers"].where(totals["customers"] > 0)
    return pd.DataFrame(
        {m.value: totals[col] * scale / customers for m, (col, scale) in _RATE_OF.items()}
    )


def weekday_factors(rate: pd.Series) -> FloatArray:
    """Multiplicative weekday profile (Monday first, mean 1) of a daily series.

    Per weekday, the sum of the rate over the sum of its centred 7-day mean: a ratio of sums
    stays sound for sparse counts (complaints) where most days are 0, and a step change
    disturbs only the three days either side of it. Fewer than two weeks: all ones.

    >>> days = pd.date_range("2024-01-01", periods=28, freq="D")
    >>> weekday_factors(pd.Series(np.tile([1, 1, 1, 1, 1, 2, 2.0], 4), index=days)).round(3)
    array([0.778, 0.778, 0.778, 0.778, 0.778, 1.556, 1.556])
    """
    mean7 = rate.rolling(7, center=True, min_periods=7).mean()
    both = (rate.notna() & mean7.notna()).to_numpy()
    if both.sum() < 14:
        return np.ones(7)
    weekday = pd.DatetimeIndex(rate.index).day_of_week.to_numpy()[both]
    observed = np.bincount(weekday, weights=rate.to_numpy(dtype=np.float64)[both], minlength=7)
    expected = np.bincount(weekday, weights=mean7.to_numpy(dtype=np.float64)[both], minlength=7)
    if (expected <= 0).any():
        return np.ones(7)
    factors = observed / expected
    return np.asarray(factors / factors.mean(), dtype=np.float64)


def noise_sigma(values: FloatArray) -> float:
    """Day-to-day noise of a series from its first differences, robust to level shifts.

    The MAD of the differences, scaled to a standard deviation and divided by sqrt(2); when
    that is 0 (mostly-constant series) the plain standard deviation of the differences.

    >>> round(noise_sigma(np.array([1.0, 3.0, 1.0, 3.0, 1.0])), 3)
    2.097
    """
    diffs = np.diff(values)
    if diffs.size == 0:
        return 0.0
    mad = float(np.median(np.abs(diffs - np.median(diffs)))) * 1.4826 / math.sqrt(2)
    return mad if mad > 0 else float(np.std(diffs)) / math.sqrt(2)


def ewma_last(values: FloatArray, start: float, lam: float = EWMA_LAMBDA) -> float:
    """Last value of the EWMA of `values` started at `start`.

    >>> ewma_last(np.array([1.0, 1.0]), 0.0, lam=0.5)
    0.75
    """
    z = start
    for x in values:
        z = lam * float(x) + (1 - lam) * z
    return z


def ewma_limit(
    sigma: float, steps: int, lam: float = EWMA_LAMBDA, width: float = CONTROL_L
) -> float:
    """Half-width of the EWMA control limits after `steps` observations.

    >>> round(ewma_limit(1.0, 1000), 4)
    1.0
    """
    return width * sigma * math.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * steps)))


def _shift_of(
    segment: str,
    metric: SegmentMetric,
    rate: pd.Series,
    *,
    recent_start: date,
    as_of_day: date,
    min_baseline_days: int,
    penalty: float | None,
    min_relative_change: float,
) -> SegmentShift | None:
    """The confirmed recent shift of one segment rate, or None."""
    days = pd.date_range(rate.index.min(), rate.index.max(), freq="D")
    full = rate.reindex(days)
    factors = weekday_factors(full)
    # A weekday that never sees any activity (a closed shop) carries no information.
    by_day = factors[days.day_of_week.to_numpy()]
    adjusted: pd.Series = (full / np.where(by_day > 0, by_day, np.nan)).dropna()
    values = adjusted.to_numpy(dtype=np.float64)
    n = values.size
    sigma = noise_sigma(values)
    if n < min_baseline_days + MIN_REGIME_DAYS or sigma <= 0:
        return None
    standard = (values - np.median(values)) / sigma
    pen = PENALTY_PER_LOG_N * math.log(n) if penalty is None else penalty
    # KernelCPD with a linear kernel is ruptures' compiled PELT for the l2 cost: the same
    # change points as `rpt.Pelt(model="l2")`, a thousand times faster on a year of days.
    detector = rpt.KernelCPD(kernel="linear", min_size=MIN_REGIME_DAYS, jump=1)
    cuts = [int(b) for b in detector.fit(standard).predict(pen=pen) if b < n]
    if not cuts:
        return None
    cut = cuts[-1]
    onset = adjusted.index[cut].date()
    if onset < recent_start or cut < min_baseline_days:
        return None
    # Baseline: the regime before the change, or the last `min_baseline_days` if it is shorter.
    previous = cuts[-2] if len(cuts) > 1 else 0
    first = min(previous, cut - min_baseline_days)
    before, after = values[first:cut], values[cut:]
    baseline, level = float(before.mean()), float(after.mean())
    spread = float(before.std(ddof=1)) if before.size > 1 else 0.0
    spread = spread if spread > 0 else sigma
    limit = ewma_limit(spread, after.size)
    ewma = ewma_last(after, baseline)
    direction = ShiftDirection.DOWN if level < baseline else ShiftDirection.UP
    relative = _relative(level, baseline)
    # A slow drift is cut by PELT into small steps; a shift must also stand out against the
    # fortnight right before it.
    step = _relative(level, float(values[cut - LOCAL_DAYS : cut].mean()))
    beyond = (
        ewma < baseline - limit if direction is ShiftDirection.DOWN else ewma > baseline + limit
    )
    abrupt = min(abs(relative), abs(step)) >= min_relative_change and step * relative > 0
    if direction is not metric.risky or not beyond or not abrupt:
        return None
    return SegmentShift(
        segment=segment,
        metric=metric,
        onset=onset,
        baseline=baseline,
        level=level,
        relative_change=relative,
        z=(level - baseline) / spread,
        direction=direction,
        baseline_days=int(before.size),
        days_since_onset=(as_of_day - onset).days,
        control_limit=limit,
    )


def segment_shifts(
    series: pa.Table | pd.DataFrame,
    as_of: datetime,
    *,
    metrics: Sequence[str] = (
        "purchases_per_customer",
        "complaints_per_1000",
        "logins_per_customer",
    ),
    recent_days: int = 28,
    min_baseline_days: int = 56,
    penalty: float | None = None,
    min_relative_change: float = 0.1,
) -> list[SegmentShift]:
    """Recent shifts of segment rates in the risky direction, e.g. an external shock.

    Per segment and metric: the daily rate (from `segment_rates`) is divided by its weekday
    profile (`weekday_factors`), standardised by its day-to-day noise, and cut by PELT (l2
    cost, via ruptures' compiled `KernelCPD(kernel="linear")`; regimes of at least a week;
    penalty `3 x log(n)` in noise-variance units unless given, BIC would be 2).

    The most recent change point is reported when all of these hold:

    - it falls within `recent_days` before `as_of`, with `min_baseline_days` of history
      before it;
    - the rate moved in the risky direction (activity down, complaints up) by at least
      `min_relative_change` against the baseline, the regime before the change (widened to
      `min_baseline_days` when shorter);
    - the change is abrupt: the new level also differs by `min_relative_change` from the 14
      days right before it, so a slow drift, which PELT cuts into small steps, is no shift;
    - an EWMA chart (lambda 0.2) started at the baseline mean ends beyond the 3-sigma limit
      built from the baseline's daily standard deviation.

    `z` is in baseline daily standard deviations. Only complete days before `as_of` are used.
    Ordered by segment, then metric.
    """
    chosen = []
    for name in metrics:
        try:
            chosen.append(SegmentMetric(name))
        except ValueError:
            raise UnknownIndicatorError(
                f"Unknown segment metric '{name}'.",
                hint=f"Known metrics: {', '.join(m.value for m in SegmentMetric)}.",
            ) from None
    rates = segment_rates(series, as_of)
    as_of_day = as_of.astimezone(UTC).date()
    recent_start = as_of_day - timedelta(days=recent_days)
    shifts = []
    for segment, frame in rates.groupby(level="segment", sort=True):
        by_day = frame.droplevel("segment")
        for metric in chosen:
            rate = by_day[metric.value].dropna()
            if rate.empty:
                continue
            shift = _shift_of(
                str(segment),
                metric,
                rate,
                recent_start=recent_start,
                as_of_day=as_of_day,
                min_baseline_days=min_baseline_days,
                penalty=penalty,
                min_relative_change=min_relative_change,
            )
            if shift is not None:
                shifts.append(shift)
    return shifts


def affected_customers(
    shift: SegmentShift,
    customer_change: pd.Series,
    segments: pd.Series,
    *,
    min_drop: float = 0.3,
) -> pd.Index:
    """Customers of the shifted segment whose own relative change follows the shift.

    `customer_change` is a per-customer relative change (e.g. transaction frequency, -0.5 =
    halved); a customer counts when it moved in the shift's direction by at least `min_drop`
    (<= -min_drop for a drop, >= +min_drop for a rise). Missing changes never count.

    >>> s = SegmentShift("mass", SegmentMetric.PURCHASES_PER_CUSTOMER, date(2024, 5, 1),
    ...                  1.0, 0.5, -0.5, -4.0, ShiftDirection.DOWN, 56, 10, 0.3)
    >>> change = pd.Series([-0.6, -0.1, -0.9, float("nan")], index=["a", "b", "c", "d"])
    >>> seg = pd.Series(["mass", "mass", "vip", "mass"], index=["a", "b", "c", "d"])
    >>> affected_customers(s, change, seg).tolist()
    ['a']
    """
    in_segment = segments.reindex(customer_change.index).astype(object).eq(shift.segment)
    if shift.direction is ShiftDirection.DOWN:
        moved = customer_change <= -min_drop
    else:
        moved = customer_change >= min_drop
    return customer_change.index[(in_segment & moved.fillna(False)).to_numpy(dtype=bool)]


__all__ = [
    "SegmentMetric",
    "SegmentShift",
    "ShiftDirection",
    "affected_customers",
    "segment_rates",
    "segment_shifts",
    "weekday_factors",
]
