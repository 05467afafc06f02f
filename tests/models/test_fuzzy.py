"""Fuzzy comprehensive evaluation: a worked example by hand, membership rules, edge cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from crew.errors import ConfigError, CrewError, StaleDataError, UnknownIndicatorError
from crew.indicators.catalog import Catalog, Direction, IndicatorDef, Label
from crew.models._membership import MembershipParams, fit_breakpoints
from crew.models.fuzzy import (
    CompositionOperator,
    FuzzyEvaluator,
    FuzzySettings,
    Grade,
    IndicatorMembership,
    comment_set,
    compose,
    grade_memberships,
    max_membership,
    parse_fuzzy_settings,
    trapezoidal,
    triangular,
    weights_from_scopes,
)
from crew.types import Level

HIGHER, LOWER, NEUTRAL = (
    Direction.HIGHER_IS_RISKIER,
    Direction.LOWER_IS_RISKIER,
    Direction.NEUTRAL,
)


def _indicator(name: str, dimension: str, direction: Direction) -> IndicatorDef:
    return IndicatorDef(
        id=name,
        dimension=dimension,
        label=Label(en=name, zh=name),
        description="test indicator",
        direction=direction,
        unit="count",
        expression="1",
    )


CATALOG = Catalog(
    dimensions={
        "complaints": Label(en="Complaints", zh="投诉与服务"),
        "trust": Label(en="Trust", zh="信任维度"),
    },
    sources={},
    indicators=(
        _indicator("complaint_count_30d", "complaints", HIGHER),
        _indicator("open_ticket_count", "complaints", HIGHER),
        _indicator("dispute_count_90d", "trust", HIGHER),
        _indicator("nps_latest", "trust", LOWER),
        _indicator("nps_prior", "trust", NEUTRAL),
    ),
    sha256="test",
)
DIMENSION_WEIGHTS = {"complaints": 0.6, "trust": 0.4}
LOCAL_WEIGHTS = {
    "complaints": {"complaint_count_30d": 0.7, "open_ticket_count": 0.3},
    "trust": {"dispute_count_90d": 0.4, "nps_latest": 0.6},
}
# Breakpoints chosen so the worked example's membership rows come out as round numbers.
BREAKPOINTS = (
    IndicatorMembership(indicator="complaint_count_30d", breakpoints=(0, 1, 3, 6)),
    IndicatorMembership(indicator="open_ticket_count", breakpoints=(0, 2, 4, 8)),
    IndicatorMembership(indicator="dispute_count_90d", breakpoints=(0, 1, 2, 3)),
    IndicatorMembership(indicator="nps_latest", breakpoints=(8, 6, 4, 2)),  # lower is riskier
)
EXAMPLE = pd.DataFrame(
    {
        "complaint_count_30d": [4.2],
        "open_ticket_count": [1.0],
        "dispute_count_90d": [0.0],
        "nps_latest": [6.4],
    },
    index=pd.Index(["c1"], name="customer_id"),
)


def _row(frame: pd.DataFrame, label: str) -> list[float]:
    values: list[float] = frame.loc[[label]].to_numpy(dtype=float)[0].tolist()
    return values


def _evaluator(
    operator: CompositionOperator = CompositionOperator.WEIGHTED_AVERAGE,
) -> FuzzyEvaluator:
    settings = FuzzySettings(operator=operator, memberships=BREAKPOINTS)
    return FuzzyEvaluator(settings).fit(EXAMPLE, CATALOG, DIMENSION_WEIGHTS, LOCAL_WEIGHTS)


# Worked example (docs/fuzzy.md walks through the same numbers).
# Comment set V = {low, medium, high}, grade scores 0, 50, 100.
# Membership matrices (rows: indicators, columns: low, medium, high):
#   complaints (weight 0.6)                  trust (weight 0.4)
#   complaint_count_30d 0.7: 0.0 0.6 0.4     dispute_count_90d 0.4: 1.0 0.0 0.0
#   open_ticket_count   0.3: 0.5 0.5 0.0     nps_latest        0.6: 0.2 0.8 0.0
R_COMPLAINTS = np.array([[0.0, 0.6, 0.4], [0.5, 0.5, 0.0]])
R_TRUST = np.array([[1.0, 0.0, 0.0], [0.2, 0.8, 0.0]])


def test_worked_example_weighted_average_by_hand() -> None:
    op = CompositionOperator.WEIGHTED_AVERAGE
    # B_complaints = 0.7*(0, .6, .4) + 0.3*(.5, .5, 0) = (0.15, 0.57, 0.28)
    b_complaints = compose(np.array([0.7, 0.3]), R_COMPLAINTS, op)
    assert b_complaints == pytest.approx([0.15, 0.57, 0.28], abs=1e-4)
    # B_trust = 0.4*(1, 0, 0) + 0.6*(.2, .8, 0) = (0.52, 0.48, 0)
    b_trust = compose(np.array([0.4, 0.6]), R_TRUST, op)
    assert b_trust == pytest.approx([0.52, 0.48, 0.0], abs=1e-4)
    # B = 0.6*(.15, .57, .28) + 0.4*(.52, .48, 0) = (0.298, 0.534, 0.168)
    b = compose(np.array([0.6, 0.4]), np.stack([b_complaints, b_trust]), op)
    assert b == pytest.approx([0.298, 0.534, 0.168], abs=1e-4)
    # maximum membership 0.534 -> medium; index = 0.534*50 + 0.168*100 = 43.5
    assert max_membership(b[None, :]).tolist() == [1]
    assert b @ np.array([0.0, 50.0, 100.0]) == pytest.approx(43.5, abs=1e-4)


def test_worked_example_through_the_evaluator() -> None:
    result = _evaluator().evaluate(EXAMPLE)
    # membership rows from the breakpoints: 4.2 is 40% of the way from 3 to 6; 1 is half
    # way from 0 to 2; 0 is at the first breakpoint; 6.4 is 80% of the way from 8 to 6.
    rows = result.indicator_membership[0]
    assert rows == pytest.approx(np.vstack([R_COMPLAINTS, R_TRUST]), abs=1e-4)
    assert result.dimension_membership[0] == pytest.approx(
        np.array([[0.15, 0.57, 0.28], [0.52, 0.48, 0.0]]), abs=1e-4
    )
    assert _row(result.membership, "c1") == pytest.approx([0.298, 0.534, 0.168], abs=1e-4)
    assert result.level["c1"] is Level.MEDIUM
    assert result.risk_index["c1"] == pytest.approx(43.5, abs=1e-4)
    # dimension scores: complaints .57*50 + .28*100 = 56.5; trust .48*50 = 24
    assert _row(result.dimension_scores, "c1") == pytest.approx([56.5, 24.0], abs=1e-4)
    # contributions = global weight x indicator score:
    #   0.42*70 = 29.4, 0.18*25 = 4.5, 0.16*0 = 0, 0.24*40 = 9.6; sum 43.5
    assert _row(result.indicator_scores, "c1") == pytest.approx([70, 25, 0, 40])
    assert _row(result.weights, "c1") == pytest.approx([0.42, 0.18, 0.16, 0.24])
    assert _row(result.contributions, "c1") == pytest.approx([29.4, 4.5, 0.0, 9.6])
    assert result.coverage["c1"] == pytest.approx(1.0)
    explained = result.explain("c1")
    assert explained.index[0] == "complaint_count_30d"
    assert explained["contribution"].sum() == pytest.approx(43.5)
    row = result.frame().loc["c1"]
    assert row["level"] is Level.MEDIUM
    assert row["membership_medium"] == pytest.approx(0.534)
    assert row["score_trust"] == pytest.approx(24.0)


def test_worked_example_max_min_by_hand() -> None:
    op = CompositionOperator.MAX_MIN
    # complaints: min(.7, (0, .6, .4)) = (0, .6, .4); min(.3, (.5, .5, 0)) = (.3, .3, 0)
    #   max = (.3, .6, .4), sum 1.3 -> (0.2308, 0.4615, 0.3077)
    b_complaints = compose(np.array([0.7, 0.3]), R_COMPLAINTS, op)
    assert b_complaints == pytest.approx([0.2308, 0.4615, 0.3077], abs=1e-4)
    # trust: min(.4, (1, 0, 0)) = (.4, 0, 0); min(.6, (.2, .8, 0)) = (.2, .6, 0) -> (.4, .6, 0)
    b_trust = compose(np.array([0.4, 0.6]), R_TRUST, op)
    assert b_trust == pytest.approx([0.4, 0.6, 0.0], abs=1e-4)
    # overall: min(.6, B_c) = (.2308, .4615, .3077); min(.4, B_t) = (.4, .4, 0)
    #   max = (.4, .4615, .3077), sum 1.1692 -> (0.3421, 0.3947, 0.2632)
    result = _evaluator(op).evaluate(EXAMPLE)
    assert _row(result.membership, "c1") == pytest.approx([0.3421, 0.3947, 0.2632], abs=1e-4)
    assert result.level["c1"] is Level.MEDIUM
    # index = .3947*50 + .2632*100 = 46.05; medium and high both come from complaints,
    # and there from complaint_count_30d, so it carries the whole index (low scores 0).
    assert result.risk_index["c1"] == pytest.approx(46.0526, abs=1e-4)
    assert _row(result.contributions, "c1") == pytest.approx([46.0526, 0, 0, 0], abs=1e-4)


def test_membership_functions_at_and_between_breakpoints() -> None:
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.5, 6.0, 10.0])
    degrees = grade_memberships(x, np.array([0.0, 1.0, 3.0, 6.0]))
    assert degrees == pytest.approx(
        np.array(
            [
                [1, 0, 0],
                [1, 0, 0],  # at a1: still fully low
                [0.5, 0.5, 0],
                [0, 1, 0],  # at b1: fully medium
                [0, 1, 0],
                [0, 1, 0],  # at a2: still fully medium
                [0, 0.5, 0.5],
                [0, 0, 1],  # at b2: fully high
                [0, 0, 1],
            ]
        )
    )
    assert degrees.sum(axis=1) == pytest.approx(np.ones(len(x)))
    # each grade is the trapezoid between its neighbours' shoulders
    assert degrees[:, 1] == pytest.approx(trapezoidal(x, 0, 1, 3, 6))
    # three breakpoints are grade peaks: triangles at 0, 2, 5
    peaks = grade_memberships(np.array([0.0, 1.0, 2.0, 3.5, 5.0]), np.array([0.0, 2.0, 2.0, 5.0]))
    assert peaks[:, 1] == pytest.approx(triangular(np.array([0.0, 1.0, 2.0, 3.5, 5.0]), 0, 2, 5))
    assert peaks[:, 1].tolist() == pytest.approx([0, 0.5, 1, 0.5, 0])
    # a crisp cut (a == b) keeps the value at the cut on the safer side
    crisp = grade_memberships(np.array([1.0, 1.001]), np.array([1.0, 1.0, 5.0, 5.0]))
    assert crisp.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert np.isnan(grade_memberships(np.array([np.nan]), np.array([0.0, 1, 2, 3]))).all()


def test_lower_is_riskier_reverses_the_scale() -> None:
    lower = MembershipParams(
        indicator="nps_latest", direction=LOWER, breakpoints=(8, 6, 4, 2), source="config"
    )
    mirrored = MembershipParams(
        indicator="nps_latest", direction=HIGHER, breakpoints=(-8, -6, -4, -2), source="config"
    )
    x = np.array([10.0, 8.0, 7.0, 5.0, 3.0, 2.0, 0.0])
    assert lower.memberships(x, 3) == pytest.approx(mirrored.memberships(-x, 3))
    assert lower.memberships(x, 3)[[0, -1]].tolist() == [[1, 0, 0], [0, 0, 1]]
    # breakpoints of a lower-is-riskier indicator go from safest to riskiest: descending
    bad = FuzzySettings(
        memberships=(IndicatorMembership(indicator="nps_latest", breakpoints=(2, 4, 6, 8)),)
    )
    with pytest.raises(ConfigError, match=r"memberships\[0\].*must descend"):
        FuzzyEvaluator(bad).fit(EXAMPLE, CATALOG, DIMENSION_WEIGHTS, LOCAL_WEIGHTS)


def test_quantile_breakpoints_on_a_mostly_zero_count() -> None:
    counts = np.array([0.0] * 92 + [1.0] * 4 + [2.0, 3.0, 4.0, 7.0])
    # 50th, 75th, 90th percentiles are 0; the 97.5th sits at rank 96.525 of 0..99, between
    # the sorted values 2 and 3: 2.525
    points = fit_breakpoints(counts, HIGHER, (0.5, 0.75, 0.9, 0.975))
    assert points == pytest.approx((0.0, 0.0, 0.0, 2.525))
    values = pd.DataFrame(
        {
            "complaint_count_30d": counts,
            "open_ticket_count": np.zeros(100),  # constant
            "dispute_count_90d": counts[::-1].copy(),
            "nps_latest": np.linspace(0, 10, 100),
        }
    )
    model = FuzzyEvaluator().fit(values, CATALOG, DIMENSION_WEIGHTS, LOCAL_WEIGHTS)
    assert model.params_ is not None
    assert model.params_["complaint_count_30d"].source == "quantiles"
    result = model.evaluate(values)
    assert not np.isnan(result.indicator_membership).any()
    assert not result.risk_index.isna().any()
    rows = result.indicator_membership[:, 0]  # complaint_count_30d
    assert rows[0].tolist() == [1.0, 0.0, 0.0]  # zero: fully the lowest grade
    # one complaint: past the crisp cut at 0, 1/2.525 of the way from 0 to 2.525
    assert rows[92] == pytest.approx([0.0, 1 - 1 / 2.525, 1 / 2.525])
    assert rows[-1].tolist() == [0.0, 0.0, 1.0]
    # a constant column: everyone at the constant is lowest; anything above it is highest
    assert (result.indicator_membership[:, 1, 0] == 1.0).all()
    later = model.evaluate(values.assign(open_ticket_count=1.0))
    assert (later.indicator_membership[:, 1, 2] == 1.0).all()
    # lower is riskier: the lowest NPS is the riskiest
    assert result.indicator_membership[0, 3].tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(CrewError, match="no values to fit"):
        FuzzyEvaluator().fit(
            values.assign(open_ticket_count=np.nan), CATALOG, DIMENSION_WEIGHTS, LOCAL_WEIGHTS
        )


def test_missing_values_renormalise_weights_and_report_coverage() -> None:
    values = pd.DataFrame(
        {
            "complaint_count_30d": [np.nan, np.nan, 4.2],
            "open_ticket_count": [1.0, np.nan, 1.0],
            "dispute_count_90d": [np.nan, np.nan, np.nan],
            "nps_latest": [6.4, np.nan, np.nan],
        },
        index=["partial", "nothing", "one_dimension"],
    )
    result = _evaluator().evaluate(values)
    # partial: complaints keeps only open_ticket_count (local weight .3 -> 1): (.5, .5, 0);
    # trust keeps only nps_latest (.6 -> 1): (.2, .8, 0). Both dimensions observed:
    # B = .6*(.5, .5, 0) + .4*(.2, .8, 0) = (.38, .62, 0); index 31
    assert _row(result.membership, "partial") == pytest.approx([0.38, 0.62, 0.0])
    assert result.risk_index["partial"] == pytest.approx(31.0)
    assert _row(result.dimension_coverage, "partial") == pytest.approx([0.3, 0.6])
    assert result.coverage["partial"] == pytest.approx(0.6 * 0.3 + 0.4 * 0.6)  # 0.42
    assert _row(result.weights, "partial") == pytest.approx([0, 0.6, 0, 0.4])
    assert _row(result.contributions, "partial") == pytest.approx(
        [np.nan, 15.0, np.nan, 16.0], nan_ok=True
    )
    # one_dimension: trust has nothing, so complaints carries the whole overall vector
    assert _row(result.membership, "one_dimension") == pytest.approx([0.15, 0.57, 0.28])
    assert np.isnan(_row(result.dimension_scores, "one_dimension")[1])
    assert result.coverage["one_dimension"] == pytest.approx(0.6)
    # nothing observed: no vector, no level, no index, coverage 0
    assert np.isnan(_row(result.membership, "nothing")).all()
    assert result.level["nothing"] is None
    assert result.risk_index.isna().tolist() == [False, True, False]
    assert result.coverage["nothing"] == 0.0
    sums = result.contributions.sum(axis=1)
    assert sums[["partial", "one_dimension"]].tolist() == pytest.approx([31.0, 56.5])


def test_five_grade_comment_set() -> None:
    grades = comment_set(5)
    assert [g.name for g in grades] == ["very_low", "low", "medium", "high", "very_high"]
    assert [g.label.zh for g in grades] == [
        "很低风险",
        "较低风险",
        "中等风险",
        "较高风险",
        "很高风险",
    ]
    assert [g.score for g in grades] == [0.0, 25.0, 50.0, 75.0, 100.0]
    settings = parse_fuzzy_settings(
        {
            "grades": 5,
            "memberships": [
                {"indicator": "complaint_count_30d", "breakpoints": [0, 1, 2, 4, 8]},  # peaks
                {"indicator": "open_ticket_count", "breakpoints": [0, 1, 2, 3, 4, 5, 6, 7]},
                {"indicator": "dispute_count_90d", "breakpoints": [0, 1, 2, 3, 4]},
                {"indicator": "nps_latest", "breakpoints": [9, 7, 5, 3, 1]},
            ],
        },
        "fuzzy.yaml",
    )
    values = pd.DataFrame(
        {
            "complaint_count_30d": [0.0, 3.0, 8.0],
            "open_ticket_count": [0.0, 4.5, 9.0],
            "dispute_count_90d": [0.0, 2.0, 4.0],
            "nps_latest": [10.0, 5.0, 0.0],
        },
        index=["calm", "middle", "worst"],
    )
    result = FuzzyEvaluator(settings).fit(values, CATALOG, DIMENSION_WEIGHTS, LOCAL_WEIGHTS)
    out = result.evaluate(values)
    assert out.membership.shape == (3, 5)
    # 3 sits half way between the peaks 2 and 4; 4.5 is half way from 4 to 5
    assert out.indicator_membership[1, 0].tolist() == pytest.approx([0, 0, 0.5, 0.5, 0])
    assert out.indicator_membership[1, 1].tolist() == pytest.approx([0, 0, 0.5, 0.5, 0])
    # middle: complaints (0, 0, .5, .5, 0), trust (0, 0, 1, 0, 0)
    #   B = .6*(0, 0, .5, .5, 0) + .4*(0, 0, 1, 0, 0) = (0, 0, .7, .3, 0) -> medium
    #   index = .7*50 + .3*75 = 57.5
    assert _row(out.membership, "middle") == pytest.approx([0, 0, 0.7, 0.3, 0])
    assert out.level.tolist() == [Level.NONE, Level.MEDIUM, Level.HIGH]
    assert out.risk_index.tolist() == pytest.approx([0.0, 57.5, 100.0])


def test_round_trip_of_fitted_parameters() -> None:
    rng = np.random.default_rng(5)
    values = pd.DataFrame(
        {
            "complaint_count_30d": rng.poisson(0.4, 300).astype(float),
            "open_ticket_count": rng.poisson(1.0, 300).astype(float),
            "dispute_count_90d": rng.poisson(0.1, 300).astype(float),
            "nps_latest": rng.integers(0, 11, 300).astype(float),
        }
    )
    values.iloc[::7, 1] = np.nan
    model = FuzzyEvaluator(FuzzySettings(grades=4)).fit(
        values, CATALOG, DIMENSION_WEIGHTS, LOCAL_WEIGHTS
    )
    stored = json.loads(json.dumps(model.to_dict()))
    again = FuzzyEvaluator.from_dict(stored)
    assert again.settings == model.settings
    assert again.params_ == model.params_
    later = values.sample(frac=1.0, random_state=1) + 1.0  # another as_of: new values
    pd.testing.assert_frame_equal(again.evaluate(later).frame(), model.evaluate(later).frame())
    assert model.params_ is not None
    param = model.params_["nps_latest"]
    assert MembershipParams.from_dict(json.loads(json.dumps(param.to_dict()))) == param
    stored["memberships"] = stored["memberships"][1:]
    with pytest.raises(ConfigError, match=r"model.json: .*has a weight but no breakpoints"):
        FuzzyEvaluator.from_dict(stored, "model.json")


@given(
    base=st.lists(st.floats(0, 10), min_size=4, max_size=4),
    which=st.integers(0, 2),
    raise_by=st.floats(0, 10),
)
def test_raising_a_higher_is_riskier_value_never_lowers_the_index(
    base: list[float], which: int, raise_by: float
) -> None:
    model = _evaluator()
    names = ["complaint_count_30d", "open_ticket_count", "dispute_count_90d", "nps_latest"]
    before = pd.DataFrame([base], columns=names)
    raised = list(base)
    raised[which] += raise_by  # the first three are higher-is-riskier
    after = pd.DataFrame([raised], columns=names)
    low, high = model.evaluate(before).risk_index[0], model.evaluate(after).risk_index[0]
    assert high >= low - 1e-9


def test_settings_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^f.yaml: grades: .*3, 4 or 5 grades, not 7"):
        parse_fuzzy_settings({"grades": 7}, "f.yaml")
    with pytest.raises(ConfigError, match=r"memberships\[0\] \('x'\): give 3 or 4 breakpoints"):
        parse_fuzzy_settings({"memberships": [{"indicator": "x", "breakpoints": [1, 2]}]}, "f")
    with pytest.raises(ConfigError, match="quantiles must increase"):
        parse_fuzzy_settings({"quantiles": [0.5, 0.4, 0.9, 0.95]}, "f")
    reversed_grades = [g.model_dump(mode="json") for g in reversed(comment_set(3))]
    with pytest.raises(ConfigError, match=r"^f: grades: grade scores must increase"):
        parse_fuzzy_settings({"grades": reversed_grades}, "f")


def test_fit_errors() -> None:
    with pytest.raises(UnknownIndicatorError, match="complaints_30d"):
        FuzzyEvaluator().fit(
            EXAMPLE, CATALOG, {"complaints": 1}, {"complaints": {"complaints_30d": 1}}
        )
    with pytest.raises(ConfigError, match="catalog puts it in 'trust'"):
        FuzzyEvaluator().fit(EXAMPLE, CATALOG, {"complaints": 1}, {"complaints": {"nps_latest": 1}})
    with pytest.raises(ConfigError, match="'trust' has a weight but no indicator weights"):
        FuzzyEvaluator().fit(
            EXAMPLE, CATALOG, DIMENSION_WEIGHTS, {"complaints": LOCAL_WEIGHTS["complaints"]}
        )
    with pytest.raises(ConfigError, match="neutral"):
        FuzzyEvaluator().fit(EXAMPLE, CATALOG, {"trust": 1}, {"trust": {"nps_prior": 1}})
    with pytest.raises(ConfigError, match="all zero"):
        FuzzyEvaluator().fit(EXAMPLE, CATALOG, {"complaints": 0}, LOCAL_WEIGHTS)
    with pytest.raises(CrewError, match="not been fitted"):
        FuzzyEvaluator().evaluate(EXAMPLE)
    with pytest.raises(StaleDataError, match="no column 'nps_latest'"):
        _evaluator().evaluate(EXAMPLE.drop(columns="nps_latest"))


def test_neutral_indicator_with_a_configured_direction() -> None:
    settings = FuzzySettings(
        memberships=(
            IndicatorMembership(indicator="nps_prior", breakpoints=(0, 1, 2), direction=HIGHER),
        )
    )
    model = FuzzyEvaluator(settings).fit(
        pd.DataFrame({"nps_prior": [1.5]}), CATALOG, {"trust": 1}, {"trust": {"nps_prior": 1}}
    )
    out = model.evaluate(pd.DataFrame({"nps_prior": [1.5]}))
    assert out.membership.to_numpy()[0].tolist() == pytest.approx([0.0, 0.5, 0.5])


def test_weights_from_stored_scopes() -> None:
    scopes = {
        "dimensions": DIMENSION_WEIGHTS,
        "indicators": {"complaint_count_30d": 0.42},
        "indicators:complaints": LOCAL_WEIGHTS["complaints"],
        "indicators:trust": LOCAL_WEIGHTS["trust"],
    }
    assert weights_from_scopes(scopes) == (DIMENSION_WEIGHTS, LOCAL_WEIGHTS)


def test_every_settings_field_is_described() -> None:
    models: list[type[BaseModel]] = [FuzzySettings, IndicatorMembership, Grade, MembershipParams]
    for model in models:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
