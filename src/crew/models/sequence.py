"""Churn probability from monthly indicator sequences: a small LSTM (extra `crew[deep]`).

At each rolling snapshot (the instants of `build_examples`), every customer at risk gets
the numeric indicators at the snapshot and at the `months - 1` month ends before it, each
computed point in time with `features_at`, so nothing after the snapshot is read. The LSTM
reads the sequence oldest month first; its last hidden state goes through a linear head
to churn log-odds, which are calibrated like `ChurnModel`'s. The time split is the same:
train on the older snapshots, stop early and calibrate on the second newest, test on the
newest, so `compare_with_lightgbm` can set both models side by side.

PyTorch is imported inside the functions that need it: importing this module never fails
without it, and using the model without it is a `CrewError` with the install hint.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

from crew.errors import CrewError, IncompatibleModelError, ModelNotTrainedError
from crew.models.churn import TrainingReport, _Calibrator, time_split
from crew.models.dataset import Examples
from crew.models.metrics import reliability, score_metrics
from crew.models.sequence_data import (
    Float32Array,
    IntArray,
    SequenceExamples,
    build_sequences,
    build_sequences_at,
    snapshot_fingerprint,
)

if TYPE_CHECKING:
    import torch

FloatArray = npt.NDArray[np.float64]

THREADS = 2
CLIP_SD = 5.0  # standardised values beyond 5 SD carry no more information for the network
MAX_POS_WEIGHT = 20.0


def _import_torch() -> ModuleType:
    return importlib.import_module("torch")


def require_torch() -> None:
    """CrewError with the install hint when PyTorch is not installed."""
    try:
        _import_torch()
    except ImportError:
        raise CrewError(
            "The LSTM model needs PyTorch, which is not installed.",
            hint="pip install 'crew[deep]'",
        ) from None


def _signed_log(x: Float32Array) -> Float32Array:
    # Counts, amounts and ratios are heavy-tailed; the log keeps one big spender from
    # saturating the LSTM's gates while keeping the sign of changes.
    return np.sign(x) * np.log1p(np.abs(x))


@contextmanager
def _torch_session(seed: int) -> Iterator[None]:
    """Seeded, deterministic, 2 threads; the caller's torch settings are restored after."""
    require_torch()
    import torch

    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _network(inputs: int, hidden: int, dropout: float) -> torch.nn.ModuleDict:
    import torch

    return torch.nn.ModuleDict(
        {
            "lstm": torch.nn.LSTM(inputs, hidden, num_layers=1, batch_first=True),
            "dropout": torch.nn.Dropout(dropout),
            "head": torch.nn.Linear(hidden, 1),
        }
    )


def _logits(net: torch.nn.ModuleDict, x: torch.Tensor) -> torch.Tensor:
    out, _ = net["lstm"](x)
    logits: torch.Tensor = net["head"](net["dropout"](out[:, -1, :])).squeeze(-1)
    return logits


@dataclass(frozen=True)
class SequenceReport(TrainingReport):
    """`TrainingReport` plus what the comparison and the learning curve need."""

    test_snapshot: datetime
    test_fingerprint: str
    train_loss: tuple[float, ...]
    validation_auc: tuple[float, ...]
    best_epoch: int


