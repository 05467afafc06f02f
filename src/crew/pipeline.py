"""The batch pipeline, the one module that knows the stage order.

indicators → models → signals → thresholds → warnings, at one instant `as_of`, reading only
data before it; `replay` runs it at a series of instants exactly as a scheduler would have.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from crew.alerts.control import DEFAULT_CONTROL_SHARE
from crew.alerts.lifecycle import Changes, plan_changes
from crew.alerts.rows import warning_rows, with_review_rings, with_text_reasons
from crew.errors import StaleDataError
from crew.grading.levels import Graded, grade
from crew.grading.thresholds import ThresholdRule, check_signals, load_thresholds
from crew.indicators.catalog import Catalog, load_catalog
from crew.indicators.compute import profile_name
from crew.indicators.segments import segment_daily_series
from crew.models.assessment import assess
from crew.models.combining import load_combine_rule
from crew.models.dataset import customer_attributes, features_at
from crew.models.registry import ModelBundle
from crew.models.scoring import with_signal_levels
from crew.response.blacklist import IdentifierHasher
from crew.response.blacklist_matching import (
    blacklist_hits,
    blacklist_rows,
    with_blacklist_rows,
)
from crew.response.cases import respond
from crew.response.playbooks import PlaybookBook, load_playbooks
from crew.signals.changepoint import SegmentShift, segment_shifts
from crew.signals.detect import SignalScores, detect_signals
from crew.signals.specs import SignalSpec, load_signals
from crew.store.indicators import load_indicator_values
from crew.store.operational import OperationalStore, RunRecord, warning_id
from crew.store.scores import save_scores
from crew.store.series import weekly_series
from crew.types import Industry, RiskType

SERIES_WEEKS = 26
SEGMENT_HISTORY_DAYS = 182


@dataclass(frozen=True)
class RunSetup:
    """Everything a run reads besides the data: catalog, signals, rules, model."""

    catalog: Catalog
    specs: list[SignalSpec]
    rules: dict[str, ThresholdRule]
    bundle: ModelBundle | None
    profile: Industry | None
    fingerprint: str
    model_version: int = 0
    playbooks: PlaybookBook | None = None
    control_share: float = DEFAULT_CONTROL_SHARE
    blacklist: IdentifierHasher | None = None
    """Hashes customers' identifiers for the shared blacklist; None skips matching."""

    @classmethod
    def load(
        cls,
        root: Path,
        profile: Industry | None,
        bundle: ModelBundle | None,
        *,
        model_version: int = 0,
        thresholds_path: Path | None = None,
        control_share: float = DEFAULT_CONTROL_SHARE,
        blacklist: IdentifierHasher | None = None,
    ) -> RunSetup:
        """Catalog, signals and thresholds of the workspace at `root` for `profile`."""
        catalog = load_catalog(root)
        specs = [s for s in load_signals(root) if s.applies_to(profile)]
        rules = load_thresholds(root, profile, path=thresholds_path)
        check_signals(
            rules, [s.name for s in load_signals(root)], str(thresholds_path or "thresholds")
        )
        text = json.dumps(
            {
                "catalog": catalog.sha256,
                "signals": [s.model_dump(mode="json") for s in specs],
                "rules": {k: v.model_dump(mode="json") for k, v in sorted(rules.items())},
            },
            sort_keys=True,
        )
        fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
        return cls(
            catalog, specs, rules, bundle, profile, fingerprint, model_version,
            load_playbooks(root), control_share, blacklist,
        )  # fmt: skip


@dataclass(frozen=True)
class RunResult:
    """What one run did."""

    run_id: str
    as_of: datetime
    customers: int
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    shifts: list[SegmentShift] = field(default_factory=list)
    scored: Scored | None = None
    """What the run measured; `replay` hands it to `on_run` and does not keep it."""


