"""Multivariate anomaly (多维行为异常): an Isolation Forest per segment, with the reasons.

A customer whose indicators are each unremarkable can still be unusual as a whole; an
Isolation Forest finds such customers by how quickly random splits isolate them. Each segment
gets its own forest, so "unusual" means unusual among comparable customers.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import IsolationForest

from crew.errors import UnknownIndicatorError

FloatArray = npt.NDArray[np.float64]

POOLED_GROUP = "other"
"""Peer group of the customers whose own segment is too small for a model of its own."""

UNKNOWN_SEGMENT = "unknown"
"""Segment of customers that `segments` does not name (as in `segment_daily_series`)."""

RESULT_COLUMNS = ("score", "isolation", "peer_group", "top_indicators")

# Consistency constants: they turn an IQR and a mean absolute deviation into a standard
# deviation for normal data, so a robust z of 6 reads as "six sigma".
_IQR_TO_SIGMA = 1.349
_MEAN_ABS_DEV_TO_SIGMA = 1.2533


def robust_scale(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Column medians and robust spreads of a 2-D array, NaN ignored; spread 0 = constant.

    The spread is IQR / 1.349; a column whose IQR is 0 but that is not constant (mostly zeros,
    e.g. complaint counts) falls back to 1.2533 x the mean absolute deviation from the median.

    >>> med, spread = robust_scale(np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0]]))
    >>> med.tolist(), [round(s, 3) for s in spread.tolist()]
    ([2.5, 5.0], [1.112, 0.0])
    """
    n, width = values.shape
    median, spread = np.full(width, np.nan), np.zeros(width)
    seen = ~np.isnan(values).all(axis=0) if n else np.zeros(width, dtype=bool)
    if not seen.any():
        return median, spread
    # nanpercentile warns on all-NaN columns, so those are left out (a copy, rarely needed).
    cols = values if seen.all() else values[:, seen]
    q25, mid, q75 = np.nanpercentile(cols, [25, 50, 75], axis=0)
    by_iqr = (q75 - q25) / _IQR_TO_SIGMA
    for j in np.flatnonzero(by_iqr <= 0):
        by_iqr[j] = np.nanmean(np.abs(cols[:, j] - mid[j])) * _MEAN_ABS_DEV_TO_SIGMA
    median[seen], spread[seen] = mid, by_iqr
    return median, spread


def peer_groups(segments: pd.Series, *, min_segment_size: int) -> pd.Series:
    """Each customer's model group: the own segment, or `POOLED_GROUP` when it is too small.

    >>> s = pd.Series(["a", "a", "a", "b"], index=["c1", "c2", "c3", "c4"])
    >>> peer_groups(s, min_segment_size=2).tolist()
    ['a', 'a', 'a', 'other']
    """
    names = segments.astype("string").fillna(UNKNOWN_SEGMENT).astype(object)
    sizes = names.map(names.value_counts())
    return names.where(sizes >= min_segment_size, POOLED_GROUP)


def percentile_within(anomaly: FloatArray) -> FloatArray:
    """Share of the other customers of the group that are strictly less anomalous.

    The most anomalous customer scores 1, the least 0; ties share the lower value. A group of
    one customer has no peers and scores NaN.

    >>> percentile_within(np.array([0.4, 0.9, 0.5, 0.5])).tolist()
    [0.0, 1.0, 0.3333333333333333, 0.3333333333333333]
    """
    n = anomaly.shape[0]
    if n < 2:
        return np.full(n, np.nan)
    below = np.searchsorted(np.sort(anomaly), anomaly, side="left")
    return np.asarray(below / (n - 1), dtype=np.float64)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small dicts are built.

    The objects form no cycles, but each allocation burst would trigger full collections
    that walk all of them, which doubles the cost at a million customers.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _top_indicators(
    raw: FloatArray, z: FloatArray, median: FloatArray, names: Sequence[str], top: int
) -> list[list[dict[str, object]]]:
    """Per row, up to `top` indicators with the largest |robust z|, largest first.

    Imputed cells have z = 0 exactly, so like values at the median they are never a reason.
    """
    n, width = z.shape
    k = min(top, width)
    if n == 0 or k == 0:
        return [[] for _ in range(n)]
    strength = np.abs(z).astype(np.float32)
    part = np.argpartition(strength, width - k, axis=1)[:, width - k :] if k < width else None
    if part is None:
        part = np.broadcast_to(np.arange(width), (n, width))
    order = np.argsort(-np.take_along_axis(strength, part, axis=1), axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1)
    keep = np.take_along_axis(strength, idx, axis=1) > 0
    flat = idx.ravel()
    rows = np.repeat(np.arange(n), k)
    # One flat comprehension, then slicing: far cheaper than n small inner loops.
    every = [
        {"indicator": a, "value": b, "segment_median": c, "robust_z": d}
        for a, b, c, d in zip(
            np.asarray(list(names), dtype=object)[flat].tolist(),
            raw[rows, flat].tolist(),
            median[flat].tolist(),
            z[rows, flat].tolist(),
            strict=True,
        )
    ]
    it = iter(every)
    grouped = [list(t) for t in zip(*([it] * k), strict=True)]
    for i in np.flatnonzero(~keep.all(axis=1)).tolist():
        grouped[i] = [d for d, ok in zip(grouped[i], keep[i].tolist(), strict=True) if ok]
    return grouped


