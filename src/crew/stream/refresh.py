"""Model scores refreshed by the stream when a customer's events move the model's inputs.

`crew run` scores everyone at its `as_of`. Between two runs, the stream handler marks each
customer whose events changed an aggregate the churn model reads, and `ScoreRefresh`
checks, a few customers at a time, whether those inputs moved *materially* since the
customer's last score: an input whose percentile among the training population (the
bundle's `indicator_grids`) moved by at least `shift` (0.1 = ten percentile points), or
that gained or lost a value. Only those customers are scored again, together, by the
batch's own `score_features` with the registered model, and their assessment goes to the
operational store's `live_scores` (newest wins), where `GET /v1/customers/{id}/risk`
shows it beside the run's, with the inputs that moved.

The model's inputs come from the online state at the handler's event time, which equals
the batch indicators at that instant (the parity test); the few it cannot keep online
(segment-wide ones such as `segment_shock_index`), the CLV and the CLV decline are carried
over from the newest scheduled run. The last score of a customer the stream has not
refreshed is the run's, so its baseline is the model's inputs at the run's `as_of`,
recomputed once by the batch SQL (the online state answers only for its present: it
keeps no rows a window no longer needs); a newer run (looked for every `reload_every_s`,
loaded on a thread of its own) becomes the new reference of everyone.

A refreshed score opens no warning: the churn signal's limits compare the customers of one
run with each other, so the model's warnings stay with the scheduled run.

The work is time-boxed on the handler's thread: at most `budget_s` per round, a round when
`every_s` has passed since the last one or when the worker has nothing else to do. What
is left waits for the next round; nothing is dropped.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from crew.config import StreamSettings
from crew.errors import CrewError
from crew.indicators.catalog import Catalog, load_catalog
from crew.indicators.online_state import OnlineState, instant
from crew.models.combining import CombineRule, load_combine_rule
from crew.models.dataset import customer_attributes, features_at
from crew.models.registry import ModelBundle, check_compatible, load_bundle
from crew.models.scoring import score_features, shares_below
from crew.store.live_scores import LiveScores
from crew.store.models import model_records
from crew.store.workspace import Workspace
from crew.types import Industry

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
CARRIED = ("clv", "clv_decline")
"""Columns of the run's scores carried into a refreshed one."""


@dataclass(frozen=True)
class Reference:
    """What refreshed scores start from: the newest scheduled run of the model."""

    as_of: datetime | None  # the run's instant; None before any run
    frame: pd.DataFrame  # index customer_id: the model's inputs at `as_of`, CLV, CLV decline

    @classmethod
    def empty(cls) -> Reference:
        """No run yet: every customer's first refresh is news."""
        return cls(None, pd.DataFrame(columns=list(CARRIED), dtype=float))


def newest_run(conn: duckdb.DuckDBPyConnection, model_version: int) -> datetime | None:
    """The instant of the newest stored scores of `model_version` (None before any)."""
    ((value,),) = conn.execute(
        "SELECT max(as_of) FROM scores WHERE model_version = ?", [model_version]
    ).fetchall()
    return value if isinstance(value, datetime) else None


def load_reference(
    conn: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    bundle: ModelBundle,
    model_version: int,
    as_of: datetime | None,
) -> Reference:
    """Every customer's numeric model inputs at the run `as_of` (recomputed by the batch
    SQL, point in time: what that run scored) and the run's CLV figures."""
    if as_of is None:
        return Reference.empty()
    profile = None if bundle.profile == "all" else Industry(bundle.profile)
    features = features_at(conn, catalog, as_of, profile)
    inputs = [f for f in bundle.churn.features if f in catalog.by_id and f in features]
    frame = features[inputs].apply(pd.to_numeric, errors="coerce").astype(float)
    carried = conn.execute(
        "SELECT customer_id, clv, clv_decline FROM scores WHERE as_of = ? AND model_version = ?",
        [as_of, model_version],
    ).df()
    frame = frame.join(carried.set_index("customer_id").astype(float), how="outer")
    return Reference(as_of, frame)


@dataclass
class RefreshStats:
    """What the refresh has done so far."""

    checked: int = 0  # customers whose inputs were compared with their last score
    refreshed: int = 0  # of them, scored again (a material change)
    rounds: int = 0


@dataclass
class _Baseline:
    values: FloatArray  # the inputs at the customer's last score
    ranks: FloatArray  # their percentile among the training population (0-1)