def run_at(
    conn: duckdb.DuckDBPyConnection,
    store: OperationalStore,
    setup: RunSetup,
    as_of: datetime,
    *,
    every_days: float = 7.0,
    dry_run: bool = False,
    root: Path | None = None,
) -> RunResult:
    """Run the pipeline at `as_of`; its warnings go to `store` (a scratch one for dry runs)."""
    started = datetime.now(tz=as_of.tzinfo)
    clock = _Clock()
    scored = score_signals(conn, setup, as_of, root=root, clock=clock)
    features, signals, value = scored.features, scored.signals, scored.value
    active = store.active_warnings()
    graded = grade(signals, setup.rules, active, value=value, days=every_days)
    history = segment_daily_series(conn, as_of - timedelta(days=SEGMENT_HISTORY_DAYS), as_of)
    shifts = segment_shifts(history, as_of)
    clock.lap("thresholds")
    run_id = f"run-{as_of:%Y%m%dT%H%M}-{setup.fingerprint[:6]}"
    graded = _without_lost(conn, graded, as_of)
    warnings = warning_rows(graded, signals, features, shifts, active, as_of)
    warnings = with_review_rings(conn, warnings, setup.profile, as_of)
    warnings = _with_blacklist_hits(conn, store, warnings, setup, features, as_of)
    warnings = with_text_reasons(conn, warnings, as_of)
    if scored.assessment is not None:
        # The combining rule's last part: a signal graded higher lifts the customer's level.
        combine = load_combine_rule(root, setup.profile)
        assessment = with_signal_levels(scored.assessment, warnings, combine)
        scored = replace(scored, assessment=assessment)
        if not dry_run:
            save_scores(conn, assessment, as_of, setup.model_version)
    cooldowns = {
        r.value: max((rule.cooldown_days for n, rule in setup.rules.items()
                if n in signals.specs and signals.specs[n].risk_type == r), default=28)
        for r in {s.risk_type for s in setup.specs}
    }  # fmt: skip
    changes = plan_changes(
        warnings,
        active,
        store.cooling_down(as_of),
        as_of=as_of,
        run_id=run_id,
        make_id=warning_id,
        cooldown_days=cooldowns,
    )
    changes = _with_unique_ids(changes, store)
    counts = _counts(changes, graded, len(features))
    record = RunRecord(
        run_id=run_id,
        as_of=as_of,
        started_at=started,
        finished_at=datetime.now(tz=as_of.tzinfo),
        dry_run=dry_run,
        config_fingerprint=setup.fingerprint,
        counts=counts,
    )
    store.apply_run(record, changes.opened, changes.updated, changes.closed, held=changes.held)
    if setup.playbooks is not None and not dry_run:
        counts.update(
            # Every active warning without a case gets one: a crash between the two
            # transactions is caught up by the next run.
            respond(
                store, store.active_warnings(), setup.playbooks, features=features, value=value,
                at=as_of, profile=setup.profile, control_share=setup.control_share,
            )
        )  # fmt: skip
    clock.lap("warnings")
    return RunResult(run_id, as_of, len(features), counts, clock.laps, shifts, scored)


@dataclass(frozen=True)
class Scored:
    """Everything measured about the customers at one instant, before any decision."""

    features: pd.DataFrame
    signals: SignalScores
    assessment: pd.DataFrame | None  # the churn model's assessment, when a model is set up
    value: pd.Series | None  # customer value (CLV) for value-aware thresholds


def score_signals(
    conn: duckdb.DuckDBPyConnection,
    setup: RunSetup,
    as_of: datetime,
    *,
    root: Path | None = None,
    clock: _Clock | None = None,
) -> Scored:
    """Indicators, model scores and every signal's score at `as_of` (data before it only)."""
    clock = clock or _Clock()
    features = _features(conn, setup, as_of)
    clock.lap("indicators")
    probability, value, scores = None, None, None
    if setup.bundle is not None:
        rule = load_combine_rule(root, setup.profile)
        scores = assess(conn, setup.catalog, setup.bundle, as_of, rule=rule, features=features)
        probability, value = scores["churn_probability"], scores["clv"]
    clock.lap("models")
    series = weekly_series(conn, as_of, SERIES_WEEKS)
    signals = detect_signals(setup.specs, features, series, setup.catalog, probability=probability)
    clock.lap("signals")
    return Scored(features, signals, scores, value)


