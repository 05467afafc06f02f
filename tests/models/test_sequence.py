"""The LSTM churn model: point-in-time sequences, real training, seeded, pickled, compared."""

from __future__ import annotations

import dataclasses
import pickle
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from tests.conftest import simulated_workspace

from crew.errors import CrewError, IncompatibleModelError, ModelNotTrainedError
from crew.indicators.catalog import Catalog, load_catalog
from crew.models import sequence, sequence_data
from crew.models.churn import ChurnModel
from crew.models.dataset import Examples, build_examples, features_at
from crew.models.sequence import (
    SequenceChurnModel,
    SequenceExamples,
    build_sequences,
    build_sequences_at,
    compare_with_lightgbm,
)
from crew.store import Workspace, open_workspace
from crew.types import Industry

TRAIN_AT = datetime(2024, 11, 1, tzinfo=UTC)
AS_OF = datetime(2025, 1, 1, tzinfo=UTC)


def planted_decline(per_snapshot: int = 500, snapshots: int = 5, seed: int = 0) -> SequenceExamples:
    """Label = the first feature fell by more than 2 over the last 3 months.

    Each customer has its own level, so the last value alone says nothing: only the
    change over time does. Three noise features and 5% missing values ride along.
    """
    rng = np.random.default_rng(seed)
    n, months = per_snapshot * snapshots, 6
    walk = rng.normal(0, 3, size=(n, 1)) + np.cumsum(rng.normal(size=(n, months)), axis=1)
    values = np.concatenate([walk[:, :, None], rng.normal(size=(n, months, 3))], axis=2)
    labels = (walk[:, -1] - walk[:, -4] < -2.0).astype(np.int64)
    missing = rng.uniform(size=values.shape) < 0.05
    keys = [
        (datetime(2024, 6, 1, tzinfo=UTC) + timedelta(days=30 * (i // per_snapshot)), f"c{i}")
        for i in range(n)
    ]
    return SequenceExamples(
        values=np.where(missing, 0.0, values).astype(np.float32),
        missing=missing,
        labels=labels,
        index=pd.MultiIndex.from_tuples(keys, names=["as_of", "customer_id"]),
        features=("spend", "noise_a", "noise_b", "noise_c"),
    )


def _build(conn: duckdb.DuckDBPyConnection, catalog: Catalog) -> SequenceExamples:
    return build_sequences(conn, catalog, TRAIN_AT, 60, months=3, snapshots=3)


def test_sequences_are_point_in_time_and_match_the_examples(
    sim_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = load_catalog()
    read: list[datetime] = []

    def recording(*args: object, **kwargs: object) -> pd.DataFrame:
        read.append(args[2])  # type: ignore[arg-type]
        return features_at(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sequence_data, "features_at", recording)
    with sim_workspace.connect() as conn:
        seqs = _build(conn, catalog)
        examples = build_examples(conn, catalog, TRAIN_AT, 60, snapshots=3)
        newest = seqs.snapshots[-1]
        truth_now = features_at(conn, catalog, newest)
        truth_back = features_at(conn, catalog, newest - timedelta(days=60))
    rows, months, width = seqs.values.shape
    assert (months, width) == (3, len(seqs.features)) and rows == len(examples.labels)
    assert "recency_days" in seqs.features and "segment" not in seqs.features
    # Snapshots at T-120d, T-90d, T-60d with 3 monthly steps: 5 distinct instants, read once.
    assert len(read) == len(set(read)) == 5 and max(read) == newest <= TRAIN_AT
    # The same customers and labels as the tabular examples.
    assert list(seqs.index) == list(examples.features.index)
    assert seqs.labels is not None
    np.testing.assert_array_equal(seqs.labels, examples.labels.to_numpy())
    # The last step is the snapshot itself, the first one two months earlier.
    last = np.asarray(seqs.index.get_level_values("as_of") == newest)
    customers = seqs.index[last].get_level_values("customer_id")
    for step, truth in ((-1, truth_now), (0, truth_back)):
        expected = truth.reindex(customers)[list(seqs.features)].to_numpy(dtype=np.float32)
        got = np.where(seqs.missing[last, step], np.nan, seqs.values[last, step])
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert not np.isnan(seqs.values).any()


def test_rows_after_the_training_instant_change_nothing(
    sim_workspace: Workspace, tmp_path: Path
) -> None:
    shutil.copytree(sim_workspace.root, tmp_path / "ws")
    workspace, catalog = open_workspace(tmp_path / "ws"), load_catalog()
    with workspace.connect() as conn:
        before = _build(conn, catalog)
        for table in ("transactions", "outcomes", "interactions", "events"):
            conn.execute(f"DELETE FROM {table} WHERE ts >= ?", [TRAIN_AT])
        after = _build(conn, catalog)
    assert before.labels is not None and after.labels is not None and before.labels.sum() > 0
    np.testing.assert_array_equal(before.labels, after.labels)
    np.testing.assert_array_equal(before.missing, after.missing)
    np.testing.assert_allclose(before.values, after.values, rtol=1e-6)
    assert list(before.index) == list(after.index)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[SequenceExamples, Examples]:
    """1,000 e-commerce customers over 2024: sequences and tabular examples, same snapshots."""
    workspace = simulated_workspace(tmp_path_factory.mktemp("seq"), Industry.ECOMMERCE, 1000)
    with workspace.connect() as conn:
        catalog = load_catalog()
        seqs = build_sequences(conn, catalog, AS_OF, 60, months=6, snapshots=5)
        examples = build_examples(conn, catalog, AS_OF, 60, snapshots=5)
    return seqs, examples


@pytest.fixture(scope="module")
def trained(simulated: tuple[SequenceExamples, Examples]) -> SequenceChurnModel:
    return SequenceChurnModel(seed=0, epochs=10).fit(simulated[0])


@pytest.mark.slow
def test_the_lstm_really_trains_on_simulated_data(
    simulated: tuple[SequenceExamples, Examples], trained: SequenceChurnModel
) -> None:
    seqs = simulated[0]
    report = trained.report
    assert report is not None
    assert report.train_loss[-1] < 0.8 * report.train_loss[0]
    assert report.candidates["lstm"] > 0.5 and report.chosen == "lstm"
    assert report.test_snapshot == seqs.snapshots[-1]
    # Snapshots between the slices are left out, so that label windows never overlap.
    assert report.train_rows + report.validation_rows + report.test_rows < len(seqs.index)
    assert "purged" in report.validation
    p = trained.predict_proba(seqs)
    assert p.shape == (len(seqs.index),) and np.all((p >= 0) & (p <= 1))
    assert set(trained.describe()) >= {"architecture", "test", "train_loss", "best_epoch"}


@pytest.mark.slow
def test_the_comparison_with_lightgbm_is_on_the_same_customers(
    simulated: tuple[SequenceExamples, Examples], trained: SequenceChurnModel
) -> None:
    examples = simulated[1]
    churn = ChurnModel(seed=0, candidates=("lightgbm",)).fit(examples)
    assert trained.report is not None and churn.report is not None
    table = compare_with_lightgbm(trained.report, churn.report, churn_examples=examples)
    assert table["models"] == ["lstm", "lightgbm"]
    assert table["customers"] == churn.report.test.n == trained.report.test.n
    assert table["test_snapshot"] == f"{examples.snapshots[-1]:%Y-%m-%d}"
    other = dataclasses.replace(
        churn.report, test=dataclasses.replace(churn.report.test, n=churn.report.test.n - 1)
    )
    with pytest.raises(CrewError, match="not tested on the same customers"):
        compare_with_lightgbm(trained.report, other)
    newest = examples.features.index.get_level_values("as_of") == examples.snapshots[-1]
    flipped, first_two = examples.labels.copy(), np.flatnonzero(newest)[:2]
    flipped.iloc[first_two] = 1 - flipped.iloc[first_two]
    with pytest.raises(CrewError, match="same customers"):
        compare_with_lightgbm(
            trained.report,
            churn.report,
            churn_examples=dataclasses.replace(examples, labels=flipped),
        )


def test_a_planted_temporal_pattern_is_learned() -> None:
    model = SequenceChurnModel(seed=0, epochs=25).fit(planted_decline())
    assert model.report is not None
    assert model.report.test.roc_auc > 0.85


def test_a_fixed_seed_repeats_and_inputs_are_not_mutated() -> None:
    examples = planted_decline(per_snapshot=150)
    before = examples.values.copy()
    model = SequenceChurnModel(seed=3, epochs=3)
    assert model.fit(examples) is model
    a = model.predict_proba(examples)
    b = SequenceChurnModel(seed=3, epochs=3).fit(examples).predict_proba(examples)
    c = SequenceChurnModel(seed=4, epochs=3).fit(examples).predict_proba(examples)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(examples.values, before)


def test_a_pickled_model_predicts_the_same(trained_small: SequenceChurnModel) -> None:
    examples = planted_decline(per_snapshot=150, seed=1)
    restored = pickle.loads(pickle.dumps(trained_small))
    assert restored._net is None  # rebuilt from the stored weights on first use
    np.testing.assert_array_equal(
        restored.predict_proba(examples), trained_small.predict_proba(examples)
    )


@pytest.fixture(scope="module")
def trained_small() -> SequenceChurnModel:
    return SequenceChurnModel(seed=0, epochs=2).fit(planted_decline(per_snapshot=150))


def test_scoring_checks_the_model_and_its_inputs(trained_small: SequenceChurnModel) -> None:
    examples = planted_decline(per_snapshot=20)
    with pytest.raises(ModelNotTrainedError, match="not trained"):
        SequenceChurnModel().predict_proba(examples)
    renamed = dataclasses.replace(examples, features=("a", "b", "c", "d"))
    with pytest.raises(IncompatibleModelError, match="trained on 6 months of 4 indicators"):
        trained_small.predict_proba(renamed)
    one_snapshot = examples.rows(
        np.asarray(examples.index.get_level_values(0) == examples.snapshots[0])
    )
    with pytest.raises(CrewError, match="3 or more snapshots"):
        SequenceChurnModel().fit(one_snapshot)


def test_scoring_sequences_end_at_the_instant(sim_workspace: Workspace) -> None:
    with sim_workspace.connect() as conn:
        seqs = build_sequences_at(conn, load_catalog(), TRAIN_AT, months=2)
    assert seqs.labels is None and seqs.values.shape[1] == 2
    assert seqs.snapshots == [TRAIN_AT]


def test_without_torch_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise ImportError("No module named 'torch'")

    monkeypatch.setattr(sequence, "_import_torch", missing)
    with pytest.raises(CrewError, match="needs PyTorch, which is not installed") as caught:
        SequenceChurnModel().fit(planted_decline(per_snapshot=20))
    assert caught.value.hint == "pip install 'crew[deep]'"


def test_the_module_imports_without_torch() -> None:
    # A finder that refuses torch, as on a machine without it (scipy trips over a None
    # in sys.modules, so that shortcut does not simulate it faithfully).
    code = """
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, NoTorch())
import crew.models.sequence as s
try:
    s.require_torch()
except s.CrewError as e:
    print(e.message, e.hint, sep="|")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == (
        "The LSTM model needs PyTorch, which is not installed.|pip install 'crew[deep]'"
    )
