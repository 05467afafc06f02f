"""Signals over an instant: expressions, series detectors and their evidence."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from crew.errors import ConfigError
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


def test_activity_drop_fires_for_a_fade_not_for_a_steady_customer() -> None:
    rng = np.random.default_rng(3)
    steady = rng.poisson(4.0, (50, 26))
    fading = rng.poisson(np.r_[np.full(18, 4.0), np.linspace(3, 0.2, 8)], (5, 26))
    spec = next(s for s in load_signals() if s.name == "activity_drop")
    series = _series(np.vstack([steady, fading]).astype(np.float32))
    features = pd.DataFrame({"segment": "all"}, index=pd.Index(series.customer_ids))
    found = detect_signals([spec], features, series, CATALOG)
    scores = found.scores["activity_drop"].to_numpy()
    low_at = 2.4  # the built-in LOW limit of activity_drop
    assert (scores[50:] >= low_at).all()
    assert (scores[:50] >= low_at).mean() <= 0.04
    shown = found.evidence_for("activity_drop", "C50")
    assert shown["baseline_per_week"] > 2 * shown["recent_per_week"]


def test_a_segment_wide_lull_is_not_a_personal_drop() -> None:
    # Everyone halves in the last four weeks (a holiday, a shock): relative to the segment,
    # nobody dropped.
    rng = np.random.default_rng(5)
    rates = np.r_[np.full(22, 4.0), np.full(4, 2.0)]
    activity = rng.poisson(rates, (200, 26)).astype(np.float32)
    exposure = seasonal_exposure(activity, np.ones(activity.shape, bool), None)
    assert exposure[0, -1] == pytest.approx(2 / (22 * 4 + 4 * 2) * 26, rel=0.1)
    spec = next(s for s in load_signals() if s.name == "activity_drop")
    series = _series(activity)
    features = pd.DataFrame({"segment": "all"}, index=pd.Index(series.customer_ids))
    scores = detect_signals([spec], features, series, CATALOG).scores["activity_drop"]
    assert (scores < 2.4).mean() > 0.95
