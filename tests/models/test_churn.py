"""The churn model contract: fit returns self, probabilities in [0, 1], seeded, explainable."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from crew.errors import ModelNotTrainedError
from crew.indicators.catalog import load_catalog
from crew.models.churn import ChurnModel
from crew.models.dataset import Examples, build_examples
from crew.store import Workspace


@pytest.fixture(scope="module")
def examples(sim_workspace: Workspace) -> Examples:
    with sim_workspace.connect() as conn:
        return build_examples(
            conn, load_catalog(), datetime(2025, 1, 1, tzinfo=UTC), 60, snapshots=5, step_days=30
        )


def _linear_examples(n: int = 3000, seed: int = 0) -> Examples:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(2.0 * x1 - 1.0 * x2 - 2.5)))).astype(int)
    index = pd.MultiIndex.from_arrays(
        [[pd.NaT] * n, [f"c{i}" for i in range(n)]], names=["as_of", "customer_id"]
    )
    features = pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "noise": rng.normal(size=n),
            "segment": rng.choice(["a", "b"], size=n).astype(object),
        },
        index=index,
    )
    return Examples(features, pd.Series(y, index=index), ("x1", "x2", "noise"), ("segment",))


def test_fit_returns_self_and_probabilities_stay_in_0_1(examples: Examples) -> None:
    before = examples.features.copy()
    model = ChurnModel(seed=1)
    assert model.fit(examples) is model
    p = model.predict_proba(examples.features)
    assert p.shape == (len(examples.features),) and np.all((p >= 0) & (p <= 1))
    pd.testing.assert_frame_equal(examples.features, before)  # inputs are not mutated
    report = model.report
    assert report is not None and report.chosen in ("lightgbm", "logistic", "blend")
    assert report.test.roc_auc > 0.5
    assert "out-of-time" in report.validation


def test_a_fixed_seed_repeats(examples: Examples) -> None:
    a = ChurnModel(seed=7).fit(examples).predict_proba(examples.features)
    b = ChurnModel(seed=7).fit(examples).predict_proba(examples.features)
    np.testing.assert_allclose(a, b)


def test_linear_truth_is_found_and_explained() -> None:
    examples = _linear_examples()
    model = ChurnModel(seed=0).fit(examples)
    assert model.report is not None
    assert model.report.test.roc_auc > 0.8
    assert "stratified folds" in model.report.validation
    contributions = model.contributions(examples.features)
    assert list(contributions.columns) == ["x1", "x2", "noise", "segment"]
    # x1 raises risk, x2 lowers it: their contributions follow the values.
    x1 = examples.features["x1"].to_numpy()
    assert np.corrcoef(x1, contributions["x1"])[0, 1] > 0.8
    assert np.corrcoef(examples.features["x2"], contributions["x2"])[0, 1] < -0.5
    assert contributions["x1"].abs().mean() > 3 * contributions["noise"].abs().mean()


def test_scoring_an_untrained_model_is_refused() -> None:
    with pytest.raises(ModelNotTrainedError, match="not trained"):
        ChurnModel().predict_proba(pd.DataFrame({"x": [1.0]}))


def test_the_time_split_keeps_label_windows_apart() -> None:
    from datetime import timedelta

    from crew.errors import CrewError
    from crew.models.churn import time_split

    start = datetime(2024, 1, 1, tzinfo=UTC)
    snaps = [start + timedelta(days=30 * k) for k in range(9)]
    times = pd.Index([s for s in snaps for _ in range(3)])
    train, valid, test, text = time_split(times, 90)
    chosen = sorted({t for t, keep in zip(times, train, strict=True) if keep})
    assert chosen == snaps[:3]  # their 90-day windows end by the validation snapshot
    assert set(times[valid]) == {snaps[5]} and set(times[test]) == {snaps[8]}
    assert "purged" in text
    with pytest.raises(CrewError, match="too few") as caught:
        time_split(pd.Index(snaps[:5]), 90)
    assert caught.value.hint == "Use --snapshots 7 or more (or a longer --step)."


def test_numeric_inputs_become_floats_as_pandas_would_convert_them() -> None:
    """`_clip` (one float array) against the per-column pandas conversion it replaces."""
    from crew.models.churn import _clip

    def per_column(x: pd.DataFrame, numeric: tuple[str, ...]) -> pd.DataFrame:
        x = x.copy()
        for c in numeric:
            x[c] = pd.to_numeric(x[c], errors="coerce").astype(float)
            x[c] = x[c].replace([np.inf, -np.inf], np.nan)
        return x

    x = pd.DataFrame(
        {"a": [1, 2, None], "b": [np.inf, 1.5, -np.inf], "segment": ["x", None, "y"],
         "c": pd.array([1, None, 3], dtype="Int64"), "d": [True, False, True],
         "e": ["1.5", "zz", None]},
        index=pd.Index(["C1", "C2", "C3"], name="customer_id"),
    )  # fmt: skip
    for numeric in (("a", "b", "c", "d"), ("a", "e"), ()):
        pd.testing.assert_frame_equal(_clip(x, numeric), per_column(x, numeric))


def test_a_category_never_seen_in_training_scores_as_missing() -> None:
    examples = _linear_examples(1500)
    model = ChurnModel(seed=0).fit(examples)
    rows = examples.features.iloc[:5]
    unseen = rows.assign(segment="z")  # a segment created after training
    missing = rows.assign(segment=None)
    p_unseen, p_missing = model.predict_proba(unseen), model.predict_proba(missing)
    np.testing.assert_allclose(p_unseen, p_missing)
    assert list(model.contributions(unseen).columns) == ["x1", "x2", "noise", "segment"]