def _score_group(
    raw: FloatArray, names: Sequence[str], *, seed: int, top: int
) -> tuple[FloatArray, FloatArray, list[list[dict[str, object]]]]:
    """Percentile score, raw isolation score and reasons for the customers of one group."""
    median, spread = robust_scale(raw)
    kept = np.flatnonzero(spread > 0)
    n = raw.shape[0]
    if kept.size == 0 or n < 2:
        return np.full(n, np.nan), np.full(n, np.nan), [[] for _ in range(n)]
    sub = raw if kept.size == raw.shape[1] else raw[:, kept]
    # Missing values take the group median (z = 0): they neither isolate a customer nor
    # become a reason.
    z = sub - median[kept]
    z /= spread[kept]
    z[np.isnan(z)] = 0.0
    z32 = z.astype(np.float32)
    forest = IsolationForest(n_estimators=100, max_samples=min(256, n), random_state=seed, n_jobs=1)
    isolation = -np.asarray(forest.fit(z32).score_samples(z32), dtype=np.float64)
    with _gc_paused():
        reasons = _top_indicators(sub, z, median[kept], [names[i] for i in kept.tolist()], top)
    return percentile_within(isolation), isolation, reasons


def isolation_signal(
    features: pd.DataFrame,
    segments: pd.Series,
    *,
    columns: Sequence[str],
    min_segment_size: int = 200,
    seed: int = 0,
    top: int = 3,
) -> pd.DataFrame:
    """Multivariate anomaly score per customer against the customer's own segment.

        One Isolation Forest (100 trees of 256 samples) per segment; segments with fewer than
        `min_segment_size` customers are pooled into one `"other"` group (a segment that is itself
    called "other" shares that model). Customers missing from
        `segments` belong to segment `"unknown"`. Within a group each column is robust-scaled,
        z = (x - median) / spread (spread = IQR / 1.349, or 1.2533 x the mean absolute deviation
        when the IQR is 0); constant columns are dropped; NaN values are imputed with the group
        median, so a missing value never makes a customer anomalous nor becomes a reason.

        Returns, indexed like `features`:

        - `score`: a percentile in [0, 1], the share of the other customers of the peer group whose
          isolation score is strictly lower (less anomalous); 0.99 = more anomalous than 99% of
          the peers. NaN for a group of one customer or with no varying column.
        - `isolation`: the forest's raw anomaly score (``-score_samples``), comparable across
          groups: about 0.5 is ordinary, close to 1 is isolated at once.
        - `peer_group`: the segment whose model scored the customer, or `"other"`.
        - `top_indicators`: up to `top` dicts ``{"indicator", "value", "segment_median",
          "robust_z"}`` ordered by |robust_z|, largest first; missing values and values at the
          median are left out.
    """
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise UnknownIndicatorError(
            f"Unknown indicator column(s) {missing} for the multivariate signal.",
            hint=f"Available columns: {', '.join(map(str, features.columns))}.",
        )
    names = list(columns)
    groups = peer_groups(segments.reindex(features.index), min_segment_size=min_segment_size)
    raw_all = features[names].to_numpy(dtype=np.float64, na_value=np.nan)
    codes, uniques = pd.factorize(groups, sort=True)
    # Rows sorted by group, scored group by group, then put back in the input order.
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    parts = [
        _score_group(raw_all[order[a:b]], names, seed=seed, top=top)
        for a, b in itertools.pairwise(bounds.tolist())
    ]
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    score = np.concatenate([p[0] for p in parts] or [np.empty(0)])[back]
    isolation = np.concatenate([p[1] for p in parts] or [np.empty(0)])[back]
    with _gc_paused():
        sorted_reasons = [r for p in parts for r in p[2]]
        reasons = [sorted_reasons[i] for i in back.tolist()]
    return pd.DataFrame(
        {
            "score": score,
            "isolation": isolation,
            "peer_group": groups.to_numpy(dtype=object),
            "top_indicators": reasons,
        },
        index=features.index,
    )


__all__ = [
    "POOLED_GROUP",
    "RESULT_COLUMNS",
    "UNKNOWN_SEGMENT",
    "isolation_signal",
    "peer_groups",
    "percentile_within",
    "robust_scale",
]
