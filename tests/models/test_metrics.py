"""Score metrics against hand computations and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from crew.models.metrics import ks_statistic, reliability, score_metrics, top_decile_lift


def test_ks_by_hand() -> None:
    # sorted by score: 1 (0.9), 0 (0.8), 1 (0.7), 0 (0.1): TPR 0.5, 0.5, 1, 1; FPR 0, .5, .5, 1
    assert ks_statistic([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == 0.5


def test_lift_by_hand() -> None:
    y = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0] * 2  # base rate 0.2
    s = np.linspace(1, 0, 20)  # the two highest scores: y = 1, 1
    assert top_decile_lift(y, s) == pytest.approx(1.0 / 0.2)


def test_metrics_agree_with_sklearn_and_the_base_rate() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    s = np.clip(0.3 * y + rng.uniform(0, 0.7, 500), 0, 1)
    m = score_metrics(y, s)
    assert m.roc_auc == pytest.approx(roc_auc_score(y, s))
    assert m.brier_base_rate == pytest.approx(y.mean() * (1 - y.mean()))
    assert m.positives == int(y.sum()) and m.n == 500
    bins = reliability(y, s)
    assert sum(n for _, _, n in bins) == 500 and len(bins) == 10
