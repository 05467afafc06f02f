"""Run every signal over one instant: a score per customer and signal, with its evidence."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crew.errors import ConfigError
from crew.indicators.catalog import Catalog, Direction
from crew.signals.baseline import (
    baseline_of,
    cusum_drop,
    ewma_drop,
    poisson_drop_z,
    poisson_spike_z,
    robust_z,
    step_drop,
)
from crew.signals.fade import FadeEvidence, fade_evidence, population_dispersion
from crew.signals.specs import Detector, SignalSpec, Statistic
from crew.signals.surge import exponential_surge
from crew.store.series import WeeklySeries

_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Name, ast.Load, ast.Constant,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd, ast.Gt, ast.GtE, ast.Lt, ast.LtE,
    ast.Eq, ast.NotEq, ast.BoolOp, ast.And, ast.Or, ast.BitAnd, ast.BitOr,
)  # fmt: skip


@dataclass(frozen=True)
class SignalScores:
    """Scores (customers x signals, NaN = not judged) and per-signal evidence columns."""

    scores: pd.DataFrame
    evidence: dict[str, pd.DataFrame] = field(default_factory=dict)
    specs: dict[str, SignalSpec] = field(default_factory=dict)

    def evidence_for(self, signal: str, customer_id: str) -> dict[str, object]:
        """The evidence of one customer's signal as plain JSON-able values."""
        frame = self.evidence.get(signal)
        if frame is None or customer_id not in frame.index:
            return {}
        row = frame.loc[customer_id]
        return {str(k): _plain(v) for k, v in row.items()}


def detect_signals(
    specs: Sequence[SignalSpec],
    features: pd.DataFrame,
    series: WeeklySeries | None,
    catalog: Catalog,
    *,
    probability: pd.Series | None = None,
    seed: int = 0,
) -> SignalScores:
    """Score every signal of `specs` for every customer of `features` (index customer_id)."""
    index = features.index
    scores: dict[str, pd.Series] = {}
    evidence: dict[str, pd.DataFrame] = {}
    # Confirmed signals read the others' scores: they come last.
    ordered = sorted(specs, key=lambda s: s.detector == Detector.CONFIRMED)
    for spec in ordered:
        match spec.detector:
            case Detector.SERIES_DROP | Detector.SERIES_SPIKE | Detector.SURGE:
                if series is None:
                    continue
                segments = features["segment"] if "segment" in features.columns else None
                score, shown = _series_signal(spec, series, index, segments)
            case Detector.INDICATOR:
                score, shown = _indicator_signal(spec, features)
            case Detector.QUADRANT:
                score, shown = _quadrant_signal(spec, features, catalog)
            case Detector.MODEL:
                if probability is None:
                    continue
                score = probability.reindex(index).astype(float)
                shown = pd.DataFrame({"churn_probability": score.round(4)}, index=index)
            case Detector.ISOLATION:
                score, shown = _isolation_signal(features, catalog, seed)
            case Detector.CONFIRMED:
                if str(spec.signal) not in scores or str(spec.confirm) not in scores:
                    _check_known(spec, {s.name for s in specs})
                    continue
                score, shown = _confirmed_signal(spec, scores, evidence)
        if spec.evidence:
            extra = features.reindex(columns=[e for e in spec.evidence if e not in shown.columns])
            shown = shown.join(extra)
        scores[spec.name] = score
        evidence[spec.name] = shown
    frame = pd.DataFrame(scores, index=index)
    return SignalScores(frame, evidence, {s.name: s for s in specs if s.name in scores})


def _series_signal(
    spec: SignalSpec, series: WeeklySeries, index: pd.Index, segments: pd.Series | None
) -> tuple[pd.Series, pd.DataFrame]:
    order = pd.Index(series.customer_ids).get_indexer(index)
    known = order >= 0
    values = series.measure(str(spec.measure))[np.where(known, order, 0)]
    observed = series.observed[np.where(known, order, 0)] & known[:, None]
    if spec.detector == Detector.SURGE:
        counts = values[:, -spec.recent_weeks :]
        fit = exponential_surge(counts, min_total=spec.min_total)
        score = np.where(fit.fitted, fit.z, np.nan)
        shown = pd.DataFrame(
            {
                # Lists only where a surge was judged: a million small lists cost seconds.
                "weekly_counts": [
                    list(map(int, row)) if ok else None
                    for row, ok in zip(counts, fit.fitted, strict=True)
                ],
                "growth_per_week": np.round(fit.growth_per_week, 3),
                "events": fit.total,
            },
            index=index,
        )
        return pd.Series(score, index=index), shown
    if spec.statistic == Statistic.STEP:
        return _step_signal(spec, values, observed, index, segments)
    if spec.statistic == Statistic.FADE:
        return _fade_signal(spec, values, observed, index, segments)
    is_count = spec.measure != "spend"
    b = baseline_of(values, observed, spec.recent_weeks, counts=is_count)
    judged = b.has_history(min_weeks=spec.min_history_weeks, min_total=spec.min_baseline_total)
    if spec.detector == Detector.SERIES_SPIKE:
        raw = poisson_spike_z(b) if is_count else -robust_z(b)
    else:
        raw = {
            Statistic.POISSON: lambda: poisson_drop_z(b) if is_count else robust_z(b),
            Statistic.ROBUST_Z: lambda: robust_z(b),
            Statistic.CUSUM: lambda: cusum_drop(values, b),
            Statistic.EWMA: lambda: ewma_drop(values, b),
        }[spec.statistic]()  # STEP is handled above
    score = np.where(judged, raw, np.nan)
    shown = pd.DataFrame(
        {
            "baseline_per_week": np.round(b.mean, 3),
            "recent_per_week": np.round(b.recent_mean, 3),
            "baseline_weeks": b.weeks.astype(int),
            "recent_weeks": spec.recent_weeks,
            "statistic": spec.statistic.value,
        },
        index=index,
    )
    return pd.Series(score, index=index), shown


