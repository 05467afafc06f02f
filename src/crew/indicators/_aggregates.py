"""The catalog's aggregates over the values of one window, as the batch's SQL computes them.

`reduce_window` is the online counterpart of `_compile._aggregate_sql`: NULL (None) for an
empty window, sample standard deviation, the least-squares slope per 30 days only with three
answers spread over a month, the mean of ties for the latest value.
"""

from __future__ import annotations

import math

from crew.indicators._compile import MONTH_SECONDS, SLOPE_MIN_POINTS
from crew.indicators._snippets import US_PER_S
from crew.indicators.catalog import Aggregate


def reduce_window(aggregate: Aggregate, ts: list[int], values: list[object], at: int) -> object:
    """One aggregate over the values in a window (None where SQL gives NULL).

    >>> reduce_window(Aggregate.LAST, [1, 5, 5], [2.0, 3.0, 4.0], 9)
    3.5
    """
    if not ts:
        return None
    nums: list[float] = values  # type: ignore[assignment]
    match aggregate:
        case Aggregate.COUNT:
            return len(ts)
        case Aggregate.SUM:
            return sum(nums)
        case Aggregate.AVG:
            return sum(nums) / len(nums)
        case Aggregate.MIN:
            return min(nums)
        case Aggregate.MAX:
            return max(nums)
        case Aggregate.COUNT_DISTINCT:
            return len(set(values))
        case Aggregate.STDDEV:
            return _stddev(nums)
        case Aggregate.SLOPE:
            return _slope([t / US_PER_S / MONTH_SECONDS for t in ts], nums)
        case Aggregate.LAST:
            ties = [v for t, v in zip(ts, nums, strict=True) if t == ts[-1]]
            return sum(ties) / len(ties)
        case Aggregate.DAYS_SINCE_LAST:
            return (at / US_PER_S - ts[-1] / US_PER_S) / 86400.0
    raise AssertionError(f"no online form of {aggregate}")


def _stddev(xs: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    mean = sum(xs) / len(xs)
    return math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


def _slope(xs: list[float], ys: list[float]) -> float | None:
    """regr_slope(y, x) when there are 3 points spread over a month or more (`_compile`)."""
    if len(xs) < SLOPE_MIN_POINTS or max(xs) - min(xs) < 1.0:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


__all__ = ["reduce_window"]
