"""Every figure of a backtest as plain JSON data: what the report shows and CI reads.

The HTML report is drawn from this summary only, so its figures and the JSON next to it are
the same numbers by construction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from crew.evaluation.backtest import LEVEL_RANK, Backtest
from crew.evaluation.cohorts import indicator_cohorts
from crew.evaluation.effect import effect_of_actions
from crew.evaluation.metrics import (
    calibration,
    decile_table,
    ks_curve,
    level_confusion,
    pr_points,
    precision_recall_at_k,
    roc_points,
    score_report,
)
from crew.evaluation.outcomes import WARNED_BY
from crew.evaluation.stability import drift_summary, score_over_time
from crew.evaluation.timeliness import timeliness, warning_volume

SCORES: dict[str, tuple[str, bool]] = {
    "churn_probability": ("ML churn probability", True),
    "risk_index": ("Risk index (combined)", False),
    "fuzzy_index": ("Fuzzy evaluation index", False),
    "rule_churn": ("Rule signals (warning level)", False),
    "recency_days": ("Baseline: days since last purchase", False),
}
"""Churn scores backtested side by side: column -> (name, is a probability)."""
BASELINE = "recency_days"
"""The simple score every other one must beat to earn its place."""


@dataclass(frozen=True)
class Context:
    """What the summary needs besides the backtest itself."""

    every_days: float
    model_version: int | None = None
    model_as_of: datetime | None = None  # the model learnt from outcomes before this
    indicator_labels: Mapping[str, tuple[str, str]] | None = None  # id -> (en, zh)
    directions: Mapping[str, str] | None = None  # id -> higher/lower_is_riskier
    stored_warnings: pd.DataFrame | None = None  # the workspace's own warnings (effect)
    cases: pd.DataFrame | None = (
        None  # the workspace's cases: warning_id, control, steps_done, outcome
    )
    episodes: pd.DataFrame | None = None  # the simulator's ground truth, when there is one
    control_share: float = 0.1
    segment_level: frozenset[str] = frozenset()
    """Indicators with one value per segment: watched by the segment-shift detector, not PSI."""


def summarize(bt: Backtest, ctx: Context) -> dict[str, object]:
    """All sections of the report, as JSON-ready data."""
    done = bt.complete
    summary = _clean(
        {
            "meta": _meta(bt, ctx),
            "scores": _scores_side_by_side(done),
            "discrimination": {
                kind: _discrimination(done, kind) for kind in WARNED_BY if _judgeable(done, kind)
            },
            "by_segment": _by_segment(done),
            "calibration": _calibration(done),
            "levels": {
                kind: level_confusion(_level_names(done[f"rule_{kind}"]), done[f"label_{kind}"])
                for kind in WARNED_BY
                if _judgeable(done, kind)
            },
            "timeliness": timeliness(bt),
            "warnings": warning_volume(bt),
            "score_over_time": score_over_time(bt.panel),
            "drift": drift_summary(bt, ctx.segment_level),
            "cohorts": _cohorts(bt, ctx),
            "effect": _effect(bt, ctx),
            "episodes": _episodes(bt, ctx),
        }
    )
    assert isinstance(summary, dict)
    return summary


def _meta(bt: Backtest, ctx: Context) -> dict[str, object]:
    complete = sorted(set(bt.complete["as_of"])) if len(bt.panel) else []
    leak = ctx.model_as_of is not None and ctx.model_as_of > bt.instants[0]
    return {
        "start": bt.instants[0],
        "end": bt.instants[-1],
        "every_days": ctx.every_days,
        "horizon_days": bt.horizon_days,
        "data_end": bt.data_end,
        "customers": bt.customers,
        "runs": len(bt.instants),
        "judged_runs": len(complete),
        "panel_rows": len(bt.complete),
        "model_version": ctx.model_version,
        "model_as_of": ctx.model_as_of,
        "model_saw_the_period": leak,
        "generated_at": datetime.now().astimezone(),
    }


def _judgeable(panel: pd.DataFrame, kind: str) -> bool:
    labels = panel.get(f"label_{kind}")
    return labels is not None and 0 < int(labels.sum()) < len(labels)


def _oriented(panel: pd.DataFrame, column: str) -> np.ndarray:
    """Scores where higher means riskier (every column is, today)."""
    return panel[column].to_numpy(dtype=float)


def _score_figures(labels: np.ndarray, scores: np.ndarray, probability: bool) -> dict[str, object]:
    """The headline figures of one score (NaN where undefined: one outcome only, ties)."""
    r = score_report(labels, scores, is_probability=probability)
    names = ("n", "positives", "base_rate", "roc_auc", "pr_auc", "ks", "top_decile_lift",
             "top_decile_capture")  # fmt: skip
    figures: dict[str, object] = {name: getattr(r, name) for name in names}
    figures["brier"] = r.calibration["brier"] if probability and r.calibration else None
    return figures


def _scores_side_by_side(panel: pd.DataFrame) -> list[dict[str, object]]:
    if not _judgeable(panel, "churn"):
        return []
    labels = panel["label_churn"].to_numpy(dtype=int)
    out: list[dict[str, object]] = []
    for column, (name, probability) in SCORES.items():
        if column in panel.columns and panel[column].notna().any():
            figures = _score_figures(labels, _oriented(panel, column), probability)
            out.append({"score": column, "name": name, **figures})
    baseline = next((r["roc_auc"] for r in out if r["score"] == BASELINE), None)
    for row in out:
        row["auc_vs_baseline"] = (
            None if baseline is None or row["score"] == BASELINE
            else float(row["roc_auc"]) - float(baseline)  # type: ignore[arg-type]
        )  # fmt: skip
    return out


def _discrimination(panel: pd.DataFrame, kind: str) -> dict[str, object]:
    """Curves, deciles and precision/recall at k of the best available score for `kind`."""
    column = "churn_probability" if kind == "churn" and "churn_probability" in panel else None
    column = column or f"rule_{kind}"
    y = panel[f"label_{kind}"].to_numpy(dtype=int)
    s = _oriented(panel, column)
    ok = ~np.isnan(s)
    y, s = y[ok], s[ok]
    curves: dict[str, dict[str, object]] = {"roc": {}, "pr": {}, "gains": {}}
    candidates = [c for c in SCORES if c in panel] if kind == "churn" else [column]
    for other in candidates:
        values = _oriented(panel, other)[ok]
        if np.isnan(values).any():
            continue
        curves["roc"][other] = roc_points(y, values)
        curves["pr"][other] = pr_points(y, values)
        curves["gains"][other] = [d["cumulative_capture"] for d in decile_table(y, values)]
    n = len(y)
    at = sorted({k for k in (50, 100, 250, 500, 1000, max(n // 100, 1)) if k <= n})
    return {
        "score": column,
        **_score_figures(y, s, column == "churn_probability"),
        "ks_curve": ks_curve(y, s),
        "deciles": decile_table(y, s),
        "at_k": precision_recall_at_k(y, s, at),
        "curves": curves,
    }


def _by_segment(panel: pd.DataFrame) -> list[dict[str, object]]:
    if "segment" not in panel or not _judgeable(panel, "churn"):
        return []
    column = "churn_probability" if "churn_probability" in panel else "rule_churn"
    out: list[dict[str, object]] = []
    for segment, group in panel.groupby("segment", dropna=True):
        if _judgeable(group, "churn") and len(group) >= 50:
            y = group["label_churn"].to_numpy(dtype=int)
            out.append({"segment": str(segment), **_score_figures(y, _oriented(group, column),
                                                                  False)})  # fmt: skip
    return out


def _calibration(panel: pd.DataFrame) -> dict[str, object] | None:
    if "churn_probability" not in panel or not _judgeable(panel, "churn"):
        return None
    return calibration(panel["label_churn"].to_numpy(dtype=int),
                       panel["churn_probability"].to_numpy(dtype=float))  # fmt: skip


def _level_names(ranks: pd.Series) -> list[str]:
    names = {v: k for k, v in LEVEL_RANK.items()}
    return [names[int(r)] for r in ranks]


def _effect(bt: Backtest, ctx: Context) -> dict[str, object]:
    """Treated vs control: the workspace's own warnings when some are judged, else the replay's."""
    horizon = timedelta(days=bt.horizon_days)
    sources = [("replay", bt.warnings)]
    if ctx.stored_warnings is not None and len(ctx.stored_warnings):
        sources.insert(0, ("workspace", ctx.stored_warnings))
    result: dict[str, object] = {}
    for source, warnings in sources:
        # Cases belong to the workspace's own warnings, never to the replay's.
        cases = ctx.cases if source == "workspace" else None
        result = effect_of_actions(warnings, bt.outcomes, bt.panel, horizon=horizon,
                                   data_end=bt.data_end, control_share=ctx.control_share,
                                   source=source, cases=cases)  # fmt: skip
        if result.get("uplift") is not None:
            break
    if ctx.cases is not None and len(ctx.cases):
        result["cases"] = _case_outcomes(ctx.cases)
    return result


def _case_outcomes(cases: pd.DataFrame) -> dict[str, object]:
    """What the response team did and recorded, treated vs control (from `crew cases`)."""
    out: dict[str, object] = {}
    for group, mine in (
        ("treated", cases[~cases["control"]]),
        ("control", cases[cases["control"]]),
    ):
        outcomes = mine["outcome"].dropna().value_counts()
        out[group] = {
            "cases": len(mine),
            "acted": int((mine["steps_done"] > 0).sum()),
            "closed": int(mine["outcome"].notna().sum()),
            "outcomes": {str(k): int(v) for k, v in outcomes.items()},
        }
    return out


def _cohorts(bt: Backtest, ctx: Context) -> list[dict[str, object]]:
    """Churn rate by decile of each indicator, pooled over the judged snapshots."""
    if not _judgeable(bt.complete, "churn"):
        return []
    labels = bt.complete.set_index(["as_of", "customer_id"])["label_churn"]
    frames = []
    for at, values in bt.snapshots:
        if at + timedelta(days=bt.horizon_days) <= bt.data_end:
            frame = values.copy()
            frame.index = pd.MultiIndex.from_product([[at], values.index.astype(str)],
                                                     names=["as_of", "customer_id"])  # fmt: skip
            frames.append(frame)
    if not frames:
        return []
    pooled = pd.concat(frames).join(labels, how="inner")
    out: list[dict[str, object]] = []
    for name in [c for c in pooled.columns if c != "label_churn"]:
        table = indicator_cohorts(pooled[name], pooled["label_churn"])
        direction = (ctx.directions or {}).get(name, "neutral")
        label = (ctx.indicator_labels or {}).get(name, (name, name))
        agrees = _agrees(table.monotonicity, direction)
        out.append({"indicator": name, "label_en": label[0], "label_zh": label[1],
                    "direction": direction, "rho": table.monotonicity, "agrees": agrees,
                    "bins": table.bins})  # fmt: skip
    return out


def _agrees(rho: float | None, direction: str) -> bool:
    if rho is None or math.isnan(rho) or abs(rho) < 0.3:
        return True  # too flat to contradict anything
    if direction == "higher_is_riskier":
        return rho > 0
    if direction == "lower_is_riskier":
        return rho < 0
    return True


def _episodes(bt: Backtest, ctx: Context) -> dict[str, object] | None:
    if ctx.episodes is None or ctx.episodes.empty:
        return None
    from crew.evaluation.episodes import check_episodes

    check = check_episodes(bt.warnings, ctx.episodes, bt.outcomes, start=bt.instants[0],
                           end=bt.instants[-1], customers=bt.customers)  # fmt: skip
    return {
        "by_type": [
            {"risk_type": f.risk_type, "episodes": f.episodes, "caught": f.caught,
             "recall": f.recall, "median_lead_days": f.median_lead_days}
            for f in check.by_type
        ],
        "false_alarms_per_1000_per_week": check.false_alarms_per_1000_per_week,
        "shock_found_after_days": check.shock_found_after_days,
    }  # fmt: skip


def _clean(value: object) -> object:
    """JSON-ready: timestamps as ISO text, NaN as None, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if hasattr(value, "as_dict"):
        return _clean(value.as_dict())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


__all__ = ["SCORES", "Context", "summarize"]
