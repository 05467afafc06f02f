"""Model benchmark: training on N examples and scoring M customers, against bare LightGBM.

The targets (from the issue): scoring 1,000,000 customers whose indicators are already
computed in under 60 s on 2 cores; training on 1,000,000 examples in under 5 minutes.

Data: a synthetic indicator table with every built-in indicator (48 columns, drawn by unit:
counts, days, shares, changes, flags, money, with missing values where real data has them)
plus segment, tier and region, and a churn label drawn from a logistic model of a dozen
indicators. Cached under bench/.data/ as Parquet by size and seed.

- training: `crew.models.training.fit_bundle` on N examples in SNAPSHOTS rolling snapshots
  of N / SNAPSHOTS customers, 30 days apart, 90-day horizon — what `crew train` does once
  the examples are built: logistic regression and LightGBM (early stopping) compared, the
  blend tried, isotonic calibration, test metrics, the fuzzy evaluator (entropy weights)
  and the percentile grids. The purged time split trains on the oldest snapshots, chooses
  and calibrates on one, tests on the newest; the rows of each are printed. Baseline: a
  bare `lightgbm.train` with the same parameters and early stopping on the same rows.
- scoring: reading the indicator Parquet of M customers and `score_features` (the function
  both `crew score` engines run): calibrated probability, fuzzy evaluation, risk index,
  levels, evidence checks, dimension scores and reasons with sentences for the warned
  customers. No CLV (the synthetic table has no transactions). Baseline: a bare
  `Booster.predict` of the kept LightGBM model on the same numeric matrix.

Sizes: CREW_BENCH_MODEL_EXAMPLES (default 1,000,000), CREW_BENCH_MODEL_CUSTOMERS (default
1,000,000), CREW_BENCH_MODEL_SNAPSHOTS (default 10). Run on its own: `python bench/models.py`.
"""

from __future__ import annotations

import os

# As crew.models.churn does before it imports LightGBM (the baselines below import it first).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crew.indicators.catalog import Catalog, ChangeMethod, Direction, IndicatorDef, load_catalog
from crew.models.combining import CombineRule
from crew.models.dataset import CATEGORICAL, Examples
from crew.models.scoring import score_features
from crew.models.training import TrainOptions, fit_bundle

CACHE = Path(__file__).parent / ".data"
FRAME_VERSION = 2  # bump when the synthetic frame changes: cached files are named by it
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(days=30)
HORIZON_DAYS = 90
SCORE_TARGET_S = 60.0
TRAIN_TARGET_S = 300.0
T = TypeVar("T")


def _column(ind: IndicatorDef, rng: np.random.Generator, n: int) -> np.ndarray:
    """Plausible values of one indicator for n customers."""
    if ind.change is not None and ind.change.method in (ChangeMethod.RELATIVE,):
        values = np.clip(rng.normal(0.0, 0.4, n), -1.0, 3.0)
    elif ind.change is not None and ind.change.method == ChangeMethod.SYMMETRIC:
        values = np.clip(rng.normal(0.0, 0.5, n), -2.0, 2.0)
    elif ind.change is not None and ind.change.method == ChangeMethod.SMOOTHED:
        values = rng.gamma(1.0, 0.5, n) - 0.5
    elif ind.change is not None:
        values = rng.normal(0.0, 1.5, n)
    elif ind.unit == "count":
        values = rng.poisson(rng.gamma(0.6, 2.0, n)).astype(float)
    elif ind.unit == "flag":
        values = (rng.random(n) < 0.05).astype(float)
    elif ind.unit in ("share", "share points"):
        values = rng.beta(1.2, 4.0, n)
    elif ind.unit == "days":
        values = np.round(rng.exponential(60.0 if "recency" in ind.id else 700.0, n))
    elif ind.unit == "currency":
        values = np.round(rng.lognormal(5.0, 1.0, n), 2)
    elif ind.unit == "score":
        values = np.round(rng.uniform(0, 10 if "nps" in ind.id else 5, n))
    else:
        values = rng.normal(0.0, 1.0, n)
    if ind.unit not in ("count", "flag", "days", "currency"):
        values[rng.random(n) < 0.15] = np.nan  # surveys and ratios are often missing
    return values


