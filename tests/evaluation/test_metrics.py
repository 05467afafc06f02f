"""Ranking, calibration and timeliness figures: against scikit-learn and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import auc, average_precision_score, brier_score_loss, roc_auc_score

from crew.evaluation.metrics import (
    calibration,
    decile_table,
    ks_curve,
    lead_time_summary,
    level_confusion,
    pr_points,
    precision_recall_at_k,
    roc_points,
)


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
