"""Population stability index: by hand, on categories, and its properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crew.evaluation.drift import FLOOR, psi, psi_band


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
