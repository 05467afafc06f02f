"""Scores to levels: limits per run, hysteresis, and one level per customer and risk type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from crew.grading.calibration import level_cutoffs
from crew.grading.thresholds import LEVELS, Method, ThresholdRule
from crew.signals.detect import SignalScores
from crew.types import Level

Codes = npt.NDArray[np.int8]
CODE_LEVEL = (Level.NONE, Level.LOW, Level.MEDIUM, Level.HIGH)
LEVEL_CODE = {level: code for code, level in enumerate(CODE_LEVEL)}


@dataclass(frozen=True)
class Limits:
    """Resolved limits of one signal in one run: enter and (lower) exit limits per level."""

    enter: tuple[float, float, float]  # NaN where the rule gives no such level
    exit: tuple[float, float, float]


def resolve_limits(
    rule: ThresholdRule,
    scores: npt.ArrayLike,
    *,
    value: npt.ArrayLike | None = None,
    days: float = 7.0,
) -> Limits:
    """The rule's limits for this run's `scores` (statistical and capacity rules need them).

    >>> rule = ThresholdRule(signal="s", method="k_sigma", medium_at=2, high_at=3)
    >>> limits = resolve_limits(rule, [0.0, 1.0, 2.0, 3.0, 4.0])
    >>> [round(v, 2) for v in limits.enter], [round(v, 2) for v in limits.exit]
    ([nan, 4.83, 6.24], [nan, 4.26, 5.39])
    """
    x = np.asarray(scores, dtype=float)
    x = x[np.isfinite(x)]
    raw = np.array([np.nan if v is None else v for v in rule.limits], dtype=float)
    keep = rule.exit_factor
    if rule.method == Method.FIXED:
        enter = raw
        exit_ = raw - (1 - keep) * np.abs(raw)
    elif rule.method == Method.K_SIGMA:
        mean, sd = (float(x.mean()), float(x.std())) if len(x) else (np.nan, np.nan)
        enter, exit_ = mean + raw * sd, mean + raw * keep * sd
    elif rule.method == Method.QUANTILE:
        if len(x) == 0:
            enter = exit_ = np.full(3, np.nan)
        else:
            enter = np.where(np.isnan(raw), np.nan, np.quantile(x, np.nan_to_num(raw)))
            q_exit = 1 - (1 - np.nan_to_num(raw)) / keep
            exit_ = np.where(np.isnan(raw), np.nan, np.quantile(x, np.clip(q_exit, 0, 1)))
    else:
        enter = _capacity_limits(rule, scores, value, days)
        exit_ = enter * keep
    return Limits(_triple(enter), _triple(exit_))


def _capacity_limits(
    rule: ThresholdRule, scores: npt.ArrayLike, value: npt.ArrayLike | None, days: float
) -> npt.NDArray[np.float64]:
    p = np.asarray(scores, dtype=float)
    v = np.ones_like(p) if value is None else np.nan_to_num(np.asarray(value, dtype=float), nan=1.0)
    ok = np.isfinite(p)
    cuts = level_cutoffs(
        p[ok],
        v[ok],
        None,
        capacity_per_day=float(rule.capacity_per_day or 1.0),
        days=days,
        save_rate=rule.save_rate,
        action_cost=rule.action_cost,
    )
    return np.array([_cut(cuts.get(level)) for level in LEVELS], dtype=float)


def _cut(suggestion: object) -> float:
    value = getattr(suggestion, "min_probability", None)
    return np.nan if value is None or getattr(suggestion, "alerts", 0) == 0 else float(value)


def _triple(values: npt.ArrayLike) -> tuple[float, float, float]:
    a = [float(v) for v in np.asarray(values, dtype=float)]
    return (a[0], a[1], a[2])


def level_codes(scores: npt.ArrayLike, limits: tuple[float, float, float]) -> Codes:
    """0 (none) to 3 (high): the highest level whose limit the score reaches.

    >>> level_codes([0.5, 2.0, 3.5, 9.0, float("nan")], (1.0, 3.0, 5.0)).tolist()
    [0, 1, 2, 3, 0]
    """
    x = np.asarray(scores, dtype=float)
    code = np.zeros(x.shape, dtype=np.int8)
    for k, limit in enumerate(limits, start=1):
        if not np.isnan(limit):
            code = np.where(x >= limit, np.int8(k), code).astype(np.int8)
    return code


def next_level(enter: Codes, exit_: Codes, previous: Codes) -> Codes:
    """Hysteresis: rise as soon as an enter limit is reached, fall only below an exit limit.

    >>> next_level(np.array([0, 1, 0]), np.array([1, 1, 0]), np.array([2, 0, 3])).tolist()
    [1, 1, 0]
    """
    return np.maximum(enter, np.minimum(previous, exit_)).astype(np.int8)


def level_for(value: float, rule: ThresholdRule) -> Level:
    """Level that a score earns under a fixed `rule`; the higher limit wins.

    >>> level_for(3, ThresholdRule(signal="complaint_surge", medium_at=2, high_at=5))
    <Level.MEDIUM: 'medium'>
    """
    limits = resolve_limits(rule, [value])
    return CODE_LEVEL[int(level_codes([value], limits.enter)[0])]


@dataclass(frozen=True)
class Graded:
    """Warnings of one run: one row per customer and risk type with a level above none."""

    rows: (
        pd.DataFrame
    )  # customer_id, risk_type, level, score, leading_signal, signals, cooldown_days
    limits: dict[str, Limits]


def grade(
    signals: SignalScores,
    rules: Mapping[str, ThresholdRule],
    previous: pd.DataFrame,
    *,
    value: pd.Series | None = None,
    days: float = 7.0,
) -> Graded:
    """Level per customer and risk type: the highest signal level, with hysteresis.

    `previous` holds the active warnings (customer_id, risk_type, level); their level is
    kept until every signal of the type falls below its exit limit.
    """
    scores = signals.scores
    index = scores.index
    graded = [name for name in scores.columns if name in rules]
    limits = {
        name: resolve_limits(
            rules[name],
            scores[name].to_numpy(dtype=float),
            value=None if value is None else value.reindex(index).to_numpy(dtype=float),
            days=days,
        )
        for name in graded
    }
    frames = []
    by_type: dict[str, list[str]] = {}
    for name in graded:
        by_type.setdefault(signals.specs[name].risk_type.value, []).append(name)
    for risk_type, names in by_type.items():
        values = scores[names].to_numpy(dtype=float)
        enter = np.stack([level_codes(values[:, j], limits[n].enter) for j, n in enumerate(names)])
        exit_ = np.stack([level_codes(values[:, j], limits[n].exit) for j, n in enumerate(names)])
        prev = _previous_codes(previous, risk_type, index)
        level = next_level(enter.max(axis=0), exit_.max(axis=0), prev)
        rows = np.flatnonzero(level > 0)
        if len(rows) == 0:
            continue
        # The leading signal: highest level, then largest margin over its own limit.
        margin = np.stack(
            [_margin(values[rows, j], limits[n]) for j, n in enumerate(names)], axis=1
        )
        key = np.maximum(enter, exit_)[:, rows].T * 1000.0 + np.nan_to_num(margin, nan=-1.0)
        lead = np.argmax(key, axis=1)
        # Signals listed: those at an enter limit; while held by hysteresis, the leading one.
        firing = enter[:, rows].T > 0
        firing[np.arange(len(rows)), lead] = True
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": index[rows],
                    "risk_type": risk_type,
                    "level": [CODE_LEVEL[c].value for c in level[rows]],
                    "score": values[rows, lead],
                    "leading_signal": [names[j] for j in lead],
                    "signals": [
                        [n for n, f in zip(names, row, strict=True) if f] for row in firing
                    ],
                    "cooldown_days": [
                        max(rules[n].cooldown_days for n in names if n in rules) for _ in rows
                    ],
                }
            )
        )
    columns = ["customer_id", "risk_type", "level", "score", "leading_signal", "signals",
               "cooldown_days"]  # fmt: skip
    rows_frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return Graded(rows_frame, limits)


def _margin(values: npt.NDArray[np.float64], limits: Limits) -> npt.NDArray[np.float64]:
    first = next((v for v in limits.enter if not np.isnan(v)), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(values / abs(first) if first else values, dtype=np.float64)


def _previous_codes(previous: pd.DataFrame, risk_type: str, index: pd.Index) -> Codes:
    codes = np.zeros(len(index), dtype=np.int8)
    if previous.empty:
        return codes
    mine = previous[(previous["risk_type"] == risk_type) & previous["customer_id"].notna()]
    position = index.get_indexer(pd.Index(mine["customer_id"]))
    found = position >= 0
    codes[position[found]] = [LEVEL_CODE[Level(v)] for v in mine["level"].to_numpy()[found]]
    return codes


__all__ = [
    "CODE_LEVEL",
    "LEVEL_CODE",
    "Graded",
    "Limits",
    "grade",
    "level_codes",
    "level_for",
    "next_level",
    "resolve_limits",
]
