"""Metric cohort tables: the outcome rate by decile of an indicator, with its uncertainty.

The classic check that an indicator means what it claims: if `complaint_count_30d` points to
churn, the churn rate should climb from its lowest decile to its highest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy.stats import spearmanr

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% by default); (0, 0) when n is 0.

    >>> tuple(round(v, 4) for v in wilson_interval(5, 50))
    (0.0435, 0.2136)
    """
    if n == 0:
        return 0.0, 0.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class CohortTable:
    """Outcome rate per bin of one indicator, lowest values first; missing values last."""

    bins: list[dict[str, object]]
    monotonicity: float | None  # Spearman rho of bin order against rate


def indicator_cohorts(values: pd.Series, labels: pd.Series, bins: int = 10) -> CohortTable:
    """Outcome rate, count and 95% Wilson interval per decile of `values`.

    Deciles are cut on ranks, so ties and few distinct values still give ordered bins
    (fewer than `bins` when there are fewer distinct values); NaNs form a "missing" bin.
    """
    frame = pd.DataFrame({"x": values.to_numpy(dtype=float), "y": labels.to_numpy(dtype=int)})
    known = frame[frame["x"].notna()]
    rows: list[dict[str, object]] = []
    if len(known):
        codes = pd.qcut(known["x"].rank(method="dense"), bins, labels=False, duplicates="drop")
        for _, group in known.groupby(codes, sort=True):
            rows.append(_row(group, missing=False))
    missing = frame[frame["x"].isna()]
    if len(missing):
        rows.append(_row(missing, missing=True))
    ordered = [r for r in rows if not r["missing"]]
    rho = None
    if len(ordered) >= 3 and len({r["rate"] for r in ordered}) > 1:
        rho = float(spearmanr(range(len(ordered)), [r["rate"] for r in ordered]).statistic)
    return CohortTable(rows, rho)


def _row(group: pd.DataFrame, *, missing: bool) -> dict[str, object]:
    n, hits = len(group), int(group["y"].sum())
    low, high = wilson_interval(hits, n)
    x = group["x"]
    return {
        "missing": missing,
        "low": None if missing else float(x.min()),
        "high": None if missing else float(x.max()),
        "count": n,
        "positives": hits,
        "rate": hits / n,
        "ci_low": low,
        "ci_high": high,
    }


__all__ = ["CohortTable", "indicator_cohorts", "wilson_interval"]
