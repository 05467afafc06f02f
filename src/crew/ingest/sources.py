"""Sources: files, folders, globs and database tables, staged as DuckDB relations.

Staging gives every source a `_row` column for error messages: the line number for CSV
(the header is line 1), the 1-based row for Parquet and database tables.
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from crew.errors import MappingError, SourceError
from crew.ingest._sql import ident, literal
from crew.ingest.mapping import SourceSpec
from crew.store.schema import CANONICAL
from crew.types import Table

FILE_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
SQL_CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class SourceFile:
    """One concrete input of a source spec, with the table it fills."""

    spec: SourceSpec
    table: Table
    label: str
    path: Path | None = None


@dataclass(frozen=True)
class StagedSource:
    """A source readable with SQL: `SELECT ... FROM relation`, with source column types."""

    item: SourceFile
    relation: str
    columns: dict[str, str]
    rows: int


def expand_source(spec: SourceSpec, base_dir: Path) -> list[SourceFile]:
    """The concrete inputs of `spec`: a file, every data file of a folder, or a glob's matches."""
    if spec.url is not None:
        assert spec.sql_table is not None
        table = spec.table or _table_by_shape(spec) or _table_from_name(spec.sql_table, None)
        return [SourceFile(spec, table, f"{_safe_url(spec.url)}#{spec.sql_table}")]
    assert spec.path is not None
    pattern = Path(spec.path).expanduser()
    if not pattern.is_absolute():
        pattern = base_dir / pattern
    if pattern.is_dir():
        paths = sorted(p for p in pattern.iterdir() if p.suffix.lower() in FILE_SUFFIXES)
    elif any(ch in str(pattern) for ch in "*?["):
        paths = sorted(Path(p) for p in glob.glob(str(pattern), recursive=True))
    else:
        paths = [pattern]
    if not paths:
        raise SourceError(
            f"No CSV or Parquet files found at {pattern}.", hint="Check the path or the glob."
        )
    items = []
    for path in paths:
        if not path.exists():
            raise SourceError(f"{path} does not exist.", hint="Check the path.")
        if path.suffix.lower() not in FILE_SUFFIXES:
            raise SourceError(
                f"{path}: unknown file type '{path.suffix}'.",
                hint="CREW reads .csv, .tsv, .txt (delimited text) and .parquet files.",
            )
        if spec.table is None and is_ground_truth(path):
            continue  # simulator ground truth never enters the store
        table = spec.table or _table_by_shape(spec) or _table_from_name(path.stem, path)
        items.append(SourceFile(spec, table, str(path), path))
    return items


def is_ground_truth(path: Path) -> bool:
    """True for the simulator's episodes file, which is never imported into the store."""
    return path.stem.lower() == "episodes"


def _table_by_shape(spec: SourceSpec) -> Table | None:
    if spec.shape == "snapshot":
        return Table.CUSTOMERS
    if spec.shape == "transaction_log":
        return Table.TRANSACTIONS
    return None


def _table_from_name(name: str, path: Path | None) -> Table:
    stem = name.lower().rsplit(".", 1)[-1]
    for table in CANONICAL:
        if stem == table.value or stem.startswith(table.value + "_"):
            return table
    where = str(path) if path is not None else name
    raise MappingError(
        f"Cannot tell which table {where} fills.",
        hint="Name the file after a table (customers, transactions, interactions, events, "
        "outcomes), pass --table, or set 'table:' in the mapping file.",
    )


