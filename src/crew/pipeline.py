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
import numpy as np
import pandas as pd

from crew.alerts.actions import recommended_action
from crew.alerts.control import DEFAULT_CONTROL_SHARE
from crew.alerts.lifecycle import Changes, plan_changes
from crew.errors import StaleDataError
from crew.grading.levels import Graded, grade
from crew.grading.reasons import signal_reason
from crew.grading.thresholds import ThresholdRule, check_signals, load_thresholds
from crew.indicators.catalog import Catalog, load_catalog
from crew.indicators.compute import profile_name
from crew.indicators.segments import segment_daily_series
from crew.models.assessment import assess
from crew.models.combining import load_combine_rule
from crew.models.dataset import customer_attributes, features_at
from crew.models.registry import ModelBundle
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
from crew.text import (
    evidence_sentence,
    extra_installed,
    find_review_rings,
    load_reviews,
    redactor_from_store,
)
from crew.types import Industry, Level, RiskType

SERIES_WEEKS = 26
RING_DAYS = 30
"""Days of reviews searched for rings of near-identical reviews."""
TEXT_DAYS = 30
"""Days of analysed texts quoted as evidence."""
TEXT_TOPICS: dict[str, tuple[str, ...]] = {
    RiskType.CHURN.value: ("cancellation_intent",),
    RiskType.SATISFACTION_DECLINE.value: ("cancellation_intent", "service_quality"),
    RiskType.COMPLAINT_SURGE.value: ("regulator_threat", "cancellation_intent"),
    RiskType.TRUST_BREAKDOWN.value: ("regulator_threat",),
    RiskType.DATA_LEAKAGE.value: ("privacy_data",),
    RiskType.FRAUD.value: ("fraud_security",),
}
"""Topics whose mentions are quoted in the reasons of each risk type."""
SEGMENT_HISTORY_DAYS = 182
SHIFT_LEVELS = ((3.0, Level.LOW), (4.5, Level.MEDIUM), (6.0, Level.HIGH))
"""A segment shift's |z| (in baseline standard deviations) from which it earns each level."""


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
    if scored.assessment is not None and not dry_run:
        save_scores(conn, scored.assessment, as_of, setup.model_version)
    active = store.active_warnings()
    graded = grade(signals, setup.rules, active, value=value, days=every_days)
    history = segment_daily_series(conn, as_of - timedelta(days=SEGMENT_HISTORY_DAYS), as_of)
    shifts = segment_shifts(history, as_of)
    clock.lap("thresholds")
    run_id = f"run-{as_of:%Y%m%dT%H%M}-{setup.fingerprint[:6]}"
    graded = _without_lost(conn, graded, as_of)
    warnings = _warning_rows(graded, signals, setup, features, shifts, active, as_of)
    warnings = _with_review_rings(conn, warnings, setup, as_of)
    warnings = _with_blacklist_hits(conn, store, warnings, setup, features, as_of)
    warnings = _with_text_reasons(conn, warnings, as_of)
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


