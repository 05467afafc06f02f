"""Isolation-forest anomaly per segment: planted outliers, reasons, pooling, NaN, purity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crew.errors import UnknownIndicatorError
from crew.signals.multivariate import (
    POOLED_GROUP,
    isolation_signal,
    percentile_within,
    robust_scale,
)

COLUMNS = [f"ind_{i}" for i in range(8)]
PLANTED = ["ind_1", "ind_4", "ind_6"]


def make_features(
    n: int = 2_000, outliers: int = 10, seed: int = 7
) -> tuple[pd.DataFrame, pd.Series]:
    """`n` normal customers and `outliers` with 6-sigma values on the planted columns."""
    rng = np.random.default_rng(seed)
    total = n + outliers
    index = pd.Index([f"c{i:05d}" for i in range(total)], name="customer_id")
    frame = pd.DataFrame(rng.normal(10.0, 2.0, (total, len(COLUMNS))), index=index, columns=COLUMNS)
    frame.iloc[n:, [COLUMNS.index(c) for c in PLANTED]] = 10.0 + 6 * 2.0
    segments = pd.Series("mass", index=index)
    return frame, segments


def test_planted_outliers_score_top_and_name_the_planted_columns() -> None:
    features, segments = make_features()
    out = isolation_signal(features, segments, columns=COLUMNS, min_segment_size=100)
    assert list(out.columns) == ["score", "isolation", "peer_group", "top_indicators"]
    assert out.index.equals(features.index)
    planted = out.iloc[-10:]
    assert (planted["score"] >= 0.99).all()
    assert out["score"].between(0, 1).all()
    for reasons in planted["top_indicators"]:
        assert {r["indicator"] for r in reasons} == set(PLANTED)
        assert all(r["robust_z"] > 4 and r["value"] == 22.0 for r in reasons)
        assert all(abs(r["segment_median"] - 10.0) < 0.3 for r in reasons)
        strengths = [abs(float(r["robust_z"])) for r in reasons]
        assert strengths == sorted(strengths, reverse=True)


def test_fixed_seed_repeats_and_input_is_not_mutated() -> None:
    features, segments = make_features(n=600)
    before, seg_before = features.copy(), segments.copy()
    a = isolation_signal(features, segments, columns=COLUMNS, seed=3)
    b = isolation_signal(features, segments, columns=COLUMNS, seed=3)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(features, before)
    pd.testing.assert_series_equal(segments, seg_before)


def test_missing_values_are_imputed_and_never_a_reason() -> None:
    features, segments = make_features(n=800)
    features.iloc[::7, 2] = np.nan
    features.iloc[-1, COLUMNS.index("ind_1")] = np.nan  # one planted value missing
    out = isolation_signal(features, segments, columns=COLUMNS)
    assert out["score"].notna().all()
    last = out["top_indicators"].iloc[-1]
    assert {r["indicator"] for r in last[:2]} == {"ind_4", "ind_6"}
    assert all(r["indicator"] != "ind_1" for r in last)
    nan_rows = out["top_indicators"].iloc[::7]
    assert all(r["indicator"] != "ind_2" for reasons in nan_rows for r in reasons)


def test_small_segments_are_pooled_and_segments_scored_apart() -> None:
    features, _ = make_features(n=1_000, outliers=0)
    segments = pd.Series(
        ["big"] * 700 + ["small_a"] * 150 + ["small_b"] * 150, index=features.index
    )
    # Customers absent from `segments` count as segment "unknown", also small here.
    out = isolation_signal(features, segments.iloc[:-20], columns=COLUMNS, min_segment_size=200)
    assert out["peer_group"].iloc[:700].eq("big").all()
    assert out["peer_group"].iloc[700:].eq(POOLED_GROUP).all()
    # Each group's scores are percentiles of its own customers: both reach 1.0.
    assert out.groupby("peer_group")["score"].max().tolist() == [1.0, 1.0]


def test_constant_and_all_missing_columns_are_dropped() -> None:
    features, segments = make_features(n=300)
    features["flat"], features["empty"] = 1.0, np.nan
    out = isolation_signal(features, segments, columns=[*COLUMNS, "flat", "empty"], top=20)
    named = {r["indicator"] for reasons in out["top_indicators"] for r in reasons}
    assert named <= set(COLUMNS)


def test_tiny_inputs() -> None:
    features, segments = make_features(n=1, outliers=0)
    out = isolation_signal(features, segments, columns=COLUMNS)
    assert np.isnan(out["score"].iloc[0]) and out["top_indicators"].iloc[0] == []
    empty = isolation_signal(features.iloc[:0], segments, columns=COLUMNS)
    assert empty.empty and list(empty.columns) == [
        "score",
        "isolation",
        "peer_group",
        "top_indicators",
    ]


def test_unknown_column_names_the_column() -> None:
    features, segments = make_features(n=10)
    with pytest.raises(UnknownIndicatorError, match="nope"):
        isolation_signal(features, segments, columns=["nope"])


def test_robust_scale_mostly_zero_column_keeps_a_spread() -> None:
    values = np.zeros((100, 1))
    values[:3, 0] = 1.0
    median, spread = robust_scale(values)
    assert median[0] == 0.0 and spread[0] == pytest.approx(0.03 * 1.2533)


def test_percentile_within_by_hand() -> None:
    assert percentile_within(np.array([3.0, 1.0, 2.0])).tolist() == [1.0, 0.0, 0.5]
