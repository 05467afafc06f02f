"""Warning rows of a run: one per graded customer and type, per shifted segment, per account of
a review ring, each with its evidence and reasons (the customer's own words when analysed)."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from crew.alerts.actions import recommended_action
from crew.grading.levels import Graded
from crew.grading.reasons import signal_reason
from crew.signals.changepoint import SegmentShift
from crew.signals.detect import SignalScores
from crew.store.operational import warning_id
from crew.text import (
    evidence_sentence,
    extra_installed,
    find_review_rings,
    load_reviews,
    redactor_from_store,
)
from crew.types import Industry, Level, RiskType

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
SHIFT_LEVELS = ((3.0, Level.LOW), (4.5, Level.MEDIUM), (6.0, Level.HIGH))
"""A segment shift's |z| (in baseline standard deviations) from which it earns each level."""


def with_review_rings(
    conn: duckdb.DuckDBPyConnection,
    warnings: pd.DataFrame,
    profile: Industry | None,
    as_of: datetime,
) -> pd.DataFrame:
    """One fake-review warning per account of a ring of near-identical reviews (刷单)."""
    if profile not in (None, Industry.ECOMMERCE, Industry.GENERIC) or not extra_installed():
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


def with_text_reasons(
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


def signal_rows(graded: pd.DataFrame, signals: SignalScores) -> pd.DataFrame:
    """Graded customer rows with their evidence, reasons and recommended action."""
    rows = graded.copy()
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
    return rows


def warning_rows(
    graded: Graded,
    signals: SignalScores,
    features: pd.DataFrame,
    shifts: list[SegmentShift],
    active: pd.DataFrame,
    as_of: datetime,
) -> pd.DataFrame:
    """A run's warning rows: the graded customers', then one per shifted segment."""
    rows = signal_rows(graded.rows, signals)
    shocks = segment_rows(shifts, active, as_of)
    if shocks.empty:
        return rows
    if "segment" in features.columns:
        group_under_segments(rows, shocks, features)
    return pd.concat([rows, shocks.drop(columns=["warning_id"])], ignore_index=True)


def _score(signals: SignalScores, customer: str, name: str) -> float:
    value = signals.scores.at[customer, name]
    return float(value) if isinstance(value, int | float | np.floating) else float("nan")


def segment_rows(shifts: list[SegmentShift], active: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
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


def group_under_segments(rows: pd.DataFrame, shocks: pd.DataFrame, features: pd.DataFrame) -> None:
    """Churn warnings of customers in a shocked segment point at the segment's warning."""
    parent = dict(zip(shocks["segment"], shocks["warning_id"], strict=True))
    segment_of = features["segment"].reindex(rows["customer_id"]).to_numpy()
    grouped = [
        parent.get(s) if r == RiskType.CHURN.value else None
        for s, r in zip(segment_of, rows["risk_type"], strict=True)
    ]
    rows["parent_id"] = grouped


__all__ = [
    "SHIFT_LEVELS",
    "TEXT_TOPICS",
    "segment_rows",
    "signal_rows",
    "warning_rows",
    "with_review_rings",
    "with_text_reasons",
]