def synthetic_frame(catalog: Catalog, customers: int, seed: int) -> pd.DataFrame:
    """Indicators, attributes and a churn label for `customers` customers (cached)."""
    path = CACHE / f"model_frame_v{FRAME_VERSION}_{customers}c_s{seed}.parquet"
    if path.exists():
        return pq.read_table(path).to_pandas().set_index("customer_id")
    rng = np.random.default_rng(seed)
    outputs = catalog.outputs(None)
    data = {ind.id: _column(ind, rng, customers) for ind in outputs}
    frame = pd.DataFrame(data, index=pd.Index([f"C{seed}-{i:07d}" for i in range(customers)]))
    frame.index.name = "customer_id"
    frame["segment"] = rng.choice(["mass", "affluent", "young_urban", "family"], customers)
    frame["tier"] = rng.choice(["key", "important", "regular"], customers, p=[0.1, 0.3, 0.6])
    frame["region"] = rng.choice(["north", "south", "east", "west"], customers)
    logit = np.full(customers, -2.6)
    for ind in [i for i in outputs if i.direction != Direction.NEUTRAL][:12]:
        z = frame[ind.id].to_numpy(float)
        z = (z - np.nanmean(z)) / (np.nanstd(z) or 1.0)
        sign = 1.0 if ind.direction == Direction.HIGHER_IS_RISKIER else -1.0
        logit += 0.35 * sign * np.nan_to_num(z)
    # Thresholds and interactions, as churn has them, which a linear model cannot follow.
    complaints = np.nan_to_num(frame["complaint_count_30d"].to_numpy(float))
    recency = np.nan_to_num(frame["recency_days"].to_numpy(float))
    fading = np.nan_to_num(frame["txn_freq_change"].to_numpy(float)) < -0.3
    nps = frame["nps_latest"].to_numpy(float)
    logit += 1.6 * ((complaints >= 3) & ~(nps > 6)) + 1.4 * ((recency > 90) & fading)
    logit -= 1.2 * (frame["tier"].to_numpy() == "key") * (recency < 30)
    frame["churned"] = (rng.random(customers) < 1 / (1 + np.exp(-logit))).astype(int)
    CACHE.mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame.reset_index(), preserve_index=False), path)
    return frame


def training_examples(catalog: Catalog, examples: int, snapshots: int) -> Examples:
    """`snapshots` rolling snapshots, 30 days apart, of examples / snapshots customers each."""
    per = examples // snapshots
    frames = []
    for k in range(snapshots):
        at = AS_OF - timedelta(days=HORIZON_DAYS) - STEP * (snapshots - 1 - k)
        frame = synthetic_frame(catalog, per, seed=100 + k)
        frames.append(frame.set_index(pd.Index([at] * len(frame), name="as_of"), append=True))
    features = pd.concat(frames).reorder_levels(["as_of", "customer_id"])
    labels = features.pop("churned")
    numeric = tuple(i.id for i in catalog.outputs(None))
    return Examples(features, labels, numeric, CATEGORICAL, horizon_days=HORIZON_DAYS)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """fn's result, wall seconds and CPU seconds of this process."""
    wall, cpu = time.perf_counter(), _cpu()
    result = fn()
    return result, time.perf_counter() - wall, _cpu() - cpu


def _bare_lightgbm(examples: Examples, bundle_params: dict[str, object]) -> tuple[float, float]:
    """Wall and CPU seconds of lightgbm.train: the same parameters, train and valid rows."""
    from crew.models.churn import time_split

    times = examples.features.index.get_level_values("as_of")
    train, valid, _, _ = time_split(times, examples.horizon_days)
    x = examples.features[[*examples.numeric, *examples.categorical]].copy()
    for c in examples.categorical:
        x[c] = pd.Categorical(x[c].astype("object"))
    y = examples.labels.to_numpy()
    started, cpu = time.perf_counter(), _cpu()
    dtrain = lgb.Dataset(x[train], label=y[train], free_raw_data=False)
    dvalid = lgb.Dataset(x[valid], label=y[valid], reference=dtrain)
    lgb.train(
        bundle_params,
        dtrain,
        num_boost_round=1000,
        valid_sets=[dvalid],
        callbacks=[lgb.early_stopping(50, verbose=False)],
    )
    return time.perf_counter() - started, _cpu() - cpu


