"""Customers on the shared blacklist: their identifiers hashed and looked up, as warnings.

A customer matches when the hash of their phone, e-mail or ID number (from `customers`), or
of a device seen in their events before `as_of`, equals an entry in force. The identifiers
are hashed in memory only; nothing but the matched entries' provenance is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import duckdb
import pandas as pd

from crew.alerts.actions import recommended_action
from crew.response.blacklist import SIGNAL, IdentifierHasher, match_evidence, match_reason
from crew.store.blacklist import BlacklistEntry, IdentifierType
from crew.types import Level, RiskType

COOLDOWN_DAYS = 90
DEVICE_KEYS = ("device_id", "new_device_id", "old_device_id")
"""Keys of `events.attributes` holding a device id (login, login_failed, device_change)."""

_CUSTOMER_COLUMNS = {
    IdentifierType.PHONE: "phone",
    IdentifierType.EMAIL: "email",
    IdentifierType.ID_NUMBER: "id_number",
}

Hits = dict[str, list[BlacklistEntry]]
"""Customer id -> the entries it matches (each once)."""


def customer_identifiers(
    conn: duckdb.DuckDBPyConnection, as_of: datetime, kinds: set[IdentifierType]
) -> pd.DataFrame:
    """customer_id, identifier_type, value: the customers' identifiers of these `kinds`.

    Devices are those named in events before `as_of`.
    """
    parts = [
        f"SELECT customer_id, '{kind.value}' AS identifier_type, {column} AS value "
        f"FROM customers WHERE {column} IS NOT NULL"
        for kind, column in _CUSTOMER_COLUMNS.items()
        if kind in kinds
    ]
    params: list[object] = []
    if IdentifierType.DEVICE in kinds:
        extracted = ", ".join(f"json_extract_string(attributes, '$.{k}')" for k in DEVICE_KEYS)
        parts.append(
            "SELECT DISTINCT customer_id, 'device' AS identifier_type, value FROM ("
            f"  SELECT customer_id, unnest([{extracted}]) AS value FROM events"
            "  WHERE ts < ? AND attributes IS NOT NULL"
            ") WHERE value IS NOT NULL"
        )
        params.append(as_of)
    if not parts:
        return pd.DataFrame(columns=["customer_id", "identifier_type", "value"])
    return conn.execute(" UNION ALL ".join(parts), params).df()


def blacklist_hits(
    conn: duckdb.DuckDBPyConnection,
    entries: Sequence[BlacklistEntry],
    hasher: IdentifierHasher,
    as_of: datetime,
) -> Hits:
    """Which customers match which of `entries` (those in force: the caller picks them)."""
    wanted: dict[tuple[str, str], list[BlacklistEntry]] = {}
    for entry in entries:
        wanted.setdefault((entry.identifier_type.value, entry.identifier_hash), []).append(entry)
    kinds = {entry.identifier_type for entry in entries}
    if not kinds:
        return {}
    found = customer_identifiers(conn, as_of, kinds)
    hits: Hits = {}
    for customer, kind, raw in found.itertuples(index=False):
        try:
            digest = hasher.hash(IdentifierType(kind), str(raw))
        except ValueError:
            continue  # a malformed phone or e-mail of our own cannot match anything
        for entry in wanted.get((kind, digest), ()):
            matched = hits.setdefault(str(customer), [])
            if all(e.id != entry.id for e in matched):
                matched.append(entry)
    return hits


def blacklist_rows(hits: Mapping[str, Sequence[BlacklistEntry]]) -> pd.DataFrame:
    """One high fraud warning row per matching customer, its reasons naming every entry."""
    action = recommended_action(RiskType.FRAUD, Level.HIGH)
    rows = []
    for customer in sorted(hits):
        matched = sorted(hits[customer], key=lambda e: (e.listed_on, e.id), reverse=True)
        rows.append(
            {
                "customer_id": customer, "segment": None, "risk_type": RiskType.FRAUD.value,
                "level": Level.HIGH.value, "score": 1.0, "leading_signal": SIGNAL,
                "signals": [SIGNAL], "cooldown_days": COOLDOWN_DAYS,
                "evidence": {SIGNAL: {"entries": [match_evidence(e) for e in matched]}},
                "reasons": [match_reason(e) for e in matched],
                "recommended_action": action, "parent_id": None,
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def with_blacklist_rows(warnings: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """`warnings` with the blacklist's rows: one fraud warning per customer, whatever fired.

    A customer's fraud warning from the signals is folded into the blacklist's (high, its
    signals, evidence and reasons after the blacklist's), so the store sees one warning.
    """
    if rows.empty:
        return warnings
    if warnings.empty:
        return rows
    theirs = (warnings["risk_type"] == RiskType.FRAUD.value) & warnings["customer_id"].isin(
        rows["customer_id"]
    )
    mine = {str(r["customer_id"]): r for r in rows.to_dict("records")}
    for old in warnings[theirs].to_dict("records"):
        new = mine[str(old["customer_id"])]
        new["score"] = max(float(new["score"]), float(old["score"]))
        new["signals"] = [SIGNAL, *[s for s in old["signals"] if s != SIGNAL]]
        new["evidence"] = {**dict(old["evidence"] or {}), **new["evidence"]}
        new["reasons"] = [*new["reasons"], *list(old["reasons"] or [])]
    return pd.concat([warnings[~theirs], pd.DataFrame(list(mine.values()))], ignore_index=True)


__all__ = [
    "COOLDOWN_DAYS",
    "DEVICE_KEYS",
    "Hits",
    "blacklist_hits",
    "blacklist_rows",
    "customer_identifiers",
    "with_blacklist_rows",
]