def _with_review_rings(
    conn: duckdb.DuckDBPyConnection, warnings: pd.DataFrame, setup: RunSetup, as_of: datetime
) -> pd.DataFrame:
    """One fake-review warning per account of a ring of near-identical reviews (刷单)."""
    if setup.profile not in (None, Industry.ECOMMERCE, Industry.GENERIC) or not extra_installed():
        return warnings
    rings = find_review_rings(
        load_reviews(conn, as_of, RING_DAYS), redactor=redactor_from_store(conn)
    )
    rows = []
    for ring in rings:
        level = Level.HIGH if ring.score >= 0.8 else Level.MEDIUM
        evidence = {
            "accounts": list(ring.accounts), "reviews": list(ring.review_ids),
            "first_ts": ring.first_ts.isoformat(), "last_ts": ring.last_ts.isoformat(),
            "mean_rating": ring.mean_rating, "extreme_share": round(ring.extreme_share, 3),
            "young_share": round(ring.young_share, 3), "sample": ring.sample,
        }  # fmt: skip
        sentence = ring.reason()
        for account in ring.accounts:
            rows.append(
                {
                    "customer_id": account, "segment": None,
                    "risk_type": RiskType.FAKE_REVIEW.value, "level": level.value,
                    "score": float(ring.score), "leading_signal": "review_ring",
                    "signals": ["review_ring"], "cooldown_days": 90,
                    "evidence": {"review_ring": evidence},
                    "reasons": [{"signal": "review_ring", "score": round(float(ring.score), 4),
                                 "en": sentence, "zh": sentence}],
                    "recommended_action": recommended_action(RiskType.FAKE_REVIEW, level),
                    "parent_id": None,
                }
            )  # fmt: skip
    if not rows:
        return warnings
    ring_rows = pd.DataFrame(rows).drop_duplicates(["customer_id"])
    # An account's own review_burst warning gives way to the ring's, which says more.
    mine = warnings["customer_id"].isin(ring_rows["customer_id"]) & (
        warnings["risk_type"] == RiskType.FAKE_REVIEW.value
    )
    return pd.concat([warnings[~mine], ring_rows], ignore_index=True)


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


def _with_text_reasons(
    conn: duckdb.DuckDBPyConnection, warnings: pd.DataFrame, as_of: datetime
) -> pd.DataFrame:
    """Quote what the customer wrote: '3 contacts in 30 days mention cancelling: “…”'.

    Reads `interaction_text` (filled by `crew text analyze`); without it, nothing is added.
    """
    wanted = warnings[warnings["customer_id"].notna() & warnings["risk_type"].isin(TEXT_TOPICS)]
    if wanted.empty:
        return warnings
    ids = pd.DataFrame({"customer_id": wanted["customer_id"].unique()})
    conn.register("_crew_warned", ids)
    try:
        found = conn.execute(
            "SELECT t.customer_id, topic, count(*) AS n, arg_max(i.text, t.ts) AS text "
            "FROM (SELECT *, unnest(topics) AS topic FROM interaction_text "
            "      WHERE ts < ? AND ts >= ?) t "
            "JOIN _crew_warned USING (customer_id) JOIN interactions i USING (interaction_id) "
            "GROUP BY ALL",
            [as_of, as_of - timedelta(days=TEXT_DAYS)],
        ).df()
    finally:
        conn.unregister("_crew_warned")
    if found.empty:
        return warnings
    redactor = redactor_from_store(conn)
    said = {(c, t): (int(n), str(x)) for c, t, n, x in found.itertuples(index=False)}
    column: list[list[dict[str, object]]] = [list(r) for r in warnings["reasons"]]
    rows = warnings.index.get_indexer(wanted.index)
    for row, customer, risk in zip(rows, wanted["customer_id"], wanted["risk_type"], strict=True):
        for topic in TEXT_TOPICS[risk]:
            if (customer, topic) in said:
                n, text = said[(customer, topic)]
                sentence = evidence_sentence(
                    topic, n, TEXT_DAYS, kind=None, text=text, redactor=redactor
                )
                column[row].append(
                    {"signal": f"text:{topic}", "score": float(n), "en": sentence, "zh": sentence}
                )
    out = warnings.copy()
    out["reasons"] = pd.Series(column, index=warnings.index, dtype=object)
    return out


def _without_lost(conn: duckdb.DuckDBPyConnection, graded: Graded, as_of: datetime) -> Graded:
    """No churn warning for a customer who has already left: that is a fact, not a warning."""
    lost = conn.execute(
        "SELECT DISTINCT customer_id FROM outcomes WHERE kind = 'churn' AND ts < ?", [as_of]
    ).fetchall()
    gone = {row[0] for row in lost}
    rows = graded.rows
    keep = ~(rows["customer_id"].isin(gone) & (rows["risk_type"] == RiskType.CHURN.value))
    return Graded(rows[keep].reset_index(drop=True), graded.limits)


