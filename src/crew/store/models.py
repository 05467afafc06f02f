"""The model registry's records: versions, artifacts and their metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from crew.errors import CrewError
from crew.store.duckdb import transaction


@dataclass(frozen=True)
class ModelRecord:
    """One registered model version."""

    version: int
    kind: str
    created_at: datetime
    as_of: datetime | None
    horizon_days: int | None
    profile: str
    catalog_sha256: str
    artifact: str
    artifact_sha256: str
    metadata: dict[str, Any]


def register_model(
    conn: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    as_of: datetime | None,
    horizon_days: int | None,
    profile: str,
    catalog_sha256: str,
    artifact_for: Any,
    metadata: dict[str, Any],
) -> ModelRecord:
    """Take the next version number, let `artifact_for(version)` write the artifact, record it.

    `artifact_for` returns (relative path, sha256) of what it wrote.
    """
    with transaction(conn):
        ((last,),) = conn.execute("SELECT coalesce(max(version), 0) FROM models").fetchall()
        version = int(last) + 1
        path, digest = artifact_for(version)
        created = datetime.now(UTC)
        conn.execute(
            "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                version,
                kind,
                created,
                as_of,
                horizon_days,
                profile,
                catalog_sha256,
                path,
                digest,
                json.dumps(metadata, default=str),
            ],
        )
    return ModelRecord(
        version, kind, created, as_of, horizon_days, profile, catalog_sha256, path, digest, metadata
    )


def model_record(conn: duckdb.DuckDBPyConnection, version: int | None = None) -> ModelRecord:
    """The record of `version`, or of the newest model; CrewError when there is none."""
    where = "" if version is None else f"WHERE version = {int(version)}"
    records = _records(conn, f"{where} ORDER BY version DESC LIMIT 1")
    if not records:
        which = f"model version {version}" if version is not None else "trained model"
        raise CrewError(
            f"The workspace has no {which}.",
            hint="Run 'crew train --as-of DATE' first; 'crew models' lists the versions.",
        )
    return records[0]


def model_records(conn: duckdb.DuckDBPyConnection) -> list[ModelRecord]:
    """Every registered model, newest first."""
    return _records(conn, "ORDER BY version DESC")


def _records(conn: duckdb.DuckDBPyConnection, tail: str) -> list[ModelRecord]:
    rows = conn.execute(f"SELECT * FROM models {tail}").fetchall()
    return [
        ModelRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], json.loads(r[9]))
        for r in rows
    ]


__all__ = ["ModelRecord", "model_record", "model_records", "register_model"]