@dataclass
class ScoreRefresh:
    """Marks customers whose events touched the model's inputs; rescores material changes."""

    catalog: Catalog
    bundle: ModelBundle
    model_version: int
    rule: CombineRule
    state: OnlineState
    store: LiveScores
    attributes: pd.DataFrame  # index customer_id: segment, tier, region, attributes
    reference: Reference
    reload: Callable[[datetime | None], Reference | None] | None = None
    shift: float = 0.1
    every_s: float = 1.0
    budget_s: float = 0.02
    reload_every_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    stats: RefreshStats = field(default_factory=RefreshStats)

    def __post_init__(self) -> None:
        supported = set(self.state.plan.order)
        features = list(self.bundle.churn.features)
        self.online = [f for f in features if f in supported]
        self.offline = [f for f in features if f not in supported and f not in self.attributes]
        self._watched = self.state.plan.needed_for(self.online) & set(self.state.plan.aggregates)
        grids = self.bundle.indicator_grids or {}
        self._grids = [np.asarray(grids.get(name, ()), dtype=float) for name in self.online]
        self.dirty: dict[str, None] = {}  # customers to check, oldest mark first
        self._baselines: dict[str, _Baseline] = {}
        self._loader: ThreadPoolExecutor | None = None
        self._pending: Future[Reference | None] | None = None
        self._rebase(self.reference)
        now = self.clock()
        self._next_round = now + self.every_s
        self._next_reload = now + self.reload_every_s

    def mark(self, changed: Mapping[str, Iterable[str]]) -> None:
        """Note the customers whose changed aggregates feed the model (O(1) each)."""
        watched = self._watched
        for customer, names in changed.items():
            if customer not in self.dirty and not watched.isdisjoint(names):
                self.dirty[customer] = None

    def due(self) -> bool:
        """True when customers wait and a round is due."""
        return bool(self.dirty) and self.clock() >= self._next_round

    def run(self, at: int) -> int:
        """One time-boxed round at instant `at` (µs): check marked customers, score those
        that moved materially; customers scored."""
        start = self.clock()
        self._next_round = start + self.every_s
        self._follow_runs(start)
        deadline = start + self.budget_s
        moved: dict[str, tuple[FloatArray, FloatArray, list[dict[str, object]]]] = {}
        while self.dirty and self.clock() < deadline:
            customer = next(iter(self.dirty))
            del self.dirty[customer]
            self.stats.checked += 1
            values = self._inputs(customer, at)
            ranks = self._ranks(values)
            base = self._baseline(customer)
            changes = self._changes(base, values, ranks)
            if changes:
                moved[customer] = (values, ranks, changes)
        self.stats.rounds += 1
        if moved:
            self._score(moved, at)
        return len(moved)

    def _follow_runs(self, now: float) -> None:
        """Take a newer run as the reference: looked for every `reload_every_s`, loaded on a
        thread of its own (the batch SQL for every customer takes seconds at scale, and
        DuckDB leaves the interpreter free meanwhile), applied at the round after."""
        if self.reload is None:
            return
        if self._pending is not None:
            if not self._pending.done():
                return
            pending, self._pending = self._pending, None
            try:
                newer = pending.result()
            except Exception:
                log.exception("score refresh: the newest run could not be read; trying later")
                return
            if newer is not None:
                log.info("score refresh: the run of %s is the reference now", newer.as_of)
                self._rebase(newer)
        elif now >= self._next_reload:
            self._next_reload = now + self.reload_every_s
            if self._loader is None:
                self._loader = ThreadPoolExecutor(1, thread_name_prefix="crew-refresh-run")
            self._pending = self._loader.submit(self.reload, self.reference.as_of)

    def _score(
        self, moved: dict[str, tuple[FloatArray, FloatArray, list[dict[str, object]]]], at: int
    ) -> None:
        ids = list(moved)
        features = pd.DataFrame(
            np.vstack([moved[c][0] for c in ids]), index=pd.Index(ids, name="customer_id"),
            columns=self.online,
        )  # fmt: skip
        carried = self._carried.reindex(ids)
        for name in self.offline:
            features[name] = carried.get(name, np.nan)
        features = features.join(self.attributes, how="left")
        scores = score_features(
            self.catalog, self.bundle, features, instant(at), rule=self.rule,
            clv=_column(carried, "clv"), clv_decline=_column(carried, "clv_decline"),
        )  # fmt: skip
        self.store.save(
            scores, model_version=self.model_version,
            moved=[moved[c][2] for c in ids], at=datetime.now(tz=instant(at).tzinfo),
        )  # fmt: skip
        for customer in ids:
            values, ranks, _ = moved[customer]
            self._baselines[customer] = _Baseline(values, ranks)
        self.stats.refreshed += len(ids)
        log.debug("refreshed %d scores", len(ids))

    def _inputs(self, customer: str, at: int) -> FloatArray:
        found = self.state.values(customer, at, self.online)
        return np.array([_number(found.get(name)) for name in self.online], dtype=float)

    def _ranks(self, values: FloatArray) -> FloatArray:
        ranks = np.full(len(values), np.nan)
        for j, grid in enumerate(self._grids):
            ranks[j] = shares_below(grid, values[j : j + 1])[0]
        return ranks

    def _baseline(self, customer: str) -> _Baseline:
        """The inputs at the customer's last score: its last refresh, else the run's."""
        base = self._baselines.get(customer)
        if base is None:
            row = self._reference_rows.get(customer)
            values = (
                self._reference_inputs[row]
                if row is not None
                else np.full(len(self.online), np.nan)  # not in the run: any value is news
            )
            base = self._baselines[customer] = _Baseline(values, self._ranks(values))
        return base

    def _changes(
        self, base: _Baseline, values: FloatArray, ranks: FloatArray
    ) -> list[dict[str, object]]:
        """The inputs that moved materially since `base`, largest move first."""
        found: list[tuple[float, dict[str, object]]] = []
        for j, name in enumerate(self.online):
            before, now = base.values[j], values[j]
            if math.isnan(before) and math.isnan(now):
                continue
            if math.isnan(before) or math.isnan(now):
                size = 1.0
            elif self._grids[j].size:
                size = abs(ranks[j] - base.ranks[j])
            else:  # no training reference: any change counts
                size = 1.0 if before != now else 0.0
            if size >= self.shift:
                found.append((size, {
                    "indicator": name, "before": _plain(before), "now": _plain(now),
                    "percentile_before": _percent(base.ranks[j]),
                    "percentile_now": _percent(ranks[j]),
                }))  # fmt: skip
        return [entry for _, entry in sorted(found, key=lambda x: -x[0])]

    def _rebase(self, reference: Reference) -> None:
        self.reference = reference
        frame = reference.frame.reindex(columns=self.online)
        self._reference_rows = {str(c): i for i, c in enumerate(frame.index)}
        self._reference_inputs = frame.to_numpy(dtype=float)
        self._carried = reference.frame.reindex(columns=[*self.offline, *CARRIED])
        self._baselines.clear()


