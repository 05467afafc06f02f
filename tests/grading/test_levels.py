"""Levels from scores: limits, hysteresis and the one-level-per-risk-type rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crew.errors import ConfigError
from crew.grading.levels import grade, level_codes, next_level, resolve_limits
from crew.grading.thresholds import ThresholdRule, load_thresholds
from crew.signals.detect import SignalScores
from crew.signals.specs import SignalSpec, load_signals
from crew.types import Industry

RULE = ThresholdRule(signal="s", low_at=2.0, medium_at=4.0, high_at=6.0, exit_factor=0.75)
LIMITS = resolve_limits(RULE, [0.0])


def _level_path(scores: list[float]) -> list[int]:
    level = np.zeros(1, dtype=np.int8)
    path = []
    for s in scores:
        level = next_level(level_codes([s], LIMITS.enter), level_codes([s], LIMITS.exit), level)
        path.append(int(level[0]))
    return path


def test_a_score_oscillating_around_a_limit_raises_one_warning() -> None:
    # 2.0 enters LOW; exit is 1.5: wobbling between 1.7 and 2.3 never leaves it.
    path = _level_path([1.0, 2.1, 1.8, 2.3, 1.7, 2.2, 1.6, 2.0, 1.9])
    raised = sum(1 for a, b in zip([0, *path], path, strict=False) if a == 0 and b > 0)
    assert raised == 1
    assert path[-1] == 1
    assert _level_path([2.1, 1.4])[-1] == 0  # below the exit limit it does leave


def test_without_hysteresis_the_same_scores_flap() -> None:
    limits = resolve_limits(RULE.model_copy(update={"exit_factor": 1.0}), [0.0])
    level, raised = np.zeros(1, dtype=np.int8), 0
    for s in [1.0, 2.1, 1.8, 2.3, 1.7, 2.2]:
        new = next_level(level_codes([s], limits.enter), level_codes([s], limits.exit), level)
        raised += int(level[0] == 0 and new[0] > 0)
        level = new
    assert raised == 3


@given(
    st.floats(-10, 10, allow_nan=False),
    st.floats(-10, 10, allow_nan=False),
    st.integers(0, 3),
)
def test_a_higher_score_never_gets_a_milder_level(a: float, b: float, prior: int) -> None:
    lo, hi = sorted((a, b))
    prev = np.array([prior], dtype=np.int8)

    def level(s: float) -> int:
        return int(
            next_level(level_codes([s], LIMITS.enter), level_codes([s], LIMITS.exit), prev)[0]
        )

    assert level(lo) <= level(hi)


def test_statistical_limits_follow_the_population() -> None:
    scores = np.arange(1000, dtype=float)
    quantile = resolve_limits(ThresholdRule(signal="s", method="quantile", low_at=0.99), scores)
    assert quantile.enter[0] == pytest.approx(np.quantile(scores, 0.99))
    ksigma = resolve_limits(ThresholdRule(signal="s", method="k_sigma", high_at=3), scores)
    assert ksigma.enter[2] == pytest.approx(scores.mean() + 3 * scores.std())


def test_rules_must_rise_and_quantiles_stay_inside_zero_one() -> None:
    with pytest.raises(ValueError, match="rise"):
        ThresholdRule(signal="s", low_at=5, medium_at=3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        ThresholdRule(signal="s", method="quantile", high_at=1.5)


def test_a_bad_thresholds_file_names_file_and_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.yaml"
    path.write_text("rules:\n  - {signal: spend_drop, low_at: 5, medium_at: 2}\n")
    with pytest.raises(ConfigError, match=r"t.yaml: rules.0: .*rise"):
        load_thresholds(None, None, path=path)


def test_profile_rules_win_over_generic_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.yaml"
    path.write_text(
        "rules:\n"
        "  - {signal: spend_drop, low_at: 9, profiles: [finance]}\n"
        "  - {signal: spend_drop, low_at: 7}\n"
    )
    assert load_thresholds(None, Industry.FINANCE, path=path)["spend_drop"].low_at == 9
    assert load_thresholds(None, Industry.TELECOM, path=path)["spend_drop"].low_at == 7


def test_every_builtin_signal_has_a_rule() -> None:
    names = {s.name for s in load_signals()}
    assert names == set(load_thresholds(None, None))


def test_grade_takes_the_highest_signal_of_a_risk_type_with_hysteresis() -> None:
    specs = {
        "a": SignalSpec(
            name="a", risk_type="churn", detector="model", label={"en": "a", "zh": "a"}
        ),
        "b": SignalSpec(
            name="b", risk_type="churn", detector="model", label={"en": "b", "zh": "b"}
        ),
    }
    scores = pd.DataFrame(
        {"a": [2.5, 0.0, 1.9, 0.0], "b": [6.5, 0.0, 0.0, np.nan]},
        index=pd.Index(["c1", "c2", "c3", "c4"], name="customer_id"),
    )
    rules = {
        "a": RULE.model_copy(update={"signal": "a"}),
        "b": RULE.model_copy(update={"signal": "b"}),
    }
    previous = pd.DataFrame(
        {"customer_id": ["c3", "c4"], "risk_type": ["churn", "churn"], "level": ["low", "high"]}
    )
    rows = grade(SignalScores(scores, {}, specs), rules, previous).rows.set_index("customer_id")
    assert rows.loc["c1", "level"] == "high"
    assert rows.loc["c1", "leading_signal"] == "b"
    assert rows.loc["c1", "signals"] == ["a", "b"]
    assert rows.loc["c3", "level"] == "low"  # 1.9 is above LOW's exit limit 1.5
    assert "c2" not in rows.index and "c4" not in rows.index