class SequenceChurnModel:
    """Calibrated churn probability from indicator sequences: 1-layer LSTM + linear head."""

    name = "lstm"

    def __init__(
        self,
        *,
        seed: int = 0,
        hidden: int = 32,
        epochs: int = 30,
        patience: int = 6,
        batch_size: int = 256,
        learning_rate: float = 1e-2,
        weight_decay: float = 1e-4,
        dropout: float = 0.1,
    ) -> None:
        self.seed = seed
        self.hidden = hidden
        self.epochs = epochs
        self.patience = patience
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.features: tuple[str, ...] = ()
        self.months = 0
        self.mean_: Float32Array | None = None
        self.std_: Float32Array | None = None
        self._state: dict[str, Float32Array] | None = None
        self._calibrator: _Calibrator | None = None
        self._net: torch.nn.ModuleDict | None = None
        self.report: SequenceReport | None = None

    def fit(self, examples: SequenceExamples) -> Self:
        """Train on the older snapshots, stop early and calibrate on the second newest, test
        on the newest."""
        require_torch()
        y = examples.labels
        snapshots = examples.snapshots
        if y is None or len(snapshots) < 3:
            raise CrewError(
                f"The LSTM needs labelled sequences from 3 or more snapshots, "
                f"got {len(snapshots)}.",
                hint="Use --snapshots 3 or more.",
            )
        times = examples.index.get_level_values("as_of")
        train, valid, test, split = time_split(times, examples.horizon_days)
        if y[train].sum() == 0 or y[valid].sum() == 0:
            raise CrewError(
                "Too few churners to train and validate the LSTM "
                f"({int(y[train].sum())} in training, {int(y[valid].sum())} in validation).",
                hint="Use more snapshots (--snapshots), a longer --horizon, or more data.",
            )
        self.features, self.months = examples.features, examples.values.shape[1]
        self._standardise_from(examples.rows(train))
        x = self._inputs(examples)
        with _torch_session(self.seed):
            losses, aucs, best = self._train(x[train], y[train], x[valid], y[valid])
            raw_valid, raw_test = self._raw(x[valid]), self._raw(x[test])
        self._calibrator = _Calibrator().fit(raw_valid, y[valid])
        probs = self._calibrator(raw_test)
        self.report = SequenceReport(
            validation=split.replace("choose and calibrate", "stop early and calibrate"),
            candidates={"lstm": aucs[best]},
            chosen="lstm",
            calibration=self._calibrator.method,
            test=score_metrics(y[test], probs),
            reliability=reliability(y[test], probs),
            train_rows=int(train.sum()),
            validation_rows=int(valid.sum()),
            test_rows=int(test.sum()),
            test_snapshot=snapshots[-1],
            test_fingerprint=snapshot_fingerprint(
                examples.index[test].get_level_values("customer_id"), y[test]
            ),
            train_loss=tuple(losses),
            validation_auc=tuple(aucs),
            best_epoch=best + 1,
        )
        return self

    def _standardise_from(self, train: SequenceExamples) -> None:
        """Mean and SD of each feature over the observed training values only."""
        logged = _signed_log(train.values).reshape(-1, len(self.features))
        observed = ~train.missing.reshape(-1, len(self.features))
        counts = observed.sum(axis=0)
        sums = np.where(observed, logged, 0.0).sum(axis=0)
        mean = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        squares = np.where(observed, (logged - mean) ** 2, 0.0).sum(axis=0)
        std = np.sqrt(np.divide(squares, counts, out=np.zeros_like(squares), where=counts > 0))
        self.mean_ = mean.astype(np.float32)
        self.std_ = np.where(std > 1e-6, std, 1.0).astype(np.float32)

    def _inputs(self, sequences: SequenceExamples) -> Float32Array:
        """Standardised values (missing = the training mean, 0) beside the missing flags."""
        assert self.mean_ is not None and self.std_ is not None
        z = (_signed_log(sequences.values) - self.mean_) / self.std_
        z = np.clip(np.where(sequences.missing, 0.0, z), -CLIP_SD, CLIP_SD)
        flags = sequences.missing.astype(np.float32)
        return np.concatenate([z, flags], axis=2).astype(np.float32)

    def _train(
        self, x: Float32Array, y: IntArray, xv: Float32Array, yv: IntArray
    ) -> tuple[list[float], list[float], int]:
        """Adam on weighted BCE; keeps the epoch with the best validation ROC AUC."""
        import torch

        net = _network(x.shape[2], self.hidden, self.dropout)
        rate = float(y.mean())
        # Imbalance: weight churners up (capped) so they shape the gradient; calibration
        # on the validation slice undoes the bias this puts in the probabilities.
        pos_weight = min((1 - rate) / max(rate, 1e-6), MAX_POS_WEIGHT)
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([pos_weight]))
        optimiser = torch.optim.Adam(
            net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        shuffle = torch.Generator().manual_seed(self.seed)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))
        losses: list[float] = []
        aucs: list[float] = []
        best, best_state = 0, {k: v.clone() for k, v in net.state_dict().items()}
        for epoch in range(self.epochs):
            net.train()
            order = torch.randperm(len(xt), generator=shuffle)
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                optimiser.zero_grad()
                loss = loss_fn(_logits(net, xt[batch]), yt[batch])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimiser.step()
                total += float(loss.item()) * len(batch)
            losses.append(total / len(order))
            self._net = net
            aucs.append(float(roc_auc_score(yv, self._raw(xv))))
            if aucs[-1] > aucs[best] or epoch == 0:
                best, best_state = epoch, {k: v.clone() for k, v in net.state_dict().items()}
            elif epoch - best >= self.patience:
                break
        net.load_state_dict(best_state)
        self._net = net
        self._state = {k: v.detach().numpy().copy() for k, v in best_state.items()}
        return losses, aucs, best

    def _raw(self, x: Float32Array) -> FloatArray:
        """Log-odds of the network, in batches."""
        import torch

        net = self._module()
        net.eval()
        parts = []
        with torch.no_grad():
            for start in range(0, len(x), 4096):
                parts.append(_logits(net, torch.from_numpy(x[start : start + 4096])).numpy())
        return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)

    def _module(self) -> torch.nn.ModuleDict:
        """The network, rebuilt from the stored weights after unpickling."""
        if self._net is None:
            import torch

            assert self._state is not None
            net = _network(2 * len(self.features), self.hidden, self.dropout)
            net.load_state_dict({k: torch.from_numpy(v) for k, v in self._state.items()})
            self._net = net
        return self._net

    def predict_proba(self, sequences: SequenceExamples) -> FloatArray:
        """Calibrated churn probability per row of `sequences`."""
        if self._calibrator is None or self._state is None:
            raise ModelNotTrainedError("The LSTM model is not trained.", hint="Run 'crew train'.")
        if sequences.features != self.features or sequences.values.shape[1] != self.months:
            raise IncompatibleModelError(
                f"The LSTM was trained on {self.months} months of {len(self.features)} "
                f"indicators; got {sequences.values.shape[1]} months of "
                f"{len(sequences.features)}.",
                hint="Build the sequences with the model's features and months, or retrain.",
            )
        with _torch_session(self.seed):
            raw = self._raw(self._inputs(sequences))
        return self._calibrator(raw)

    def __getstate__(self) -> dict[str, Any]:
        # The weights travel as numpy arrays; the torch module is rebuilt on first use.
        state = dict(self.__dict__)
        state["_net"] = None
        return state

    def describe(self) -> dict[str, Any]:
        """Architecture, learning curve and validation figures, for the registry."""
        assert self.report is not None
        return {
            "chosen": self.report.chosen,
            "architecture": {
                "lstm_layers": 1,
                "hidden": self.hidden,
                "months": self.months,
                "indicators": len(self.features),
                "dropout": self.dropout,
            },
            "validation": self.report.validation,
            "candidates_roc_auc": self.report.candidates,
            "calibration": self.report.calibration,
            "best_epoch": self.report.best_epoch,
            "train_loss": list(self.report.train_loss),
            "validation_roc_auc": list(self.report.validation_auc),
            "test": self.report.test.as_dict(),
            "reliability": self.report.reliability,
            "rows": {
                "train": self.report.train_rows,
                "validation": self.report.validation_rows,
                "test": self.report.test_rows,
            },
        }