def score_refresh(
    workspace: Workspace, settings: StreamSettings, state: OnlineState, store: LiveScores
) -> ScoreRefresh | None:
    """The refresh of `workspace`'s newest registered model (None when `refresh_scores` is
    off, no model is registered, it was trained on a snapshot data set or does not fit the
    catalog any more: the stream's warnings do not depend on it)."""
    if not settings.refresh_scores:
        return None
    with workspace.reading() as conn:
        if not model_records(conn):
            return None
    catalog = load_catalog(workspace.root)
    try:
        bundle, record = load_bundle(workspace)
        check_compatible(bundle, catalog, record.version)
    except CrewError as exc:
        log.warning("model scores are not refreshed by the stream: %s", exc)
        return None
    if bundle.snapshot:
        return None
    profile = None if bundle.profile == "all" else Industry(bundle.profile)

    def reload(known: datetime | None) -> Reference | None:
        with workspace.reading() as conn:
            as_of = newest_run(conn, record.version)
            if as_of == known:
                return None
            return load_reference(conn, catalog, bundle, record.version, as_of)

    with workspace.reading() as conn:
        attributes = customer_attributes(conn)
    return ScoreRefresh(
        catalog, bundle, record.version, load_combine_rule(workspace.root, profile), state,
        store, attributes, reload(None) or Reference.empty(), reload=reload,
        shift=settings.refresh_shift, every_s=settings.refresh_every_ms / 1000,
        budget_s=settings.refresh_budget_ms / 1000,
    )  # fmt: skip


def _number(value: object) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _column(frame: pd.DataFrame, name: str) -> FloatArray | None:
    return frame[name].to_numpy(dtype=float) if name in frame else None


def _plain(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 6)


def _percent(rank: float) -> float | None:
    return None if math.isnan(rank) else round(100.0 * float(rank), 1)


__all__ = [
    "CARRIED",
    "Reference",
    "RefreshStats",
    "ScoreRefresh",
    "load_reference",
    "newest_run",
    "score_refresh",
]
