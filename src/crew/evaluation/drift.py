"""Population stability: has the population behind a score or an indicator moved?

PSI = sum_i (a_i - e_i) * ln(a_i / e_i) over bins cut at the quantiles of the earlier
(expected) sample; each distinct value is its own bin (cut halfway to the next) when there are
no more than `bins` of them. Shares are floored at `FLOOR` so that an empty bin adds a large
but finite term.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

FLOOR = 1e-4
Band = Literal["stable", "moderate", "shift"]


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, bins: int = 10) -> float:
    """Population stability index of `actual` against `expected` (NaNs ignored).

    >>> round(psi([0, 0, 1, 1], [0, 1, 1, 1]), 4)
    0.2747
    >>> psi([5, 5, 5], [5, 5])
    0.0
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    e, a = e[~np.isnan(e)], a[~np.isnan(a)]
    if not len(e) or not len(a):
        return float("nan")
    distinct = np.unique(e)
    if len(distinct) <= bins:
        # Few values: each its own bin, cut halfway to the next, so that a value unseen before
        # lands beside its nearest neighbour instead of in a bin of its own.
        inner = (distinct[:-1] + distinct[1:]) / 2
    else:
        inner = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    e_counts = np.histogram(e, edges)[0].astype(float)
    a_counts = np.histogram(a, edges)[0].astype(float)
    e_share = np.maximum(e_counts / len(e), FLOOR)
    a_share = np.maximum(a_counts / len(a), FLOOR)
    used = (e_counts > 0) | (a_counts > 0)
    return float(np.sum((a_share - e_share)[used] * np.log(a_share[used] / e_share[used])))


def psi_band(value: float | None) -> Band:
    """The usual reading of a PSI: stable below 0.1, moderate to 0.25, a shift above.

    >>> psi_band(0.05), psi_band(0.1), psi_band(0.3)
    ('stable', 'moderate', 'shift')
    """
    if value is None or np.isnan(value) or value < 0.1:
        return "stable"
    return "moderate" if value < 0.25 else "shift"


__all__ = ["FLOOR", "Band", "psi", "psi_band"]
