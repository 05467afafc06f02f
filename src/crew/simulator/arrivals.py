"""Arrival times of Poisson streams over customers' active windows, and row buffers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

NEVER = 1e9
"""Time (days) used for 'never': far beyond any period, and safe in arithmetic."""


def cumulative(season: FloatArray) -> FloatArray:
    """Cumulative intensity at day boundaries: `cum[d]` is the mass of days before `d`.

    >>> cumulative(np.array([1.0, 2.0]))
    array([0., 1., 3.])
    """
    return np.concatenate([[0.0], np.cumsum(season)])


def arrival_days(
    rng: np.random.Generator, rate: FloatArray, a: IntArray, b: IntArray, cum: FloatArray
) -> tuple[IntArray, IntArray]:
    """Days of a Poisson stream per customer with intensity `rate * season` on [a, b).

    Returns the customer (position in `rate`) and the day of every arrival.
    """
    width = np.where(b > a, cum[np.maximum(b, a)] - cum[a], 0.0)
    counts = rng.poisson(rate * width)
    who = np.repeat(np.arange(len(rate), dtype=np.int64), counts)
    u = cum[a[who]] + rng.random(len(who)) * width[who]
    day = np.searchsorted(cum, u, side="right") - 1
    return who, np.clip(day, a[who], np.maximum(b[who] - 1, a[who])).astype(np.int64)


def times_of_day(
    rng: np.random.Generator, day: IntArray, hour_weights: Sequence[float]
) -> FloatArray:
    """Times (days) within each `day`, hours drawn from `hour_weights` (24 values)."""
    p = np.asarray(hour_weights, dtype=np.float64)
    hour = np.searchsorted(np.cumsum(p / p.sum()), rng.random(len(day)), side="right")
    hour = np.minimum(hour, 23)
    return day + (hour + rng.random(len(day))) / 24.0


def night_times(rng: np.random.Generator, around: FloatArray) -> FloatArray:
    """Times between 00:00 and 05:00 of the day of each `around` time."""
    return np.floor(around) + rng.uniform(0.0, 5.0 / 24.0, len(around))


def spread(
    rng: np.random.Generator, counts: IntArray, begin: FloatArray, length: FloatArray
) -> tuple[IntArray, FloatArray]:
    """`counts[i]` uniform times in [begin[i], begin[i] + length[i]) for each row i."""
    who = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    return who, begin[who] + rng.random(len(who)) * length[who]


class RowBuffer:
    """Collects rows of one table as column arrays, filling absent columns with defaults."""

    def __init__(self, defaults: dict[str, tuple[type[np.generic], float]]) -> None:
        self._defaults = defaults
        self._parts: dict[str, list[npt.NDArray[np.generic]]] = {k: [] for k in defaults}

    def add(self, **columns: npt.ArrayLike) -> None:
        """Append rows; the length comes from `c` (customer positions), scalars broadcast."""
        n = len(np.asarray(columns["c"]))
        for name, (dtype, default) in self._defaults.items():
            value = columns.get(name, default)
            self._parts[name].append(np.broadcast_to(np.asarray(value, dtype=dtype), (n,)))

    def build(self) -> dict[str, npt.NDArray[Any]]:
        """All rows so far, one array per column."""
        return {
            name: np.concatenate(parts) if parts else np.empty(0, dtype=self._defaults[name][0])
            for name, parts in self._parts.items()
        }