def _load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    n_examples = int(os.environ.get("CREW_BENCH_MODEL_EXAMPLES", "1000000"))
    n_customers = int(os.environ.get("CREW_BENCH_MODEL_CUSTOMERS", "1000000"))
    snapshots = int(os.environ.get("CREW_BENCH_MODEL_SNAPSHOTS", "10"))
    catalog = load_catalog()
    print(f"models   load average at the start: {_load()} on {os.cpu_count()} cores (shared)")
    examples = training_examples(catalog, n_examples, snapshots)
    options = TrainOptions(as_of=AS_OF, horizon_days=HORIZON_DAYS, snapshots=snapshots)
    bundle, t_train, cpu_train = _timed(partial(fit_bundle, examples, catalog, options))
    churn = bundle.churn  # type: ignore[attr-defined]
    report = churn.report
    booster = churn._boosting.booster
    params = {k: v for k, v in booster.params.items() if k != "num_iterations"}
    t_bare_train, cpu_bare_train = _bare_lightgbm(examples, params)
    print(
        f"models   train on {len(examples.labels):,} examples ({snapshots} snapshots x "
        f"{len(examples.labels) // snapshots:,} customers; rows train {report.train_rows:,}, "
        f"choose/calibrate {report.validation_rows:,}, test {report.test_rows:,})"
    )
    pad = " " * 9
    print(
        f"{pad}crew fit_bundle (logistic + LightGBM + blend, calibration, fuzzy, grids) "
        f"{t_train:7.1f} s (cpu {cpu_train:.1f} s; target < {TRAIN_TARGET_S:.0f} s); kept "
        f"{report.chosen}, test ROC AUC {report.test.roc_auc:.3f}"
    )
    print(
        f"{pad}bare lightgbm.train, same parameters and rows {t_bare_train:7.1f} s "
        f"(cpu {cpu_bare_train:.1f} s)   ratio {t_train / t_bare_train:5.2f}x"
    )
    del examples
    frame = synthetic_frame(catalog, n_customers, seed=1)  # built before timing (cached)
    path = CACHE / f"model_frame_v{FRAME_VERSION}_{n_customers}c_s1.parquet"
    rule = CombineRule()

    def crew_scoring() -> pd.DataFrame:
        features = pq.read_table(path).to_pandas().set_index("customer_id")
        return score_features(catalog, bundle, features, AS_OF, rule=rule)  # type: ignore[arg-type]

    scores, t_score, cpu_score = _timed(crew_scoring)
    assert isinstance(scores, pd.DataFrame)
    matrix = churn._boosting._frame(frame)
    _, t_predict, cpu_predict = _timed(lambda: booster.predict(matrix, raw_score=True))
    warned = int((scores["level"] != "none").sum())
    print(
        f"models   score {len(scores):,} customers (indicators read from Parquet, "
        f"{warned:,} warned with reasons)"
    )
    print(
        f"{pad}crew score_features (read Parquet, probability, fuzzy, levels, reasons)  "
        f"{t_score:7.1f} s (cpu {cpu_score:.1f} s; target < {SCORE_TARGET_S:.0f} s)"
    )
    print(
        f"{pad}bare Booster.predict on the same matrix {t_predict:7.1f} s "
        f"(cpu {cpu_predict:.1f} s)   ratio {t_score / t_predict:5.2f}x"
    )
    features = frame.drop(columns="churned")
    _, t_proba, _ = _timed(lambda: churn.predict_proba(features))
    warned_rows = features[(scores["level"] != "none").to_numpy()]
    _, t_contrib, _ = _timed(lambda: churn.contributions(warned_rows))
    print(
        f"{pad}of which (timed again alone): calibrated probability {t_proba:.1f} s, "
        f"contributions of the {warned:,} warned customers (reasons) {t_contrib:.1f} s"
    )
    print(f"{pad}load average (1, 5, 15 min) at the end: {_load()} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
