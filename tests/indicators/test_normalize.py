"""Scalers: fitted once, applied later with the same parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crew.indicators.normalize import ScaleMethod, Scaler, fit_scaler

TRAIN = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 100.0], "flat": [5.0] * 5})


def test_minmax_uses_the_fitted_range_later() -> None:
    scaler = fit_scaler(TRAIN, ["x"], ScaleMethod.MINMAX)
    later = pd.DataFrame({"x": [1.0, 50.5, 199.0, np.nan]})
    out = scaler.transform(later)["x"].tolist()
    assert out[:3] == pytest.approx([0.0, 0.5, 2.0])
    assert np.isnan(out[3])
    clipped = fit_scaler(TRAIN, ["x"], ScaleMethod.MINMAX, clip=True).transform(later)
    assert clipped["x"].tolist()[2] == 1.0


def test_robust_z_by_hand() -> None:
    # median 3; |x - 3| = 2, 1, 0, 1, 97 -> MAD 1; scale 1.4826
    scaler = fit_scaler(TRAIN, ["x"], ScaleMethod.ROBUST_Z)
    out = scaler.transform(pd.DataFrame({"x": [3.0, 4.4826]}))["x"].tolist()
    assert out == pytest.approx([0.0, 1.0])


def test_robust_z_of_a_mostly_zero_count_still_separates_the_rare_values() -> None:
    frame = pd.DataFrame({"c": [0.0] * 90 + [1.0] * 8 + [5.0] * 2})
    scaler = fit_scaler(frame, ["c"], ScaleMethod.ROBUST_Z)
    out = scaler.transform(pd.DataFrame({"c": [0.0, 5.0]}))["c"].tolist()
    assert out[0] == 0.0 and out[1] > 3  # IQR is 0 as well: falls back to the std (~0.6)


def test_constant_column_scales_to_zero() -> None:
    for method in (ScaleMethod.MINMAX, ScaleMethod.ROBUST_Z):
        out = fit_scaler(TRAIN, ["flat"], method).transform(pd.DataFrame({"flat": [5.0, 7.0]}))
        assert out["flat"].tolist()[0] == 0.0


def test_quantile_is_the_share_at_or_below() -> None:
    frame = pd.DataFrame({"x": np.arange(1, 101, dtype=float)})
    scaler = fit_scaler(frame, ["x"], ScaleMethod.QUANTILE)
    out = scaler.transform(pd.DataFrame({"x": [0.0, 1.0, 50.5, 100.0, 1000.0]}))["x"].tolist()
    assert out == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0], abs=1e-9)


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=50), st.sampled_from(list(ScaleMethod)))
def test_round_trip_through_json_keeps_the_scale(values: list[float], method: ScaleMethod) -> None:
    frame = pd.DataFrame({"v": values})
    scaler = fit_scaler(frame, ["v"], method)
    again = Scaler.from_json(scaler.to_json())
    assert again == scaler
    np.testing.assert_allclose(again.transform(frame)["v"], scaler.transform(frame)["v"])


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=50))
def test_scaling_keeps_the_order(values: list[float]) -> None:
    frame = pd.DataFrame({"v": values})
    for method in ScaleMethod:
        out = fit_scaler(frame, ["v"], method).transform(frame)["v"].to_numpy()
        order = np.argsort(values, kind="stable")
        assert np.all(np.diff(out[order]) >= -1e-12)
