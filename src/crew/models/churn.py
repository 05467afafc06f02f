"""Churn probability: LightGBM against a regularised logistic regression, calibrated.

`ChurnModel.fit` splits the examples by time when they come from rolling snapshots
(train on the older ones, choose the model and calibrate on the second newest, measure on
the newest: an out-of-time test), or by stratified folds for a snapshot data set. It keeps
whichever candidate — LightGBM, logistic regression, or their average — ranks the
validation slice best: on small tabular data the linear model often wins.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Self

# LightGBM's OpenMP threads otherwise spin while they wait: on a machine whose cores other
# processes share, two spinning threads made training and scoring about 10x slower (see
# docs/models.md, "Speed"). Read when libgomp loads, i.e. at the import below.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from crew.errors import CrewError, ModelNotTrainedError
from crew.models.dataset import Examples
from crew.models.metrics import ScoreMetrics, reliability, score_metrics

FloatArray = npt.NDArray[np.float64]
CANDIDATES = ("lightgbm", "logistic", "blend")
MIN_POSITIVES_FOR_ISOTONIC = 50


@dataclass
class _Logistic:
    """Imputation + missing flags + scaling + one-hot, then L2 logistic regression."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    seed: int
    pipeline: Pipeline | None = None
    # Training mean of each transformed column: one-hot columns are centred on their
    # training frequency, so a row's contributions do not depend on the rows scored with
    # it (None in models fitted before: those centre on the scored rows).
    centres: FloatArray | None = None

    def fit(self, x: pd.DataFrame, y: npt.ArrayLike) -> Self:
        numeric = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                ),
                ("scale", StandardScaler()),
            ]
        )
        categorical = Pipeline(
            [
                ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                ("onehot", OneHotEncoder(handle_unknown="ignore", min_frequency=20)),
            ]
        )
        prep = ColumnTransformer(
            [("num", numeric, list(self.numeric)), ("cat", categorical, list(self.categorical))]
        )
        model = LogisticRegression(C=0.3, max_iter=3000, class_weight="balanced")
        self.pipeline = Pipeline([("prep", prep), ("model", model)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            self.pipeline.fit(_clip(x, self.numeric), np.asarray(y))
        self.centres = np.asarray(self._transformed(x).mean(axis=0), dtype=float)
        return self

    def _transformed(self, x: pd.DataFrame) -> FloatArray:
        assert self.pipeline is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            z = self.pipeline.named_steps["prep"].transform(_clip(x, self.numeric))
        return np.asarray(z.toarray() if hasattr(z, "toarray") else z, dtype=float)

    def raw(self, x: pd.DataFrame) -> FloatArray:
        """Log-odds."""
        assert self.pipeline is not None
        return np.asarray(self.pipeline.decision_function(_clip(x, self.numeric)), dtype=float)

    def contributions(self, x: pd.DataFrame) -> pd.DataFrame:
        """Log-odds contribution of each input column (its transformed columns summed)."""
        assert self.pipeline is not None
        prep: ColumnTransformer = self.pipeline.named_steps["prep"]
        coef = self.pipeline.named_steps["model"].coef_[0]
        z = self._transformed(x)
        names = prep.get_feature_names_out()
        centres = z.mean(axis=0) if self.centres is None else self.centres
        out = pd.DataFrame(0.0, index=x.index, columns=[*self.numeric, *self.categorical])
        for j, name in enumerate(names):
            source = _source_column(name, out.columns)
            # Centred on zero (the scaled mean); one-hot columns against their frequency.
            out[source] += coef[j] * (
                z[:, j] - (0.0 if name.startswith("num__") else float(centres[j]))
            )
        return out


def _clip(x: pd.DataFrame, numeric: tuple[str, ...]) -> pd.DataFrame:
    """Numeric columns as floats with infinities as missing.

    All numeric columns go through one float array (a few rows are scored at a time in
    the stream, where pandas' per-column calls would cost more than the model); a column
    with text in it is parsed on its own, unparsable values missing.
    """
    columns = list(numeric)
    try:
        values = x[columns].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        values = np.column_stack(
            [pd.to_numeric(x[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
             for c in columns]
        ) if columns else np.empty((len(x), 0))  # fmt: skip
    values = np.where(np.isfinite(values), values, np.nan)
    floats = pd.DataFrame(values, index=x.index, columns=columns)
    others = [c for c in x.columns if c not in set(columns)]
    return pd.concat([floats, x[others]], axis=1)[list(x.columns)]


def _source_column(name: str, columns: pd.Index) -> str:
    body = name.split("__", 1)[1]
    if body.startswith("missingindicator_"):
        body = body.removeprefix("missingindicator_")
    if body in columns:
        return str(body)
    matches = [c for c in columns if body.startswith(f"{c}_")]
    return str(max(matches, key=len))


@dataclass
class _Boosting:
    """LightGBM with early stopping on the validation slice."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    seed: int
    booster: lgb.Booster | None = None
    categories: dict[str, list[str]] = field(default_factory=dict)

    def _frame(self, x: pd.DataFrame) -> pd.DataFrame:
        out = _clip(x[[*self.numeric, *self.categorical]], self.numeric)
        for c in self.categorical:
            # A value training never saw is missing (what LightGBM would make of it anyway).
            values = out[c].astype("object")
            values = values.where(values.isin(self.categories[c]))
            out[c] = pd.Categorical(values, categories=self.categories[c])
        return out

    def fit(
        self, x: pd.DataFrame, y: npt.ArrayLike, x_valid: pd.DataFrame, y_valid: npt.ArrayLike
    ) -> Self:
        self.categories = {
            c: sorted(str(v) for v in x[c].dropna().unique()) for c in self.categorical
        }
        y_arr, yv = np.asarray(y), np.asarray(y_valid)
        params = {
            "objective": "binary",
            # Stop on ranking quality: with up-weighted positives the log loss of the
            # unweighted validation slice rises from the first trees on.
            "metric": "auc",
            "learning_rate": 0.05,
            "num_leaves": 15,
            "min_data_in_leaf": 40,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 5.0,
            # Imbalance: weight positives up so that rare churners shape the trees; the
            # probabilities are calibrated afterwards, so the weighting does not bias them.
            "scale_pos_weight": float(min((1 - y_arr.mean()) / max(y_arr.mean(), 1e-6), 20.0)),
            "seed": self.seed,
            "deterministic": True,
            "num_threads": 2,
            "verbose": -1,
        }
        train = lgb.Dataset(self._frame(x), label=y_arr, free_raw_data=False)
        valid = lgb.Dataset(self._frame(x_valid), label=yv, reference=train)
        self.booster = lgb.train(
            params,
            train,
            num_boost_round=1000,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(50, verbose=False)],
        )
        return self

    def raw(self, x: pd.DataFrame) -> FloatArray:
        assert self.booster is not None
        return np.asarray(
            self.booster.predict(
                self._frame(x), raw_score=True, num_iteration=self.booster.best_iteration
            ),
            dtype=float,
        )

    def contributions(self, x: pd.DataFrame) -> pd.DataFrame:
        """LightGBM's own per-feature contributions (log-odds, TreeSHAP)."""
        assert self.booster is not None
        values = self.booster.predict(
            self._frame(x), pred_contrib=True, num_iteration=self.booster.best_iteration
        )
        return pd.DataFrame(
            np.asarray(values)[:, :-1], index=x.index, columns=[*self.numeric, *self.categorical]
        )


@dataclass
class _Calibrator:
    """Log-odds -> probability: isotonic when there are enough positives, else Platt."""

    method: str = "isotonic"
    isotonic: IsotonicRegression | None = None
    platt: LogisticRegression | None = None

    def fit(self, raw: FloatArray, y: npt.ArrayLike) -> Self:
        y_arr = np.asarray(y)
        if y_arr.sum() >= MIN_POSITIVES_FOR_ISOTONIC:
            self.method = "isotonic"
            self.isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
            self.isotonic.fit(raw, y_arr)
        else:
            self.method = "platt"
            self.platt = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y_arr)
        return self

    def __call__(self, raw: FloatArray) -> FloatArray:
        if self.isotonic is not None:
            return np.asarray(self.isotonic.predict(raw), dtype=float)
        assert self.platt is not None
        return np.asarray(self.platt.predict_proba(raw.reshape(-1, 1))[:, 1], dtype=float)


def time_split(
    times: pd.Index, horizon_days: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_], str]:
    """Purged out-of-time split of snapshot rows: (train, validation, test, description).

    Test is the newest snapshot; validation the newest snapshot whose label window ends by
    the test snapshot; training the snapshots whose label windows end by the validation
    snapshot. Label windows of different slices never overlap, so a churn event that a
    test label counts was never seen as a training label.
    """
    snapshots = sorted(set(times))
    gap = timedelta(days=horizon_days)
    test_at = snapshots[-1]
    candidates = [s for s in snapshots[:-1] if s + gap <= test_at]
    valid_at = candidates[-1] if candidates else None
    trained = [
        s for s in snapshots if valid_at is not None and s + gap <= valid_at and s < valid_at
    ]
    if valid_at is None or not trained:
        step = (snapshots[1] - snapshots[0]).days if len(snapshots) > 1 else horizon_days or 30
        per_gap = -(-horizon_days // max(step, 1)) if horizon_days else 1
        raise CrewError(
            f"{len(snapshots)} snapshots are too few for an out-of-time split whose label "
            f"windows ({horizon_days} days) do not overlap.",
            hint=f"Use --snapshots {2 * per_gap + 1} or more (or a longer --step).",
        )
    t = np.asarray(times)
    train = np.isin(t, np.asarray(trained, dtype=t.dtype))
    valid, test = t == valid_at, t == test_at
    text = (
        f"out-of-time, purged: train on {len(trained)} snapshots up to {trained[-1]:%Y-%m-%d}, "
        f"choose and calibrate on {valid_at:%Y-%m-%d}, test on {test_at:%Y-%m-%d}"
    )
    return train, valid, test, text


@dataclass(frozen=True)
class TrainingReport:
    """What was compared, what was kept, how it did out of sample."""

    validation: str
    candidates: dict[str, float]
    chosen: str
    calibration: str
    test: ScoreMetrics
    reliability: list[tuple[float, float, int]]
    train_rows: int
    validation_rows: int
    test_rows: int


class ChurnModel:
    """Calibrated churn probability with per-feature reason codes."""

    name = "churn"

    def __init__(self, *, seed: int = 0, candidates: tuple[str, ...] = CANDIDATES) -> None:
        self.seed = seed
        self.candidates = candidates
        self.chosen: str | None = None
        self.numeric: tuple[str, ...] = ()
        self.categorical: tuple[str, ...] = ()
        self._logistic: _Logistic | None = None
        self._boosting: _Boosting | None = None
        self._calibrator: _Calibrator | None = None
        self._blend_stats = (0.0, 1.0, 0.0, 1.0)  # mean, std of each model's training log-odds
        self.report: TrainingReport | None = None

    def fit(self, examples: Examples) -> Self:
        """Compare the candidates, keep the best, calibrate, and measure out of sample."""
        self.numeric, self.categorical = examples.numeric, examples.categorical
        x, y = examples.features, examples.labels.to_numpy()
        snapshots = (
            examples.snapshots if examples.features.index.get_level_values(0).notna().all() else []
        )
        if len(snapshots) >= 2:
            times = x.index.get_level_values("as_of")
            train, valid, test, validation = time_split(times, examples.horizon_days)
        else:
            folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=self.seed)
            parts = [idx for _, idx in folds.split(np.zeros(len(y)), y)]
            valid = np.isin(np.arange(len(y)), parts[0])
            test = np.isin(np.arange(len(y)), parts[1])
            train = ~(valid | test)
            validation = "stratified folds: 3/5 train, 1/5 choose and calibrate, 1/5 test"
        scores = self._fit_candidates(x[train], y[train], x[valid], y[valid])
        self.chosen = max(scores, key=lambda k: scores[k])
        self._calibrator = _Calibrator().fit(self._raw(x[valid]), y[valid])
        probs = self.predict_proba(x[test])
        self.report = TrainingReport(
            validation=validation,
            candidates=scores,
            chosen=self.chosen,
            calibration=self._calibrator.method,
            test=score_metrics(y[test], probs),
            reliability=reliability(y[test], probs),
            train_rows=int(np.sum(train)),
            validation_rows=int(np.sum(valid)),
            test_rows=int(np.sum(test)),
        )
        return self

    def _fit_candidates(
        self, x: pd.DataFrame, y: FloatArray, xv: pd.DataFrame, yv: FloatArray
    ) -> dict[str, float]:
        if y.sum() == 0 or yv.sum() == 0:
            raise CrewError(
                "Too few churners to train and validate a model "
                f"({int(y.sum())} in training, {int(yv.sum())} in validation).",
                hint="Use more snapshots (--snapshots), a longer --horizon, or more data.",
            )
        scores: dict[str, float] = {}
        if "logistic" in self.candidates or "blend" in self.candidates:
            self._logistic = _Logistic(self.numeric, self.categorical, self.seed).fit(x, y)
            scores["logistic"] = float(roc_auc_score(yv, self._logistic.raw(xv)))
        if "lightgbm" in self.candidates or "blend" in self.candidates:
            self._boosting = _Boosting(self.numeric, self.categorical, self.seed).fit(x, y, xv, yv)
            scores["lightgbm"] = float(roc_auc_score(yv, self._boosting.raw(xv)))
        if "blend" in self.candidates and self._logistic and self._boosting:
            a, b = self._logistic.raw(x), self._boosting.raw(x)
            self._blend_stats = (
                float(a.mean()),
                float(a.std()) or 1.0,
                float(b.mean()),
                float(b.std()) or 1.0,
            )
            self.chosen = "blend"
            scores["blend"] = float(roc_auc_score(yv, self._raw(xv)))
        return {k: v for k, v in scores.items() if k in self.candidates}

    def _raw(self, x: pd.DataFrame) -> FloatArray:
        if self.chosen == "logistic":
            assert self._logistic is not None
            return self._logistic.raw(x)
        if self.chosen == "lightgbm":
            assert self._boosting is not None
            return self._boosting.raw(x)
        assert self._logistic is not None and self._boosting is not None
        # Blend on standardised log-odds, so that neither model's scale dominates.
        a, b = self._logistic.raw(x), self._boosting.raw(x)
        return (a - self._blend_stats[0]) / self._blend_stats[1] + (
            b - self._blend_stats[2]
        ) / self._blend_stats[3]

    def predict_proba(self, features: pd.DataFrame) -> FloatArray:
        """Calibrated churn probability per row of `features`."""
        if self._calibrator is None or self.chosen is None:
            raise ModelNotTrainedError("The churn model is not trained.", hint="Run 'crew train'.")
        return self._calibrator(self._raw(features))

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Per-feature log-odds contributions of the chosen model (higher = riskier)."""
        if self.chosen is None:
            raise ModelNotTrainedError("The churn model is not trained.", hint="Run 'crew train'.")
        parts: list[pd.DataFrame] = []
        if self.chosen in ("logistic", "blend") and self._logistic is not None:
            parts.append(self._logistic.contributions(features))
        if self.chosen in ("lightgbm", "blend") and self._boosting is not None:
            parts.append(self._boosting.contributions(features))
        total = parts[0]
        for extra in parts[1:]:
            total = total.add(extra, fill_value=0.0)
        return total / len(parts)

    @property
    def features(self) -> tuple[str, ...]:
        """Input columns, in order."""
        return (*self.numeric, *self.categorical)

    def describe(self) -> dict[str, Any]:
        """Chosen model and validation figures, for the registry."""
        assert self.report is not None
        return {
            "chosen": self.report.chosen,
            "validation": self.report.validation,
            "candidates_roc_auc": self.report.candidates,
            "calibration": self.report.calibration,
            "test": self.report.test.as_dict(),
            "reliability": self.report.reliability,
            "rows": {
                "train": self.report.train_rows,
                "validation": self.report.validation_rows,
                "test": self.report.test_rows,
            },
        }


__all__ = ["CANDIDATES", "ChurnModel", "TrainingReport", "time_split"]