def _test_date(report: TrainingReport) -> str:
    found = re.search(r"test on (\d{4}-\d{2}-\d{2})", report.validation)
    if found is None:
        raise CrewError(
            f"The churn model was not tested out of time ({report.validation}).",
            hint="Compare on data with history, trained with --snapshots 3 or more.",
        )
    return found.group(1)


def compare_with_lightgbm(
    sequence_report: SequenceReport,
    churn_report: TrainingReport,
    *,
    churn_examples: Examples | None = None,
) -> dict[str, object]:
    """Both models' out-of-time test figures side by side, on the same newest snapshot.

    Raises CrewError unless both were tested on the same snapshot with the same customers
    and churners; pass the churn model's `churn_examples` to check customer by customer.
    """
    snapshot = f"{sequence_report.test_snapshot:%Y-%m-%d}"
    lstm, other = sequence_report.test, churn_report.test
    counts = (lstm.n, lstm.positives) == (other.n, other.positives)
    same = counts and _test_date(churn_report) == snapshot
    if same and churn_examples is not None:
        times = churn_examples.features.index.get_level_values("as_of")
        newest = np.asarray(times == max(times))
        same = sequence_report.test_fingerprint == snapshot_fingerprint(
            churn_examples.features.index[newest].get_level_values("customer_id"),
            churn_examples.labels.to_numpy()[newest],
        )
    if not same:
        raise CrewError(
            f"The models were not tested on the same customers: LSTM on {snapshot} "
            f"({lstm.n} customers, {lstm.positives} churners), {churn_report.chosen} on "
            f"{_test_date(churn_report)} ({other.n} customers, {other.positives} churners).",
            hint="Train both with the same --as-of, --horizon, --snapshots, --step and data.",
        )
    figures = ("roc_auc", "pr_auc", "ks", "brier", "top_decile_lift", "max_calibration_gap")
    a, b = lstm.as_dict(), other.as_dict()
    return {
        "test_snapshot": snapshot,
        "customers": lstm.n,
        "churners": lstm.positives,
        "base_rate": lstm.base_rate,
        "models": ["lstm", churn_report.chosen],
        "validation_roc_auc": {
            "lstm": sequence_report.candidates["lstm"],
            churn_report.chosen: churn_report.candidates[churn_report.chosen],
        },
        "test": {name: {"lstm": a[name], churn_report.chosen: b[name]} for name in figures},
        "lstm_minus_other": {name: a[name] - b[name] for name in figures},
    }


__all__ = [
    "SequenceChurnModel",
    "SequenceExamples",
    "SequenceReport",
    "build_sequences",
    "build_sequences_at",
    "compare_with_lightgbm",
    "require_torch",
    "snapshot_fingerprint",
]
