"""Signals over an instant: expressions, series detectors and their evidence."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from crew.errors import ConfigError
from crew.grading.reasons import signal_reason
from crew.grading.thresholds import load_thresholds
from crew.indicators.catalog import load_catalog
from crew.signals.detect import detect_signals, indicator_names, seasonal_exposure
from crew.signals.specs import SignalSpec, load_signals
from crew.store.series import SERIES, WeeklySeries

CATALOG = load_catalog(None)
LABEL = {"en": "x", "zh": "x"}


def _features(**columns: list[float]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    index = pd.Index([f"C{i}" for i in range(n)], name="customer_id")
    return pd.DataFrame(columns, index=index)


def test_indicator_expressions_compute_and_explain_themselves() -> None:
    spec = SignalSpec(
        name="s", risk_type="fraud", label=LABEL, detector="indicator",
        score="(new_device_count_30d > 0) * night_txn_share_change",
        evidence=("failed_login_count_7d",),
    )  # fmt: skip
    features = _features(
        new_device_count_30d=[0, 2, 1], night_txn_share_change=[0.9, 0.5, np.nan],
        failed_login_count_7d=[0, 3, 1],
    )  # fmt: skip
    found = detect_signals([spec], features, None, CATALOG)
    assert found.scores["s"].tolist()[:2] == [0.0, 0.5]
    assert np.isnan(found.scores["s"].iloc[2])
    assert found.evidence_for("s", "C1") == {
        "new_device_count_30d": 2, "night_txn_share_change": 0.5, "failed_login_count_7d": 3,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("nps_chnage * 2", "unknown indicator(s) nps_chnage"),
        ("__import__('os').system('true')", "not a valid expression"),
        ("nps_change +", "not a valid expression"),
    ],
)
def test_bad_expressions_are_refused_with_the_signal_named(expression: str, message: str) -> None:
    spec = SignalSpec(name="mine", risk_type="churn", label=LABEL, detector="indicator",
                      score=expression)  # fmt: skip
    with pytest.raises(ConfigError, match=rf"Signal 'mine': .*{re.escape(message)}"):
        detect_signals([spec], _features(nps_change=[1.0]), None, CATALOG)


def test_names_come_only_from_arithmetic() -> None:
    assert indicator_names("-nps_change") == {"nps_change"}
    with pytest.raises(ValueError, match="Call"):
        indicator_names("abs(nps_change)")


def _series(activity: np.ndarray) -> WeeklySeries:
    n, weeks = activity.shape
    values = np.zeros((len(SERIES), n, weeks), dtype=np.float32)
    values[SERIES.index("activity")] = activity
    ids = np.array([f"C{i}" for i in range(n)], dtype=object)
    return WeeklySeries(datetime(2025, 1, 1, tzinfo=UTC), ids, values, np.ones((n, weeks), bool))


def _built_in(name: str) -> SignalSpec:
    return next(s for s in load_signals() if s.name == name)


def test_activity_fade_fires_for_a_fade_not_for_a_steady_customer() -> None:
    rng = np.random.default_rng(3)
    steady = rng.poisson(4.0, (200, 26))
    fading = rng.poisson(np.r_[np.full(18, 4.0), np.linspace(3, 0.2, 8)], (5, 26))
    series = _series(np.vstack([steady, fading]).astype(np.float32))
    features = pd.DataFrame({"segment": "all"}, index=pd.Index(series.customer_ids))
    found = detect_signals([_built_in("activity_fade")], features, series, CATALOG)
    scores = found.scores["activity_fade"].to_numpy()
    low_at = load_thresholds(None, None)["activity_fade"].low_at
    assert low_at is not None
    assert (scores[200:] >= low_at).all()
    assert (scores[:200] >= low_at).mean() <= 0.02
    shown = found.evidence_for("activity_fade", "C200")
    assert shown["baseline_per_week"] > 2 * shown["recent_per_week"]
    assert 3 <= shown["fading_for_weeks"] <= 16
    reason = signal_reason(_built_in("activity_fade"), scores[200], shown)
    assert f"fading for {shown['fading_for_weeks']} weeks" in str(reason["en"])


def test_activity_drop_fires_when_activity_all_but_stops() -> None:
    rng = np.random.default_rng(4)
    steady = rng.poisson(4.0, (50, 26))
    stopped = rng.poisson(np.r_[np.full(20, 4.0), np.full(6, 0.2)], (5, 26))
    series = _series(np.vstack([steady, stopped]).astype(np.float32))
    features = pd.DataFrame({"segment": "all"}, index=pd.Index(series.customer_ids))
    found = detect_signals([_built_in("activity_drop")], features, series, CATALOG)
    scores = found.scores["activity_drop"].to_numpy()
    assert (scores[50:] >= 2.4).all()  # its built-in LOW limit
    assert (scores[:50] >= 2.4).mean() <= 0.04


def test_a_confirmed_signal_keeps_its_score_only_where_the_model_agrees() -> None:
    # Ten of them fade; the model singles out the top 5% (customers 95..99, all fading).
    rng = np.random.default_rng(6)
    steady = rng.poisson(4.0, (90, 26))
    fading = rng.poisson(np.r_[np.full(18, 4.0), np.linspace(3, 0.2, 8)], (10, 26))
    series = _series(np.vstack([steady, fading]).astype(np.float32))
    index = pd.Index(series.customer_ids)
    features = pd.DataFrame({"segment": "all"}, index=index)
    probability = pd.Series(np.linspace(0.01, 0.5, 100), index=index)
    specs = [_built_in(n) for n in ("activity_fade_model", "activity_fade", "churn_model")]
    found = detect_signals(specs, features, series, CATALOG, probability=probability)
    fade, confirmed = found.scores["activity_fade"], found.scores["activity_fade_model"]
    assert (confirmed.iloc[95:] == fade.iloc[95:]).all() and (fade.iloc[95:] > 0).all()
    assert (fade.iloc[90:95] > 0).all()  # fading too, but the model does not agree:
    assert (confirmed.iloc[:95] == 0).all()  # judged, not confirmed: no warning, not missing
    shown = found.evidence_for("activity_fade_model", "C99")
    assert shown["churn_model_top_share"] == 0.01 and shown["churn_model"] == 0.5
    reason = signal_reason(_built_in("activity_fade_model"), confirmed.iloc[99], shown)
    assert "churn_model in the top 1%" in str(reason["en"])
    # Without a model, the confirmed signal is not scored at all.
    alone = detect_signals(specs, features, series, CATALOG)
    assert "activity_fade_model" not in alone.scores.columns


def test_a_confirmed_signal_naming_an_unknown_signal_is_refused() -> None:
    spec = SignalSpec(
        name="c", risk_type="churn", label=LABEL, detector="confirmed",
        signal="activity_fade", confirm="no_such_signal",
    )  # fmt: skip
    series = _series(np.ones((3, 26), dtype=np.float32))
    features = pd.DataFrame({"segment": "all"}, index=pd.Index(series.customer_ids))
    with pytest.raises(ConfigError, match="unknown signal 'no_such_signal'"):
        detect_signals([_built_in("activity_fade"), spec], features, series, CATALOG)


def test_a_segment_wide_lull_is_not_a_personal_drop() -> None:
    # Everyone halves in the last four weeks (a holiday, a shock): relative to the segment,
    # nobody dropped.
    rng = np.random.default_rng(5)
    rates = np.r_[np.full(22, 4.0), np.full(4, 2.0)]
    activity = rng.poisson(rates, (200, 26)).astype(np.float32)
    exposure = seasonal_exposure(activity, np.ones(activity.shape, bool), None)
    assert exposure[0, -1] == pytest.approx(2 / (22 * 4 + 4 * 2) * 26, rel=0.1)
    specs = [_built_in("activity_drop"), _built_in("activity_fade")]
    series = _series(activity)
    features = pd.DataFrame({"segment": "all"}, index=pd.Index(series.customer_ids))
    scores = detect_signals(specs, features, series, CATALOG).scores
    assert (scores["activity_drop"] < 2.4).mean() > 0.95
    assert (scores["activity_fade"] < 1.3).mean() > 0.95
