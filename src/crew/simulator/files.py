"""Arrow schemas of the output files and writers that append chunks to CSV or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from crew.simulator.config import FileFormat
from crew.store.schema import CANONICAL, TableSpec

_ARROW = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "DOUBLE": pa.float64(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DATE": pa.date32(),
}

EPISODES_SCHEMA = pa.schema(
    [
        ("episode_id", pa.string()),
        ("customer_id", pa.string()),
        ("segment", pa.string()),
        ("risk_type", pa.string()),
        ("onset_ts", pa.timestamp("us", tz="UTC")),
        ("outcome", pa.string()),
        ("outcome_ts", pa.timestamp("us", tz="UTC")),
        ("severity", pa.int32()),
        ("description", pa.string()),
    ]
)
"""Ground truth: one row per injected risk episode (customer_id null when segment-wide)."""


def arrow_schema(spec: TableSpec) -> pa.Schema:
    """Arrow schema of a canonical table, columns in canonical order.

    >>> from crew.types import Table
    >>> arrow_schema(CANONICAL[Table.OUTCOMES]).names
    ['customer_id', 'kind', 'ts', 'value']
    """
    return pa.schema([(c.name, _ARROW[c.sql_type]) for c in spec.columns])


def output_schemas() -> dict[str, pa.Schema]:
    """Schema of every output file, by file stem, in writing order."""
    schemas = {t.value: arrow_schema(spec) for t, spec in CANONICAL.items()}
    schemas["episodes"] = EPISODES_SCHEMA
    return schemas


class TableSink(Protocol):
    """Somewhere chunks of one table are appended to."""

    def write(self, table: pa.Table) -> None: ...

    def close(self) -> None: ...


class _ParquetSink:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type) for f in schema]
    )


def as_csv_table(table: pa.Table) -> pa.Table:
    """`table` with its timestamps as ISO 8601 text in UTC, e.g. 2024-03-05T14:03:11+00:00."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            seconds = column.cast(pa.timestamp("s", tz="UTC"))
            column = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S+00:00")
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=_csv_schema(table.schema))


class _CsvSink:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
        self._writer = pacsv.CSVWriter(path, _csv_schema(schema), write_options=options)

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(as_csv_table(table))

    def close(self) -> None:
        self._writer.close()


def open_sink(path: Path, schema: pa.Schema, file_format: FileFormat) -> TableSink:
    """A writer appending chunks of `schema` to `path`."""
    if file_format == "csv":
        return _CsvSink(path, schema)
    return _ParquetSink(path, schema)