def _warning_rows(
    graded: Graded,
    signals: SignalScores,
    setup: RunSetup,
    features: pd.DataFrame,
    shifts: list[SegmentShift],
    active: pd.DataFrame,
    as_of: datetime,
) -> pd.DataFrame:
    rows = graded.rows.copy()
    rows["segment"] = None
    evidence, reasons = [], []
    for customer, names, lead in zip(
        rows["customer_id"], rows["signals"], rows["leading_signal"], strict=True
    ):
        shown = {n: signals.evidence_for(n, customer) for n in names}
        evidence.append(shown)
        ordered = [lead, *[n for n in names if n != lead]]
        reasons.append(
            [
                signal_reason(signals.specs[n], _score(signals, customer, n), shown.get(n, {}))
                for n in ordered
            ]
        )
    rows["evidence"] = pd.Series(evidence, index=rows.index, dtype=object)
    rows["reasons"] = pd.Series(reasons, index=rows.index, dtype=object)
    rows["recommended_action"] = [
        recommended_action(RiskType(r), Level(lv))
        for r, lv in zip(rows["risk_type"], rows["level"], strict=True)
    ]
    rows["parent_id"] = None
    segment_rows = _segment_rows(shifts, active, as_of)
    if segment_rows.empty:
        return rows
    if "segment" in features.columns:
        _group_under_segments(rows, segment_rows, features)
    return pd.concat([rows, segment_rows.drop(columns=["warning_id"])], ignore_index=True)


def _score(signals: SignalScores, customer: str, name: str) -> float:
    value = signals.scores.at[customer, name]
    return float(value) if isinstance(value, int | float | np.floating) else float("nan")


def _segment_rows(
    shifts: list[SegmentShift], active: pd.DataFrame, as_of: datetime
) -> pd.DataFrame:
    """One external-shock warning per shifted segment (the strongest of its metrics)."""
    best: dict[str, SegmentShift] = {}
    for shift in shifts:
        if shift.segment not in best or abs(shift.z) > abs(best[shift.segment].z):
            best[shift.segment] = shift
    records = []
    for segment, shift in best.items():
        level = next((lv for z, lv in reversed(SHIFT_LEVELS) if abs(shift.z) >= z), None)
        if level is None:
            continue
        ours = active[
            (active["segment"] == segment) & (active["risk_type"] == RiskType.EXTERNAL_SHOCK.value)
        ] if len(active) else active  # fmt: skip
        first_seen = as_of if ours.empty else ours["first_seen"].iloc[0]
        en = (
            f"Segment {segment}: {shift.metric} moved {shift.relative_change:+.0%} "
            f"since {shift.onset} ({abs(shift.z):.1f} sd)"
        )
        zh = f"客群{segment}：{shift.metric}自{shift.onset}起变化{shift.relative_change:+.0%}"
        records.append(
            {
                "customer_id": None,
                "segment": segment,
                "risk_type": RiskType.EXTERNAL_SHOCK.value,
                "level": level.value,
                "score": abs(float(shift.z)),
                "leading_signal": "segment_shift",
                "signals": ["segment_shift"],
                "cooldown_days": 28,
                "evidence": shift.evidence(),
                "reasons": [{"signal": "segment_shift", "score": abs(float(shift.z)),
                             "en": en + ".", "zh": zh + "。"}],
                "recommended_action": recommended_action(RiskType.EXTERNAL_SHOCK, level),
                "parent_id": None,
                "warning_id": warning_id(RiskType.EXTERNAL_SHOCK.value, None, segment, first_seen),
            }
        )  # fmt: skip
    return pd.DataFrame(records)


def _group_under_segments(
    rows: pd.DataFrame, segment_rows: pd.DataFrame, features: pd.DataFrame
) -> None:
    """Churn warnings of customers in a shocked segment point at the segment's warning."""
    parent = dict(zip(segment_rows["segment"], segment_rows["warning_id"], strict=True))
    segment_of = features["segment"].reindex(rows["customer_id"]).to_numpy()
    grouped = [
        parent.get(s) if r == RiskType.CHURN.value else None
        for s, r in zip(segment_of, rows["risk_type"], strict=True)
    ]
    rows["parent_id"] = grouped


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