def _safe_url(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid url>"


def stage_source(
    conn: duckdb.DuckDBPyConnection,
    item: SourceFile,
    name: str,
    on_rows: Callable[[int], None] | None = None,
) -> StagedSource:
    """Make `item` readable as the temporary relation `name`, with a `_row` column."""
    if item.path is None:
        _stage_sql(conn, item, name, on_rows)
    elif FILE_SUFFIXES[item.path.suffix.lower()] == "parquet":
        _stage_parquet(conn, item.path, name)
    else:
        _stage_csv(conn, item, name)
    described = conn.execute(f"DESCRIBE SELECT * FROM {ident(name)}").fetchall()
    columns = {str(r[0]): str(r[1]) for r in described if r[0] != "_row"}
    count = conn.execute(f"SELECT count(*) FROM {ident(name)}").fetchone()
    rows = 0 if count is None else int(count[0])
    if rows == 0:
        raise SourceError(f"{item.label}: no data rows.", hint="Check that the file is not empty.")
    return StagedSource(item, ident(name), columns, rows)


def _stage_parquet(conn: duckdb.DuckDBPyConnection, path: Path, name: str) -> None:
    try:
        conn.execute(
            f"CREATE OR REPLACE TEMP VIEW {ident(name)} AS SELECT * EXCLUDE (file_row_number), "
            f"file_row_number + 1 AS _row FROM read_parquet({literal(str(path))}, "
            "file_row_number = true)"
        )
        conn.execute(f"SELECT * FROM {ident(name)} LIMIT 0").fetchall()
    except duckdb.Error as exc:
        raise SourceError(
            f"{path}: cannot read as Parquet ({_first_line(exc)}).",
            hint="Check that the file is a complete Parquet file.",
        ) from None


def _stage_csv(conn: duckdb.DuckDBPyConnection, item: SourceFile, name: str) -> None:
    assert item.path is not None
    options = ["header = true", "all_varchar = true"]
    if item.spec.delimiter is not None:
        options.append(f"delim = {literal(item.spec.delimiter)}")
    if item.spec.encoding != "utf-8":
        options.append(f"encoding = {literal(item.spec.encoding)}")
    # Materialised so that rowid follows the file's order: it gives the line numbers.
    try:
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {ident(name + '_raw')} AS SELECT * FROM "
            f"read_csv({literal(str(item.path))}, {', '.join(options)})"
        )
    except duckdb.Error as exc:
        raise SourceError(
            f"{item.path}: cannot read as CSV ({_first_line(exc)}).",
            hint="Check the delimiter, quoting and encoding; set 'delimiter:' or 'encoding:' "
            "in the mapping file if they are unusual.",
        ) from None
    _number_rows(conn, name, first_row=2)


def _stage_sql(
    conn: duckdb.DuckDBPyConnection,
    item: SourceFile,
    name: str,
    on_rows: Callable[[int], None] | None,
) -> None:
    spec = item.spec
    assert spec.url is not None and spec.sql_table is not None
    schema, _, table_name = spec.sql_table.rpartition(".")
    try:
        engine = sa.create_engine(_driver_url(spec.url))
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise SourceError(
            f"Invalid database URL {_safe_url(spec.url)}: {exc}.",
            hint="Use an SQLAlchemy URL such as postgresql://user@host:5432/dbname.",
        ) from None
    raw = ident(name + "_raw")
    total = 0
    try:
        with engine.connect() as db:
            table = sa.Table(table_name, sa.MetaData(), schema=schema or None, autoload_with=db)
            names = [c.name for c in table.columns]
            result = db.execution_options(stream_results=True, yield_per=SQL_CHUNK_ROWS).execute(
                sa.select(table)
            )
            for chunk in result.partitions():
                # Values are staged as text and parsed by the same rules as a CSV file.
                arrays = {
                    col: pa.array([None if r[i] is None else str(r[i]) for r in chunk], pa.string())
                    for i, col in enumerate(names)
                }
                batch = pa.table(arrays)
                conn.register("_sql_chunk", batch)
                if total == 0:
                    conn.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM _sql_chunk")
                else:
                    conn.execute(f"INSERT INTO {raw} SELECT * FROM _sql_chunk")
                conn.unregister("_sql_chunk")
                total += batch.num_rows
                if on_rows is not None:
                    on_rows(total)
            if total == 0:
                cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {ident(c)}" for c in names)
                conn.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT {cols} LIMIT 0")
    except sa.exc.NoSuchTableError:
        raise SourceError(
            f"{item.label}: table '{spec.sql_table}' not found.",
            hint="Check the table name and schema (schema.table).",
        ) from None
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(
            f"{item.label}: cannot read ({_first_line(getattr(exc, 'orig', None) or exc)}).",
            hint="Check that the database is running and the URL, user and password are right.",
        ) from None
    finally:
        engine.dispose()
    _number_rows(conn, name, first_row=1)


def _number_rows(conn: duckdb.DuckDBPyConnection, name: str, first_row: int) -> None:
    """View `name` over the staged `name_raw`, numbering rows in insertion order."""
    raw = ident(name + "_raw")
    # Rows written inside a transaction get rowids from a large offset: count from the first.
    conn.execute(
        f"CREATE OR REPLACE TEMP VIEW {ident(name)} AS SELECT *, "
        f"rowid - (SELECT coalesce(min(rowid), 0) FROM {raw}) + {first_row} AS _row FROM {raw}"
    )


def _driver_url(url: str) -> str:
    """Pick the installed psycopg 3 driver for plain postgresql:// URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


__all__ = ["SourceFile", "StagedSource", "expand_source", "is_ground_truth", "stage_source"]
