"""Population stability: has the population behind a score or an indicator moved?

PSI = sum_i (a_i - e_i) * ln(a_i / e_i) over bins cut at the quantiles of the earlier
(expected) sample; each distinct value is its own bin (cut halfway to the next) when there are
no more than `bins` of them; text or categorical columns get a bin per label. Shares are
floored at `FLOOR` so that an empty bin adds a large but finite term.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.types import is_numeric_dtype

FLOOR = 1e-4
Band = Literal["stable", "moderate", "shift"]


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, bins: int = 10) -> float:
    """Population stability index of `actual` against `expected` (NaNs ignored).

    >>> round(psi([0, 0, 1, 1], [0, 1, 1, 1]), 4)
    0.2747
    >>> psi([5, 5, 5], [5, 5])
    0.0
    >>> round(psi(["mass", "mass", "key"], ["mass", "key", "key"]), 4)
    0.4621
    """
    e_series, a_series = pd.Series(expected).infer_objects(), pd.Series(actual).infer_objects()
    if not (is_numeric_dtype(e_series) and is_numeric_dtype(a_series)):
        return _psi_of_labels(e_series, a_series)
    e = e_series.to_numpy(dtype=float, na_value=np.nan)
    a = a_series.to_numpy(dtype=float, na_value=np.nan)
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
    return _psi_of_shares(np.histogram(e, edges)[0] / len(e), np.histogram(a, edges)[0] / len(a))


def _psi_of_labels(expected: pd.Series, actual: pd.Series) -> float:
    """PSI with one bin per distinct label (text, categories), NaNs ignored."""
    e = expected.dropna().astype(str).value_counts(normalize=True)
    a = actual.dropna().astype(str).value_counts(normalize=True)
    if not len(e) or not len(a):
        return math.nan
    e, a = e.align(a, fill_value=0.0)
    return _psi_of_shares(e.to_numpy(dtype=float), a.to_numpy(dtype=float))


def _psi_of_shares(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    # Bins empty on both sides add nothing; a bin empty on one side only is floored.
    e, a = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    used = (e > 0) | (a > 0)
    e, a = np.maximum(e[used], FLOOR), np.maximum(a[used], FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_band(value: float | None) -> Band:
    """The usual reading of a PSI: stable below 0.1, moderate to 0.25, a shift above.

    >>> psi_band(0.05), psi_band(0.1), psi_band(0.3)
    ('stable', 'moderate', 'shift')
    """
    if value is None or np.isnan(value) or value < 0.1:
        return "stable"
    return "moderate" if value < 0.25 else "shift"


def psi_table(
    previous: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str] | None = None,
    bins: int = 10,
) -> pd.DataFrame:
    """PSI and band of each column from `previous` to `current`, one row per column.

    `columns` defaults to those the two frames share. The band is None where the PSI is NaN
    (a column empty on one side), so that nothing unmeasured reads as "stable".

    >>> before = pd.DataFrame({"x": [0, 0, 1, 1], "y": [1, 2, 3, 4]})
    >>> psi_table(before, before.assign(x=[0, 1, 1, 1])).round(4).to_dict("records")
    [{'column': 'x', 'psi': 0.2747, 'band': 'shift'}, {'column': 'y', 'psi': 0.0, 'band': 'stable'}]
    """
    if columns is None:
        columns = [c for c in previous.columns if c in current.columns]
    absent = [c for c in columns if c not in previous.columns or c not in current.columns]
    if absent:
        raise KeyError(f"columns missing from one of the frames: {absent}")
    values = [psi(previous[column], current[column], bins) for column in columns]
    bands = [None if math.isnan(v) else psi_band(v) for v in values]
    return pd.DataFrame(
        {
            "column": pd.Series(list(columns), dtype=object),
            "psi": pd.Series(values, dtype=float),
            "band": pd.Series(bands, dtype=object),
        }
    )


def psi_over_time(
    frames: Sequence[tuple[datetime, pd.DataFrame]],
    columns: Sequence[str] | None = None,
    bins: int = 10,
) -> pd.DataFrame:
    """PSI of each column between consecutive periods, as a long frame (period, column, psi, band).

    Frames are put in time order first; `period` is the later of each pair. `columns`
    defaults to those each pair shares.
    """
    ordered = sorted(frames, key=lambda pair: pair[0])
    parts = [
        psi_table(before, after, columns, bins).assign(period=at)
        for (_, before), (at, after) in itertools.pairwise(ordered)
    ]
    names = ["period", "column", "psi", "band"]
    if not parts:
        return pd.DataFrame(columns=names)
    return pd.concat(parts, ignore_index=True)[names]


__all__ = ["FLOOR", "Band", "psi", "psi_band", "psi_over_time", "psi_table"]
