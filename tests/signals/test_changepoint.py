"""Segment shifts on synthetic daily series: seasonality alone is quiet, a shock is found."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from crew.errors import UnknownIndicatorError
from crew.signals.changepoint import (
    SegmentMetric,
    SegmentShift,
    ShiftDirection,
    affected_customers,
    segment_rates,
    segment_shifts,
)

AS_OF = datetime(2024, 6, 29, tzinfo=UTC)
SHOCK = date(2024, 6, 12)
ALL_METRICS = tuple(m.value for m in SegmentMetric)
# Weekend busier than weekdays, Monday first.
WEEKLY = np.array([0.9, 0.85, 0.85, 0.9, 1.0, 1.35, 1.15])


def make_series(
    shocks: dict[str, tuple[date | None, float]],
    *,
    days: int = 180,
    customers: int = 2_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Daily rows per segment; from its shock day a segment's activity is multiplied by the
    factor and its complaints divided by it (activity down, complaints up)."""
    rng = np.random.default_rng(seed)
    start = AS_OF.date() - timedelta(days=days)
    frames = []
    for segment, (shock_day, factor) in shocks.items():
        day = pd.date_range(start, periods=days, freq="D")
        week = WEEKLY[day.day_of_week]
        hit = np.where(shock_day is not None and day >= pd.Timestamp(shock_day or start), factor, 1)
        purchases = rng.poisson(customers * 0.03 * week * hit)
        frames.append(
            pd.DataFrame(
                {
                    "day": day.date,
                    "segment": segment,
                    "customers": customers,
                    "purchasers": purchases,
                    "purchases": purchases,
                    "spend": purchases * 40.0 + rng.normal(0, 20, days),
                    "complaints": rng.poisson(customers * 0.002 / hit),
                    "nps_answers": 0,
                    "nps_mean": np.nan,
                    "logins": rng.poisson(customers * 0.25 * week * hit),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("seed", range(5))
def test_weekly_seasonality_and_noise_alone_yield_no_shift(seed: int) -> None:
    series = make_series({f"s{i}": (None, 1.0) for i in range(4)}, seed=seed)
    assert segment_shifts(series, AS_OF, metrics=ALL_METRICS) == []


@pytest.mark.parametrize("seed", range(3))
def test_a_drop_to_half_is_found_near_its_day_and_only_in_its_segment(seed: int) -> None:
    series = make_series({"hit": (SHOCK, 0.5), "calm": (None, 1.0)}, seed=seed)
    shifts = segment_shifts(series, AS_OF, metrics=ALL_METRICS)
    assert {s.segment for s in shifts} == {"hit"}
    found = {s.metric: s for s in shifts}
    for metric in ("purchases_per_customer", "logins_per_customer", "spend_per_customer"):
        shift = found[SegmentMetric(metric)]
        assert abs((shift.onset - SHOCK).days) <= 3
        assert shift.direction is ShiftDirection.DOWN
        assert shift.relative_change == pytest.approx(-0.5, abs=0.1)
        assert shift.level == pytest.approx(shift.baseline * 0.5, rel=0.2)
        assert shift.z < -3
        assert shift.days_since_onset == (AS_OF.date() - shift.onset).days


def test_complaints_doubling_is_an_upward_shift() -> None:
    series = make_series({"hit": (SHOCK, 0.5)}, customers=10_000, seed=4)
    shifts = segment_shifts(series, AS_OF, metrics=["complaints_per_1000"])
    assert len(shifts) == 1
    shift = shifts[0]
    assert shift.direction is ShiftDirection.UP and shift.relative_change > 0.5
    assert abs((shift.onset - SHOCK).days) <= 3


def test_rises_and_old_changes_are_not_reported() -> None:
    rise = make_series({"up": (SHOCK, 1.5)}, seed=1)  # more activity, fewer complaints
    assert segment_shifts(rise, AS_OF, metrics=ALL_METRICS) == []
    old = make_series({"old": (AS_OF.date() - timedelta(days=60), 0.5)}, seed=1)
    assert segment_shifts(old, AS_OF, metrics=ALL_METRICS) == []


def test_too_little_history_yields_nothing() -> None:
    series = make_series({"hit": (SHOCK, 0.5)}, days=40, seed=2)
    assert segment_shifts(series, AS_OF, metrics=ALL_METRICS) == []


def test_rows_at_or_after_as_of_change_nothing_and_arrow_input_works() -> None:
    series = make_series({"hit": (SHOCK, 0.5), "calm": (None, 1.0)}, seed=5)
    future = series.iloc[:60].copy()
    future["day"] = [AS_OF.date() + timedelta(days=i % 30) for i in range(60)]
    future[["purchases", "logins", "complaints"]] = [0, 0, 10_000]
    with_future = pd.concat([series, future], ignore_index=True)
    expected = segment_shifts(series, AS_OF, metrics=ALL_METRICS)
    assert expected
    assert segment_shifts(with_future, AS_OF, metrics=ALL_METRICS) == expected
    table = pa.Table.from_pandas(with_future, preserve_index=False)
    assert segment_shifts(table, AS_OF, metrics=ALL_METRICS) == expected


def test_a_partial_last_day_is_not_used() -> None:
    series = make_series({"calm": (None, 1.0)}, seed=6)
    midday = AS_OF + timedelta(hours=12)
    partial = series.iloc[[-1]].assign(day=AS_OF.date(), purchases=0, logins=0)
    rates = segment_rates(pd.concat([series, partial]), midday)
    assert rates.index.get_level_values("day").max() == pd.Timestamp(AS_OF.date() - timedelta(1))


def test_rates_by_hand() -> None:
    frame = pd.DataFrame(
        {
            "day": [date(2024, 1, 1), date(2024, 1, 2)],
            "segment": ["a", "a"],
            "customers": [200, 0],
            "purchases": [50, 3],
            "spend": [1000.0, 9.0],
            "complaints": [1, 0],
            "logins": [80, 0],
        }
    )
    rates = segment_rates(frame, datetime(2024, 1, 3, tzinfo=UTC))
    days = rates.xs("a", level="segment")
    first = days.loc[pd.Timestamp("2024-01-01")]
    assert first["purchases_per_customer"] == 0.25 and first["complaints_per_1000"] == 5.0
    assert first["spend_per_customer"] == 5.0 and first["logins_per_customer"] == 0.4
    assert days.loc[pd.Timestamp("2024-01-02")].isna().all()


def test_unknown_metric_and_naive_as_of() -> None:
    series = make_series({"a": (None, 1.0)}, days=10)
    with pytest.raises(UnknownIndicatorError, match="purchase_rate"):
        segment_shifts(series, AS_OF, metrics=["purchase_rate"])
    with pytest.raises(ValueError, match="timezone"):
        segment_shifts(series, AS_OF.replace(tzinfo=None))


def test_evidence_is_json() -> None:
    series = make_series({"hit": (SHOCK, 0.5)}, seed=7)
    shift = segment_shifts(series, AS_OF, metrics=["logins_per_customer"])[0]
    evidence = json.loads(json.dumps(shift.evidence(), allow_nan=False))
    assert evidence["segment"] == "hit" and evidence["direction"] == "down"
    assert evidence["metric"] == "logins_per_customer"
    assert date.fromisoformat(str(evidence["onset"])) == shift.onset


def test_affected_customers_follow_the_shift_direction() -> None:
    index = ["a", "b", "c", "d", "e"]
    change = pd.Series([-0.5, -0.2, 0.6, -0.9, np.nan], index=index)
    segments = pd.Series(["mass", "mass", "mass", "vip", "mass"], index=index)
    down = SegmentShift(
        "mass",
        SegmentMetric.LOGINS_PER_CUSTOMER,
        SHOCK,
        0.25,
        0.12,
        -0.52,
        -11.0,
        ShiftDirection.DOWN,
        56,
        17,
        0.02,
    )
    assert affected_customers(down, change, segments).tolist() == ["a"]
    assert affected_customers(down, change, segments, min_drop=0.1).tolist() == ["a", "b"]
    up = SegmentShift(
        "mass",
        SegmentMetric.COMPLAINTS_PER_1000,
        SHOCK,
        2.0,
        4.0,
        1.0,
        3.0,
        ShiftDirection.UP,
        56,
        17,
        0.5,
    )
    assert affected_customers(up, change, segments).tolist() == ["c"]
