"""The model registry: versioned bundles of fitted models with what they need to be trusted.

A bundle holds the churn model, the fuzzy evaluator and the CLV model of one training run,
plus a fingerprint of every indicator definition they read. Loading checks the artifact's
hash and that the current catalog still defines those indicators the same way.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version as package_version

import numpy as np

from crew.errors import CrewError, IncompatibleModelError
from crew.indicators.catalog import Catalog
from crew.models.churn import ChurnModel
from crew.models.clv import CustomerLifetimeValue
from crew.models.fuzzy import FuzzyEvaluator
from crew.models.labels import ChurnDefinition
from crew.models.sequence import SequenceChurnModel
from crew.store.models import ModelRecord, model_record, register_model
from crew.store.workspace import Workspace

MODELS_DIR = "models"
LIBRARIES = ("crew", "lightgbm", "scikit-learn", "numpy", "pandas", "duckdb", "scipy", "torch")


@dataclass
class ModelBundle:
    """Everything one training run produced, scored together."""

    churn: ChurnModel
    fuzzy: FuzzyEvaluator | None
    clv: CustomerLifetimeValue | None
    indicators: tuple[str, ...]
    fingerprints: dict[str, str]
    profile: str
    horizon_days: int
    definition: ChurnDefinition
    snapshot: bool
    base_rate: float
    probability_grid: list[float] = field(default_factory=list)
    fuzzy_grid: list[float] = field(default_factory=list)
    sequence: SequenceChurnModel | None = None
    # Sorted quantiles per indicator over the newest training snapshot, the reference of
    # "higher than X% of customers" in reasons; None in bundles registered before them.
    indicator_grids: dict[str, list[float]] | None = None

    def probability_index(self, probabilities: np.ndarray) -> np.ndarray:
        """0-100: share of the training population with a lower churn probability."""
        return _percentile(self.probability_grid, probabilities)

    def fuzzy_percentile(self, index: np.ndarray) -> np.ndarray:
        """0-100: share of the training population with a lower fuzzy index."""
        return _percentile(self.fuzzy_grid, index)


def _percentile(grid_values: list[float], values: np.ndarray) -> np.ndarray:
    grid = np.asarray(grid_values, dtype=float)
    x = np.asarray(values, dtype=float)
    if grid.size == 0:
        return np.full_like(x, np.nan)
    out = np.searchsorted(grid, x, side="left") / grid.size * 100.0
    return np.where(np.isnan(x), np.nan, out)


def indicator_fingerprints(catalog: Catalog, ids: list[str] | tuple[str, ...]) -> dict[str, str]:
    """A hash per indicator of its definition and, recursively, of what it is computed from."""
    memo: dict[str, str] = {}

    def fingerprint(ind_id: str) -> str:
        if ind_id not in memo:
            ind = catalog.by_id[ind_id]
            parts = [ind.model_dump_json(exclude={"label", "description", "profiles", "output"})]
            if ind.source in catalog.sources:
                parts.append(catalog.sources[ind.source].model_dump_json())
            parts.extend(fingerprint(ref) for ref in ind.references())
            memo[ind_id] = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
        return memo[ind_id]

    return {i: fingerprint(i) for i in ids if i in catalog.by_id}


def check_compatible(bundle: ModelBundle, catalog: Catalog, version: int) -> None:
    """IncompatibleModelError when an indicator the model reads is gone or defined differently."""
    current = indicator_fingerprints(catalog, bundle.indicators)
    missing = [i for i in bundle.indicators if i not in current]
    changed = [
        i for i in bundle.indicators if i in current and current[i] != bundle.fingerprints[i]
    ]
    if missing or changed:
        what = (
            f"indicator '{missing[0]}' is no longer in the catalog"
            if missing
            else f"indicator '{changed[0]}' is defined differently now"
        )
        more = len(missing) + len(changed) - 1
        raise IncompatibleModelError(
            f"Model v{version} cannot score with this catalog: {what}"
            + (f" (and {more} more)" if more > 0 else "")
            + ".",
            hint="Retrain with 'crew train', or restore the catalog the model was trained with.",
        )


def save_bundle(
    workspace: Workspace,
    bundle: ModelBundle,
    *,
    as_of: datetime | None,
    catalog: Catalog,
    metadata: dict[str, object],
) -> ModelRecord:
    """Write the bundle as a new version and record it in the workspace."""
    folder = workspace.root / MODELS_DIR
    folder.mkdir(exist_ok=True)
    data = pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL)

    def write(version: int) -> tuple[str, str]:
        path = folder / f"model-v{version}.pkl"
        path.write_bytes(data)
        return str(path.relative_to(workspace.root)), hashlib.sha256(data).hexdigest()

    meta = {
        **metadata,
        "indicators": list(bundle.indicators),
        "fingerprints": bundle.fingerprints,
        "libraries": {name: _version(name) for name in LIBRARIES},
    }
    with workspace.connect() as conn:
        return register_model(
            conn,
            kind="risk",
            as_of=as_of,
            horizon_days=bundle.horizon_days,
            profile=bundle.profile,
            catalog_sha256=catalog.sha256,
            artifact_for=write,
            metadata=json.loads(json.dumps(meta, default=str)),
        )


def load_bundle(
    workspace: Workspace, version: int | None = None
) -> tuple[ModelBundle, ModelRecord]:
    """The bundle of `version` (default: newest), its hash checked."""
    with workspace.reading() as conn:
        record = model_record(conn, version)
    path = workspace.root / record.artifact
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CrewError(
            f"Model v{record.version}: artifact {path} is missing.",
            hint="Retrain with 'crew train'.",
        ) from None
    if hashlib.sha256(data).hexdigest() != record.artifact_sha256:
        raise IncompatibleModelError(
            f"Model v{record.version}: {path} was changed after it was registered.",
            hint="Retrain with 'crew train'; never edit model files by hand.",
        )
    bundle = pickle.loads(data)  # written by this workspace; its hash is checked above
    assert isinstance(bundle, ModelBundle)
    return bundle, record


def _version(name: str) -> str:
    try:
        return package_version(name)
    except Exception:  # a library that is not installed has no version to record
        return "absent"


__all__ = [
    "ModelBundle",
    "check_compatible",
    "indicator_fingerprints",
    "load_bundle",
    "save_bundle",
]