def seasonal_exposure(
    values: np.ndarray, observed: np.ndarray, groups: pd.Series | None
) -> np.ndarray:
    """Each week's busyness within the customer's segment, relative to the segment's mean.

    >>> x = np.array([[2.0, 4.0], [2.0, 4.0]])
    >>> seasonal_exposure(x, np.ones((2, 2), bool), None).tolist()
    [[0.6666666666666666, 1.3333333333333333], [0.6666666666666666, 1.3333333333333333]]
    """
    labels = (
        np.zeros(len(values), dtype=np.int64)
        if groups is None
        else pd.factorize(groups.fillna("unknown"))[0]
    )
    exposure = np.ones(values.shape, dtype=np.float64)
    for g in np.unique(labels):
        rows = labels == g
        seen = observed[rows]
        per_week = np.where(seen, values[rows], 0).sum(axis=0) / np.maximum(seen.sum(axis=0), 1)
        mean = per_week[seen.any(axis=0)].mean() if seen.any() else 0.0
        if mean > 0:
            exposure[rows] = np.where(per_week > 0, per_week / mean, 1.0)
    return exposure


def _step_signal(
    spec: SignalSpec,
    values: np.ndarray,
    observed: np.ndarray,
    index: pd.Index,
    segments: pd.Series | None,
) -> tuple[pd.Series, pd.DataFrame]:
    exposure = seasonal_exposure(values, observed, segments)
    drop = step_drop(values, observed, exposure=exposure, min_recent=spec.recent_weeks)
    z = drop.z
    for back in range(1, spec.confirm_weeks + 1):
        earlier = step_drop(
            values[:, :-back], observed[:, :-back], exposure=exposure[:, :-back],
            min_recent=spec.recent_weeks,
        )  # fmt: skip
        z = np.minimum(z, earlier.z)
    history = observed.sum(axis=1)
    total = np.where(observed, values, 0).sum(axis=1)
    judged = (history >= spec.min_history_weeks) & (total >= spec.min_baseline_total)
    shown = pd.DataFrame(
        {
            "baseline_per_week": np.round(drop.rate_before, 3),
            "recent_per_week": np.round(drop.rate_after, 3),
            "recent_weeks": drop.weeks_since.astype(int),
            "history_weeks": history.astype(int),
            "statistic": spec.statistic.value,
        },
        index=index,
    )
    big_enough = drop.rate_after <= (1 - spec.min_drop) * drop.rate_before
    score = np.where(judged, np.where(big_enough, z, 0.0), np.nan)
    return pd.Series(score, index=index), shown


def _fade_signal(
    spec: SignalSpec,
    values: np.ndarray,
    observed: np.ndarray,
    index: pd.Index,
    segments: pd.Series | None,
) -> tuple[pd.Series, pd.DataFrame]:
    exposure = seasonal_exposure(values, observed, segments)
    history = observed.sum(axis=1)
    total = np.where(observed, values, 0).sum(axis=1)
    judged = (history >= spec.min_history_weeks) & (total >= spec.min_baseline_total)
    # Over-dispersion measured on the population's older weeks, not per customer.
    dispersion = population_dispersion(values[judged], observed[judged], 16)

    def judge(weeks_back: int) -> FadeEvidence:
        last = values.shape[1] - weeks_back
        return fade_evidence(
            values[:, :last], observed[:, :last], exposure=exposure[:, :last],
            min_recent=spec.recent_weeks, min_drop=spec.min_drop, dispersion=dispersion,
        )  # fmt: skip

    fade = judge(0)
    z = fade.z
    for back in range(1, spec.confirm_weeks + 1):
        z = np.minimum(z, judge(back).z)
    shown = pd.DataFrame(
        {
            "baseline_per_week": np.round(fade.rate_before, 3),
            "recent_per_week": np.round(fade.rate_now, 3),
            "fading_for_weeks": fade.weeks_since.astype(int),
            "halving_weeks": np.round(np.log(2) / np.where(fade.speed > 0, fade.speed, np.nan), 1),
            "history_weeks": history.astype(int),
            "statistic": spec.statistic.value,
        },
        index=index,
    )
    return pd.Series(np.where(judged, z, np.nan), index=index), shown


