"""Population stability index: by hand, on categories, and its properties."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crew.evaluation.drift import FLOOR, psi, psi_band, psi_over_time, psi_table


def test_psi_by_hand_on_two_categories() -> None:
    # Expected shares 0.5 / 0.5, actual 0.25 / 0.75.
    by_hand = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx(by_hand)


def test_psi_by_hand_on_deciles() -> None:
    expected = np.arange(1000, dtype=float)  # deciles at 100, 200, ...
    actual = np.concatenate([np.arange(0, 100, 0.5), np.arange(100, 1000, 1.125)])
    # 200 of 1000 actual values in the first decile, 800 spread evenly over the other nine.
    shares = [0.2] + [0.8 / 9] * 9
    by_hand = sum((a - 0.1) * math.log(a / 0.1) for a in shares)
    assert psi(expected, actual) == pytest.approx(by_hand, rel=1e-2)


def test_an_empty_bin_is_floored_not_infinite() -> None:
    value = psi([0, 0, 1, 1], [0, 0, 0, 0])
    by_hand = (1 - 0.5) * math.log(1 / 0.5) + (FLOOR - 0.5) * math.log(FLOOR / 0.5)
    assert value == pytest.approx(by_hand)


def test_a_value_unseen_before_joins_its_nearest_neighbour() -> None:
    # A shock index moving from 0.1 to 0.11 is not a new category.
    assert psi([0.1] * 50 + [0.5] * 50, [0.11] * 50 + [0.52] * 50) == pytest.approx(0.0)


def test_bands() -> None:
    assert [psi_band(v) for v in (0.0, 0.099, 0.1, 0.249, 0.25, None)] == [
        "stable", "stable", "moderate", "moderate", "shift", "stable",
    ]  # fmt: skip


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=200))
def test_psi_of_a_sample_against_itself_is_zero(values: list[float]) -> None:
    assert psi(values, values) == pytest.approx(0.0, abs=1e-12)


@given(
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=100),
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=100),
)
def test_psi_is_never_negative(expected: list[float], actual: list[float]) -> None:
    assert psi(expected, actual) >= -1e-12


def test_psi_by_hand_on_text_labels_with_a_new_one() -> None:
    # Expected mass 0.75 / key 0.25; actual mass 0.5 / key 0.25 / vip 0.25 (vip floored before).
    expected = pd.Series(["mass", "mass", "mass", "key", None])
    actual = pd.Series(["mass", "mass", "key", "vip"])
    by_hand = (
        (0.5 - 0.75) * math.log(0.5 / 0.75)
        + (0.25 - 0.25) * math.log(0.25 / 0.25)
        + (0.25 - FLOOR) * math.log(0.25 / FLOOR)
    )
    assert psi(expected, actual) == pytest.approx(by_hand)
    categorical = pd.Series(pd.Categorical(expected))
    assert psi(categorical, pd.Series(pd.Categorical(actual))) == pytest.approx(by_hand)


def test_psi_of_a_nullable_integer_column_ignores_missing_values() -> None:
    expected = pd.Series([0, 0, 1, 1, None], dtype="Int64")
    actual = pd.Series([0, 1, 1, 1, None, None], dtype="Int64")
    assert psi(expected, actual) == pytest.approx(psi([0, 0, 1, 1], [0, 1, 1, 1]))


def test_psi_of_an_empty_side_is_nan() -> None:
    assert math.isnan(psi([1.0, 2.0], [float("nan")]))
    assert math.isnan(psi(pd.Series([None, None], dtype=object), ["a"]))


def test_psi_table_has_a_row_per_column_with_its_band() -> None:
    previous = pd.DataFrame({"a": [0, 0, 1, 1], "b": [1.0, 2.0, 3.0, 4.0], "c": ["x"] * 4})
    current = pd.DataFrame({"b": [1.0, 2.0, 3.0, 4.0], "a": [0, 1, 1, 1], "c": [None] * 4})
    table = psi_table(previous, current)
    assert table["column"].tolist() == ["a", "b", "c"]
    assert table["psi"].iloc[0] == pytest.approx(psi([0, 0, 1, 1], [0, 1, 1, 1]))
    assert table["band"].tolist() == ["shift", "stable", None]  # c is unmeasured, not stable
    assert math.isnan(table["psi"].iloc[2])
    assert psi_table(previous, current, ["b"])["column"].tolist() == ["b"]
    with pytest.raises(KeyError, match="'z'"):
        psi_table(previous, current, ["a", "z"])


def test_psi_over_time_compares_consecutive_periods_in_time_order() -> None:
    jan, feb, mar = datetime(2025, 1, 1), datetime(2025, 2, 1), datetime(2025, 3, 1)
    frames = [
        (mar, pd.DataFrame({"x": [1, 1, 1, 1]})),
        (jan, pd.DataFrame({"x": [0, 0, 1, 1]})),
        (feb, pd.DataFrame({"x": [0, 1, 1, 1]})),
    ]
    long = psi_over_time(frames, ["x"])
    assert long.columns.tolist() == ["period", "column", "psi", "band"]
    assert long["period"].tolist() == [feb, mar]
    assert long["psi"].tolist() == pytest.approx(
        [psi([0, 0, 1, 1], [0, 1, 1, 1]), psi([0, 1, 1, 1], [1, 1, 1, 1])]
    )
    assert long["band"].tolist() == ["shift", "shift"]
    single = psi_over_time(frames[:1], ["x"])
    assert single.empty and single.columns.tolist() == ["period", "column", "psi", "band"]


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=100))
def test_psi_of_labels_against_themselves_is_zero_and_symmetric_shuffles_too(
    labels: list[str],
) -> None:
    assert psi(labels, labels) == pytest.approx(0.0, abs=1e-12)
    assert psi(labels, list(reversed(labels))) == pytest.approx(0.0, abs=1e-12)
    assert psi(labels, [*labels, "e"]) > 0
