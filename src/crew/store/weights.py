"""Weight sets in the store: named sets of weights by scope, each with its provenance.

A weight set ("ahp", "entropy", "combined", ...) holds one or more scopes (e.g.
``dimensions``, ``indicators``, ``indicators:complaints``); a scope maps items to weights.
Saving a scope replaces it whole, so a set never mixes two runs within a scope.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from crew.errors import WeightsError
from crew.store.duckdb import transaction

#: Provenance is a JSON object: method, source file and its sha256, consistency ratios, ...
Provenance = Mapping[str, object]


@dataclass(frozen=True)
class StoredWeights:
    """One weight set as stored: weights, method and provenance by scope."""

    name: str
    weights: dict[str, dict[str, float]]
    methods: dict[str, str]
    provenance: dict[str, dict[str, object]]
    created_at: datetime


@dataclass(frozen=True)
class WeightSetSummary:
    """A line of `list_weight_sets`: what a set holds and when it was made."""

    name: str
    methods: tuple[str, ...]
    scopes: tuple[str, ...]
    items: int
    created_at: datetime


def save_weights(
    conn: duckdb.DuckDBPyConnection,
    weight_set: str,
    scope: str,
    weights: Mapping[str, float],
    method: str,
    provenance: Provenance,
) -> None:
    """Replace the weights of (`weight_set`, `scope`) in one transaction."""
    with transaction(conn):
        _replace_scope(conn, weight_set, scope, weights, method, provenance, _now())


def save_weight_set(
    conn: duckdb.DuckDBPyConnection,
    weight_set: str,
    scopes: Mapping[str, Mapping[str, float]],
    method: str,
    provenance: Provenance,
) -> None:
    """Replace the whole set `weight_set` by `scopes` in one transaction (same provenance)."""
    created_at = _now()
    with transaction(conn):
        conn.execute("DELETE FROM weights WHERE weight_set = ?", [weight_set])
        for scope, weights in scopes.items():
            _replace_scope(conn, weight_set, scope, weights, method, provenance, created_at)


def _replace_scope(
    conn: duckdb.DuckDBPyConnection,
    weight_set: str,
    scope: str,
    weights: Mapping[str, float],
    method: str,
    provenance: Provenance,
    created_at: datetime,
) -> None:
    if not weight_set or not scope:
        raise WeightsError(
            "A weight set and its scope need non-empty names.", hint="e.g. --name ahp"
        )
    document = json.dumps(dict(provenance), ensure_ascii=False, sort_keys=True, default=str)
    conn.execute("DELETE FROM weights WHERE weight_set = ? AND scope = ?", [weight_set, scope])
    if weights:
        conn.executemany(
            "INSERT INTO weights (weight_set, scope, item, weight, method, created_at, provenance)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                [weight_set, scope, item, float(w), method, created_at, document]
                for item, w in weights.items()
            ],
        )


def load_weights(conn: duckdb.DuckDBPyConnection, weight_set: str) -> StoredWeights:
    """The stored set `weight_set`, items by descending weight; WeightsError if unknown."""
    rows = conn.execute(
        "SELECT scope, item, weight, method, provenance, created_at FROM weights "
        "WHERE weight_set = ? ORDER BY scope, weight DESC, item",
        [weight_set],
    ).fetchall()
    if not rows:
        known = [s.name for s in list_weight_sets(conn)]
        raise WeightsError(
            f"No weight set named '{weight_set}' in the store.",
            hint=f"Stored sets: {', '.join(known)}." if known else "Run 'crew weights ahp' first.",
        )
    weights: dict[str, dict[str, float]] = {}
    methods: dict[str, str] = {}
    provenance: dict[str, dict[str, object]] = {}
    for scope, item, weight, method, document, _ in rows:
        weights.setdefault(scope, {})[item] = float(weight)
        methods[scope] = method
        provenance[scope] = json.loads(document) if document else {}
    return StoredWeights(
        name=weight_set,
        weights=weights,
        methods=methods,
        provenance=provenance,
        created_at=max(row[5] for row in rows),
    )


def list_weight_sets(conn: duckdb.DuckDBPyConnection) -> list[WeightSetSummary]:
    """Every stored weight set, by name."""
    rows = conn.execute(
        "SELECT weight_set, list(DISTINCT method ORDER BY method), "
        "list(DISTINCT scope ORDER BY scope), count(*), max(created_at) "
        "FROM weights GROUP BY weight_set ORDER BY weight_set"
    ).fetchall()
    return [
        WeightSetSummary(
            name=name, methods=tuple(methods), scopes=tuple(scopes), items=int(items), created_at=at
        )
        for name, methods, scopes, items, at in rows
    ]


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = [
    "Provenance",
    "StoredWeights",
    "WeightSetSummary",
    "list_weight_sets",
    "load_weights",
    "save_weight_set",
    "save_weights",
]