def _confirmed_signal(
    spec: SignalSpec, scores: dict[str, pd.Series], evidence: dict[str, pd.DataFrame]
) -> tuple[pd.Series, pd.DataFrame]:
    """The signal's score where the confirming signal is in the run's top share, else 0.

    Customers the confirming signal does not single out score 0, not NaN: they were judged
    and gave no warning, which is what a false-alarm budget must count.
    """
    own, other = scores[str(spec.signal)], scores[str(spec.confirm)]
    # Share of the judged customers scoring at least as high (ties counted against).
    share = other.rank(ascending=False, method="max", pct=True)
    agrees = (share <= spec.top_share).to_numpy()
    score = pd.Series(np.where(agrees, own, np.where(own.isna(), np.nan, 0.0)), index=own.index)
    shown = evidence.get(str(spec.signal), pd.DataFrame(index=own.index)).copy()
    shown[str(spec.confirm)] = other.round(4)
    shown[f"{spec.confirm}_top_share"] = share.round(4)
    return score, shown


def _check_known(spec: SignalSpec, names: set[str]) -> None:
    for name in (str(spec.signal), str(spec.confirm)):
        if name not in names:
            raise ConfigError(
                f"Signal '{spec.name}': unknown signal '{name}' to confirm with.",
                hint="Name signals of signals.yaml (built in or in catalog/signals.yaml).",
            )


def indicator_names(expression: str) -> set[str]:
    """Indicator names an expression reads; refuses anything but arithmetic and comparisons.

    >>> sorted(indicator_names("(new_device_count_30d > 0) * night_txn_share_change"))
    ['new_device_count_30d', 'night_txn_share_change']
    """
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(f"'{type(node).__name__}' is not allowed in a signal expression")
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _indicator_signal(spec: SignalSpec, features: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    expression = str(spec.score)
    try:
        names = indicator_names(expression)
    except (SyntaxError, ValueError) as exc:
        raise ConfigError(
            f"Signal '{spec.name}': score '{expression}' is not a valid expression ({exc}).",
            hint="Use indicator names, numbers, + - * / and comparisons.",
        ) from None
    missing = sorted(names - set(features.columns))
    if missing:
        raise ConfigError(
            f"Signal '{spec.name}': unknown indicator(s) {', '.join(missing)} in '{expression}'.",
            hint="'crew indicators list' shows the indicators of the profile.",
        )
    env = {name: features[name].astype(float) for name in names}
    # Safe: indicator_names() admitted only arithmetic, comparisons, names and constants.
    code = compile(ast.parse(expression, mode="eval"), "<signal>", "eval")
    value = eval(code, {"__builtins__": {}}, env)
    if isinstance(value, pd.Series):
        score = value.astype(float)
    else:
        score = pd.Series(float(value), index=features.index)
    shown = pd.DataFrame({name: features[name] for name in sorted(names)}, index=features.index)
    return score, shown


def _quadrant_signal(
    spec: SignalSpec, features: pd.DataFrame, catalog: Catalog
) -> tuple[pd.Series, pd.DataFrame]:
    position, velocity = str(spec.position), str(spec.velocity)
    for name in (position, velocity):
        if name not in features.columns:
            raise ConfigError(
                f"Signal '{spec.name}': unknown indicator '{name}'.",
                hint="'crew indicators list' shows the indicators of the profile.",
            )
    segment = features["segment"] if "segment" in features.columns else None
    pos = _risky_rank(features[position], catalog, position, segment)
    vel = _risky_rank(features[velocity], catalog, velocity, None)
    score = pd.Series(np.fmin(pos, vel), index=features.index)
    shown = pd.DataFrame(
        {
            "peer_percentile": pos.round(3),
            "velocity_percentile": vel.round(3),
            "quadrant": np.where((pos >= 0.5) & (vel >= 0.5), "worse and worsening", "other"),
        },
        index=features.index,
    )
    return score, shown


def _risky_rank(
    values: pd.Series, catalog: Catalog, name: str, groups: pd.Series | None
) -> pd.Series:
    """Percentile (0..1) of each value in the risky direction, within `groups` when given."""
    direction = catalog.by_id[name].direction if name in catalog.by_id else None
    signed = -values if direction == Direction.LOWER_IS_RISKIER else values
    if groups is None:
        return signed.rank(pct=True)
    return signed.groupby(groups.fillna("unknown")).rank(pct=True)


def _isolation_signal(
    features: pd.DataFrame, catalog: Catalog, seed: int
) -> tuple[pd.Series, pd.DataFrame]:
    from crew.signals.multivariate import isolation_signal

    columns = [
        i.id
        for i in catalog.indicators
        if i.output and i.id in features.columns and i.id != "tenure_days"
    ]
    segments = (
        features["segment"]
        if "segment" in features.columns
        else pd.Series("all", index=features.index)
    )
    result = isolation_signal(
        features[columns], segments.fillna("unknown"), columns=columns, seed=seed
    )
    score = result["score"].reindex(features.index).astype(float)
    shown = pd.DataFrame({"top_indicators": result["top_indicators"]}).reindex(features.index)
    return score, shown


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


__all__ = ["SignalScores", "detect_signals", "indicator_names"]