def replay(
    conn: duckdb.DuckDBPyConnection,
    store: OperationalStore,
    setup: RunSetup,
    instants: list[datetime],
    *,
    dry_run: bool = False,
    root: Path | None = None,
    on_run: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Run at each instant in order, as a scheduler would have, each seeing only its past."""
    results = []
    every = (instants[1] - instants[0]).total_seconds() / 86400 if len(instants) > 1 else 7.0
    for as_of in instants:
        result = run_at(conn, store, setup, as_of, every_days=every, dry_run=dry_run, root=root)
        if on_run is not None:
            on_run(result)
        results.append(replace(result, scored=None))  # a long replay must not hoard them
    return results


def schedule(start: datetime, end: datetime, every: timedelta) -> list[datetime]:
    """Instants from `start` to `end` inclusive, `every` apart.

    >>> from datetime import UTC
    >>> [d.day for d in schedule(datetime(2025, 1, 1, tzinfo=UTC),
    ...                          datetime(2025, 1, 20, tzinfo=UTC), timedelta(days=7))]
    [1, 8, 15]
    """
    out: list[datetime] = []
    at = start
    while at <= end:
        out.append(at)
        at += every
    return out


def _features(conn: duckdb.DuckDBPyConnection, setup: RunSetup, as_of: datetime) -> pd.DataFrame:
    """Stored indicators of (as_of, profile) when computed already, else computed now."""
    try:
        outputs = [i.id for i in setup.catalog.indicators if i.output]
        stored = load_indicator_values(conn, as_of, profile_name(setup.profile), outputs)
    except StaleDataError:
        return features_at(conn, setup.catalog, as_of, setup.profile)
    values: pd.DataFrame = stored.to_pandas().set_index("customer_id")
    return values.join(customer_attributes(conn))


def _with_blacklist_hits(
    conn: duckdb.DuckDBPyConnection,
    store: OperationalStore,
    warnings: pd.DataFrame,
    setup: RunSetup,
    features: pd.DataFrame,
    as_of: datetime,
) -> pd.DataFrame:
    """A high fraud warning for each scored customer on the shared blacklist (行业黑名单)."""
    if setup.blacklist is None:
        return warnings
    entries = store.blacklist.in_force(as_of.date())
    if not entries:
        return warnings
    hits = blacklist_hits(conn, entries, setup.blacklist, as_of)
    scored = {c: e for c, e in hits.items() if c in features.index}
    return with_blacklist_rows(warnings, blacklist_rows(scored))


def _without_lost(conn: duckdb.DuckDBPyConnection, graded: Graded, as_of: datetime) -> Graded:
    """No churn warning for a customer who has already left: that is a fact, not a warning."""
    lost = conn.execute(
        "SELECT DISTINCT customer_id FROM outcomes WHERE kind = 'churn' AND ts < ?", [as_of]
    ).fetchall()
    gone = {row[0] for row in lost}
    rows = graded.rows
    keep = ~(rows["customer_id"].isin(gone) & (rows["risk_type"] == RiskType.CHURN.value))
    return Graded(rows[keep].reset_index(drop=True), graded.limits)


def _with_unique_ids(changes: Changes, store: OperationalStore) -> Changes:
    """A warning reopened on the day an earlier one of its subject and type was first seen
    gets the id with a suffix (-2, -3, …) instead of colliding with the closed one."""
    opened = changes.opened
    if opened.empty:
        return changes
    taken = store.taken_ids(opened["id"].astype(str).tolist())
    if not taken:
        return changes
    renamed: dict[str, str] = {}
    for old in taken:
        n = 2
        while f"{old}-{n}" in taken or store.taken_ids([f"{old}-{n}"]):
            n += 1
        renamed[old] = f"{old}-{n}"
    opened = opened.assign(id=opened["id"].replace(renamed))
    if "parent_id" in opened.columns:
        opened["parent_id"] = opened["parent_id"].replace(renamed)
    return replace(changes, opened=opened)


def _counts(changes: Changes, graded: Graded, customers: int) -> dict[str, int]:
    counts = dict(changes.counts)
    counts["customers"] = customers
    opened = changes.opened
    for level in ("low", "medium", "high"):
        counts[f"opened_{level}"] = int((opened["level"] == level).sum()) if len(opened) else 0
    if len(opened) and "parent_id" in opened.columns:
        counts["grouped_under_segment"] = int(opened["parent_id"].notna().sum())
    return counts


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


__all__ = ["RunResult", "RunSetup", "Scored", "replay", "run_at", "schedule", "score_signals"]
