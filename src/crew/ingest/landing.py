"""Streamed events kept for the analytical store: Parquet files in the workspace's landing.

The stream changes the online state and opens warnings at once, but the batch run (`crew
run`, the models, the backtest) reads the analytical store. Every batch a handler folds in
is therefore also written as Parquet, one file per table and batch, under
`<workspace>/stream/landed/<table>/`, before the batch is acknowledged; `crew run` (or
`crew import --landed`) imports the files into the store and moves them to `imported/`.

A file appears whole or not at all (written aside, then renamed). A worker that dies after
writing and before acknowledging writes the events again in another file when they come
back; the import's upsert by id keeps one row of each. Any number of worker processes can
land files side by side: names carry the worker and a random suffix.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from crew.ingest.events import Event
from crew.ingest.importer import import_sources
from crew.ingest.mapping import Mapping, SourceSpec
from crew.store.schema import TABLES
from crew.types import Table

LANDED = Path("stream") / "landed"
"""Where, under a workspace, streamed events wait for the import."""
EVENT_TABLES = (Table.TRANSACTIONS, Table.INTERACTIONS, Table.EVENTS)

_ARROW = {
    "VARCHAR": pa.string(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "DOUBLE": pa.float64(),
    "INTEGER": pa.int32(),
    "JSON": pa.string(),
}


def landing_dir(workspace_root: Path) -> Path:
    """The landing folder of a workspace."""
    return workspace_root / LANDED


class Landing:
    """Writes the events of each batch as Parquet files into a workspace's landing."""

    def __init__(self, workspace_root: Path, consumer: str = "worker") -> None:
        self.root = landing_dir(workspace_root)
        self.consumer = "".join(c if c.isalnum() or c in "-_" else "_" for c in consumer)
        self.files = 0

    def write(self, events: Sequence[Event]) -> list[Path]:
        """One file per table of `events` (nothing for an empty batch); the paths."""
        by_table: dict[Table, list[Event]] = defaultdict(list)
        for event in events:
            by_table[Table(event.table)].append(event)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        written = []
        for table, mine in by_table.items():
            folder = self.root / table.value
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{stamp}-{self.consumer}-{uuid.uuid4().hex[:8]}.parquet"
            aside = folder / f".{name}.part"
            pq.write_table(_as_table(table, mine), aside)
            os.replace(aside, folder / name)
            written.append(folder / name)
        self.files += len(written)
        return written


def landed_files(workspace_root: Path) -> dict[Table, list[Path]]:
    """The landed files waiting for the import, per table, oldest first."""
    found: dict[Table, list[Path]] = {}
    for table in EVENT_TABLES:
        folder = landing_dir(workspace_root) / table.value
        files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if files:
            found[table] = files
    return found


def import_landed(conn: duckdb.DuckDBPyConnection, workspace_root: Path) -> dict[Table, int]:
    """Import every landed file into the analytical store in one transaction (rows already
    there are replaced by id), then move the files to `imported/`; rows per table.

    Raises:
        ValidationFailed: a landed file breaks the contract; nothing was imported or moved.
    """
    found = landed_files(workspace_root)
    if not found:
        return {}
    sources = [SourceSpec(path=str(f), table=t) for t, files in found.items() for f in files]
    results = import_sources(conn, Mapping(sources=sources), workspace_root)
    rows: dict[Table, int] = defaultdict(int)
    for result in results:
        rows[result.table] += result.rows
    done = landing_dir(workspace_root) / "imported"
    for table, files in found.items():
        (done / table.value).mkdir(parents=True, exist_ok=True)
        for file in files:  # imported twice if we stop here: harmless, the upsert keeps one
            os.replace(file, done / table.value / file.name)
    return dict(rows)


def _as_table(table: Table, events: Sequence[Event]) -> pa.Table:
    spec = TABLES[table]
    rows = [e.model_dump() for e in events]
    columns = {}
    for column in spec.columns:
        values = [row.get(column.name) for row in rows]
        if column.sql_type == "JSON":
            values = [None if v is None else json.dumps(v) for v in values]
        elif column.sql_type == "VARCHAR":
            values = [None if v is None else str(getattr(v, "value", v)) for v in values]
        columns[column.name] = pa.array(values, _ARROW.get(column.sql_type, pa.string()))
    return pa.table(columns)


__all__ = ["LANDED", "Landing", "import_landed", "landed_files", "landing_dir"]
