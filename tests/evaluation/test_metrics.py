"""Ranking, calibration and timeliness figures: against scikit-learn and by hand."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import auc, average_precision_score, brier_score_loss, roc_auc_score

from crew.evaluation.metrics import (
    calibration,
    decile_table,
    ks_curve,
    lead_time_summary,
    level_confusion,
    pr_auc,
    pr_points,
    precision_recall_at_k,
    roc_auc,
    roc_points,
    score_report,
)
from crew.models.metrics import ks_statistic


@pytest.fixture
def sample() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    labels = rng.binomial(1, 0.2, 2000)
    scores = np.clip(0.2 + 0.25 * labels + rng.normal(0, 0.2, 2000), 0, 1)
    return labels, scores


def test_roc_points_trace_scikit_learns_curve(sample: tuple[np.ndarray, np.ndarray]) -> None:
    labels, scores = sample
    points = np.array(roc_points(labels, scores, max_points=2000))
    assert points[0].tolist() == [0.0, 0.0] and points[-1].tolist() == [1.0, 1.0]
    assert auc(points[:, 0], points[:, 1]) == pytest.approx(roc_auc_score(labels, scores), abs=1e-4)
    thinned = roc_points(labels, scores, max_points=50)
    assert len(thinned) <= 50


def test_pr_points_run_from_low_to_high_recall(sample: tuple[np.ndarray, np.ndarray]) -> None:
    labels, scores = sample
    points = np.array(pr_points(labels, scores, max_points=5000))
    assert points[0, 0] == 0.0 and points[-1, 0] == 1.0
    assert np.all(np.diff(points[:, 0]) >= 0)
    # Step-wise area under the curve is scikit-learn's average precision.
    ap = np.sum(np.diff(points[:, 0]) * points[1:, 1])
    assert ap == pytest.approx(average_precision_score(labels, scores), abs=1e-3)


def test_ks_by_hand() -> None:
    # Ranked: 1 0 1 0 -> positives 0.5 1 1 1; negatives 0 0.5 0.5 1; widest gap 0.5 at the top.
    result = ks_curve([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    assert result["ks"] == 0.5
    assert result["at_share"] == 0.25 and result["at_score"] == 0.9
    perfect = ks_curve([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert perfect["ks"] == 1.0 and perfect["at_share"] == 0.5


def test_decile_lift_and_gains_by_hand() -> None:
    # 20 customers, 4 outcomes: 3 in the top two, 1 at the bottom.
    labels = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    scores = list(range(20, 0, -1))
    labels[2], labels[19] = 1, 0  # outcomes at ranks 1, 2, 3 and 19
    rows = decile_table(labels, scores)
    assert [r["count"] for r in rows] == [2] * 10
    assert [r["positives"] for r in rows] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert rows[0]["lift"] == pytest.approx(1.0 / 0.2)  # rate 1.0 over base 4/20
    assert rows[1]["cumulative_capture"] == pytest.approx(0.75)
    assert rows[1]["cumulative_lift"] == pytest.approx(0.75 / 0.2)
    assert rows[-1]["cumulative_capture"] == pytest.approx(1.0)


def test_ties_are_ranked_deterministically() -> None:
    labels, scores = [1, 0, 0, 1], [0.5, 0.5, 0.5, 0.5]
    assert decile_table(labels, scores, bins=2) == decile_table(labels, scores, bins=2)
    assert [r["positives"] for r in decile_table(labels, scores, bins=2)] == [1, 1]


def test_precision_recall_at_k() -> None:
    rows = precision_recall_at_k([1, 0, 1, 0, 1], [5, 4, 3, 2, 1], [2, 5])
    assert rows == [
        {"k": 2, "precision": 0.5, "recall": pytest.approx(1 / 3)},
        {"k": 5, "precision": 0.6, "recall": 1.0},
    ]


def test_calibration_against_scikit_learn_and_ece_by_hand(
    sample: tuple[np.ndarray, np.ndarray],
) -> None:
    labels, scores = sample
    result = calibration(labels, scores)
    assert result["brier"] == pytest.approx(brier_score_loss(labels, scores))
    assert result["brier_base_rate"] == pytest.approx(
        brier_score_loss(labels, np.full(len(labels), labels.mean()))
    )
    # Two bins: predicted 0.1 (observed 0/2) and 0.7 (observed 1/2) -> ECE = .5*.1 + .5*.2.
    small = calibration([0, 0, 1, 0], [0.1, 0.1, 0.7, 0.7], bins=2)
    assert small["ece"] == pytest.approx(0.15)
    assert small["max_gap"] == pytest.approx(0.2)


def test_level_confusion_counts_precision_and_cumulative_recall() -> None:
    result = level_confusion(["high", "high", "medium", "low", "none", "none"], [1, 0, 1, 0, 1, 0])
    rows = {r["level"]: r for r in result["levels"]}
    assert rows["high"]["precision"] == 0.5 and rows["high"]["count"] == 2
    assert rows["medium"]["recall_at_or_above"] == pytest.approx(2 / 3)
    assert rows["none"]["recall_at_or_above"] == pytest.approx(1.0)
    assert rows["low"]["precision"] == 0.0


def test_lead_time_summary_by_hand() -> None:
    summary = lead_time_summary([1.0, 8.0, 9.0, 30.0, float("nan")])
    assert summary["count"] == 4 and summary["median"] == 8.5
    assert summary["histogram"]["edges"] == [0, 7, 14, 21, 28, 35]
    assert summary["histogram"]["counts"] == [1, 2, 0, 0, 1]
    assert lead_time_summary([])["median"] is None


def test_auc_figures_match_scikit_learn(sample: tuple[np.ndarray, np.ndarray]) -> None:
    labels, scores = sample
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))
    assert pr_auc(labels, scores) == pytest.approx(average_precision_score(labels, scores))
    assert 0.7 < roc_auc(labels, scores) < 1.0  # the sample's score does carry signal


def test_auc_figures_are_nan_when_one_outcome_is_missing() -> None:
    assert math.isnan(roc_auc([0, 0, 0], [0.1, 0.5, 0.9]))
    assert math.isnan(roc_auc([1, 1, 1], [0.1, 0.5, 0.9]))
    assert math.isnan(pr_auc([0, 0, 0], [0.1, 0.5, 0.9]))


def test_score_report_gathers_every_figure(sample: tuple[np.ndarray, np.ndarray]) -> None:
    labels, scores = sample
    report = score_report(labels, scores, is_probability=True)
    assert report.rankable and report.n == 2000 and report.missing == 0
    assert report.positives == int(labels.sum())
    assert report.base_rate == pytest.approx(labels.mean())
    assert report.roc_auc == pytest.approx(roc_auc_score(labels, scores))
    assert report.pr_auc == pytest.approx(average_precision_score(labels, scores))
    assert report.ks == pytest.approx(ks_statistic(labels, scores))
    assert report.deciles == decile_table(labels, scores)
    assert report.top_decile_lift == report.deciles[0]["lift"]
    assert [r["k"] for r in report.at_k] == [20, 100, 200, 400]  # 1, 5, 10, 20% of 2000
    assert report.calibration is not None
    assert report.calibration["brier"] == pytest.approx(brier_score_loss(labels, scores))
    assert score_report(labels, scores, is_probability=False).calibration is None
    chosen = score_report(labels, scores, is_probability=False, at_k=[7])
    assert [r["k"] for r in chosen.at_k] == [7]


def test_score_report_leaves_out_missing_scores() -> None:
    report = score_report([1, 0, 1, 0, 1], [0.9, 0.1, float("nan"), 0.2, 0.8], is_probability=True)
    assert (report.n, report.missing, report.positives) == (4, 1, 2)
    assert report.roc_auc == 1.0


@pytest.mark.parametrize(
    ("labels", "scores"),
    [
        ([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4]),  # no outcome
        ([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4]),  # only outcomes
        ([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]),  # one distinct score
        ([], []),  # nothing scored
        ([0, 1], [float("nan"), float("nan")]),  # nothing scored, two missing
    ],
)
def test_score_report_on_degenerate_inputs_gives_nan_not_errors(
    labels: list[int], scores: list[float]
) -> None:
    # pytest turns warnings into errors, so this also checks scikit-learn is never asked.
    report = score_report(labels, scores, is_probability=True)
    assert not report.rankable
    assert math.isnan(report.roc_auc) and math.isnan(report.ks) and math.isnan(report.pr_auc)
    assert report.roc is None and report.pr is None and report.deciles == []
    assert (report.calibration is None) == (report.n == 0)
    dumped = json.loads(json.dumps(report.as_dict(), allow_nan=False))
    assert dumped["roc_auc"] is None and dumped["n"] == report.n


def test_score_report_as_dict_is_json(sample: tuple[np.ndarray, np.ndarray]) -> None:
    labels, scores = sample
    report = score_report(labels, scores, is_probability=True)
    dumped = json.loads(json.dumps(report.as_dict(), allow_nan=False))
    assert dumped["roc_auc"] == pytest.approx(report.roc_auc)
    assert len(dumped["deciles"]) == 10 and dumped["roc"][-1] == [1.0, 1.0]


@given(
    st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=1, max_size=200),
    st.integers(1, 12),
)
def test_decile_table_accounts_for_everyone(pairs: list[tuple[int, float]], bins: int) -> None:
    labels, scores = zip(*pairs, strict=True)
    rows = decile_table(labels, scores, bins=bins)
    assert len(rows) == min(bins, len(pairs))
    assert sum(r["count"] or 0 for r in rows) == len(pairs)
    assert sum(r["positives"] or 0 for r in rows) == sum(labels)
    captures = [r["cumulative_capture"] for r in rows]
    if sum(labels):
        known = [c for c in captures if c is not None]
        assert len(known) == len(rows) and known[-1] == pytest.approx(1.0)
        assert all(a <= b for a, b in itertools.pairwise(known))
    else:
        assert set(captures) == {None}
