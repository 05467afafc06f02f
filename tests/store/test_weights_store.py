"""Weight sets in DuckDB: round trip with provenance, replacement, listing, errors."""

from __future__ import annotations

from typing import cast

import duckdb
import pytest

from crew.errors import WeightsError
from crew.store.weights import list_weight_sets, load_weights, save_weight_set, save_weights

PROVENANCE: dict[str, object] = {
    "method": "ahp",
    "source": "/tmp/judgements.yaml",
    "sha256": "ab" * 32,
    "consistency_ratios": {"dimensions": 0.012, "indicators.trust": 0.0},
    "created_at": "2024-05-01T00:00:00+00:00",
}


def test_round_trip_keeps_weights_method_and_provenance(db: duckdb.DuckDBPyConnection) -> None:
    save_weight_set(
        db,
        "ahp",
        {"dimensions": {"value": 0.6, "trust": 0.4}, "indicators": {"nps_drop": 0.3}},
        "ahp",
        PROVENANCE,
    )
    stored = load_weights(db, "ahp")
    assert stored.name == "ahp"
    assert stored.weights == {
        "dimensions": {"value": 0.6, "trust": 0.4},
        "indicators": {"nps_drop": 0.3},
    }
    assert list(stored.weights["dimensions"]) == ["value", "trust"]  # heaviest first
    assert stored.methods == {"dimensions": "ahp", "indicators": "ahp"}
    assert stored.provenance["dimensions"] == PROVENANCE
    assert stored.created_at.tzinfo is not None


def test_save_weights_replaces_one_scope_only(db: duckdb.DuckDBPyConnection) -> None:
    save_weight_set(
        db, "ahp", {"dimensions": {"a": 0.5, "b": 0.5}, "indicators": {"x": 1.0}}, "ahp", {}
    )
    save_weights(db, "ahp", "dimensions", {"c": 1.0}, "manual", {"note": "edited"})
    stored = load_weights(db, "ahp")
    assert stored.weights == {"dimensions": {"c": 1.0}, "indicators": {"x": 1.0}}
    assert stored.methods["dimensions"] == "manual"
    assert stored.provenance["dimensions"] == {"note": "edited"}


def test_save_weight_set_replaces_the_whole_set(db: duckdb.DuckDBPyConnection) -> None:
    save_weight_set(db, "ahp", {"dimensions": {"a": 1.0}, "indicators:a": {"x": 1.0}}, "ahp", {})
    save_weight_set(db, "ahp", {"dimensions": {"b": 1.0}}, "ahp", {})
    save_weight_set(db, "other", {"dimensions": {"a": 1.0}}, "ahp", {})
    assert load_weights(db, "ahp").weights == {"dimensions": {"b": 1.0}}
    assert load_weights(db, "other").weights == {"dimensions": {"a": 1.0}}


def test_a_failed_save_leaves_the_previous_weights(db: duckdb.DuckDBPyConnection) -> None:
    save_weights(db, "ahp", "dimensions", {"a": 0.7, "b": 0.3}, "ahp", {})
    broken = cast(dict[str, float], {"a": "not a number"})
    with pytest.raises(ValueError):
        save_weights(db, "ahp", "dimensions", broken, "ahp", {})
    assert load_weights(db, "ahp").weights == {"dimensions": {"a": 0.7, "b": 0.3}}


def test_list_weight_sets(db: duckdb.DuckDBPyConnection) -> None:
    assert list_weight_sets(db) == []
    save_weight_set(db, "entropy", {"indicators": {"x": 0.2, "y": 0.8}}, "entropy", {})
    save_weight_set(db, "ahp", {"dimensions": {"a": 1.0}, "indicators": {"x": 1.0}}, "ahp", {})
    sets = list_weight_sets(db)
    assert [(s.name, s.methods, s.scopes, s.items) for s in sets] == [
        ("ahp", ("ahp",), ("dimensions", "indicators"), 2),
        ("entropy", ("entropy",), ("indicators",), 2),
    ]


def test_unknown_set_names_the_stored_ones(db: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(WeightsError, match="No weight set named 'ahp'") as caught:
        load_weights(db, "ahp")
    assert caught.value.hint == "Run 'crew weights ahp' first."
    save_weights(db, "entropy", "indicators", {"x": 1.0}, "entropy", {})
    with pytest.raises(WeightsError) as caught:
        load_weights(db, "ahp")
    assert caught.value.hint == "Stored sets: entropy."
