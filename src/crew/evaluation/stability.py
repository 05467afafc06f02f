"""Stability over time: the score's distribution per run and PSI drift of score and indicators."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from crew.evaluation.backtest import Backtest
from crew.evaluation.drift import psi, psi_band


def score_over_time(panel: pd.DataFrame) -> list[dict[str, object]]:
    column = "churn_probability" if "churn_probability" in panel else "rule_churn"
    if column not in panel:
        return []
    out: list[dict[str, object]] = []
    for as_of, group in panel.groupby("as_of"):
        values = group[column].dropna().to_numpy(dtype=float)
        if len(values):
            q = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
            out.append({"as_of": as_of, "score": column, "mean": float(values.mean()),
                        **dict(zip(("p10", "p25", "p50", "p75", "p90"), map(float, q),
                                   strict=True))})  # fmt: skip
    return out


def drift_summary(bt: Backtest, segment_level: frozenset[str]) -> dict[str, object]:
    column = "churn_probability" if "churn_probability" in bt.panel else "rule_churn"
    score = []
    by_instant = {str(k): g[column].to_numpy(dtype=float) for k, g in bt.panel.groupby("as_of")}
    ordered = sorted(by_instant)
    for before, after in itertools.pairwise(ordered):
        value = psi(by_instant[before], by_instant[after])
        score.append({"period": after, "psi": value, "band": psi_band(value)})
    indicators: list[dict[str, object]] = []
    if len(bt.snapshots) > 1:
        names = [c for c in bt.snapshots[0][1].columns if c not in segment_level]
        for name in names:
            series: list[dict[str, object]] = []
            psis: list[float] = []
            for (_, a), (at, b) in zip(bt.snapshots[:-1], bt.snapshots[1:], strict=True):
                if name in a and name in b:
                    value = psi(a[name].to_numpy(dtype=float), b[name].to_numpy(dtype=float))
                    series.append({"period": at, "psi": value})
                    psis.append(value)
            if series:
                worst = max(psis)
                indicators.append({"indicator": name, "max_psi": worst, "band": psi_band(worst),
                                   "last_psi": psis[-1], "series": series})  # fmt: skip
        # Across the whole replay too: first snapshot against the last.
        first, last = bt.snapshots[0][1], bt.snapshots[-1][1]
        for row in indicators:
            name = str(row["indicator"])
            row["overall_psi"] = psi(first[name].to_numpy(dtype=float),
                                     last[name].to_numpy(dtype=float))  # fmt: skip
    return {
        "score": score,
        "score_column": column,
        "indicators": indicators,
        "flagged": [r["indicator"] for r in indicators if r["band"] != "stable"],
        "not_watched": sorted(segment_level),
    }


__all__ = ["drift_summary", "score_over_time"]
