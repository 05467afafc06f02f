"""The embedded analytical store: DuckDB connections and transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from crew.config import StoreSettings
from crew.errors import WorkspaceError


def connect_duckdb(
    path: Path | str, settings: StoreSettings | None = None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file at `path` (":memory:" for a throwaway store), clock set to UTC.

    `read_only` connections of several processes can be open at once (not beside a writer).
    """
    config: dict[str, str | bool | int | float | list[str]] = {}
    if settings is not None and settings.threads is not None:
        config["threads"] = settings.threads
    if settings is not None and settings.memory_limit is not None:
        config["memory_limit"] = settings.memory_limit
    try:
        conn = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        raise WorkspaceError(
            f"Cannot {'read' if read_only else 'open'} the store {path}: {exc}",
            hint="Another crew process writing to it holds it; try again when it has finished."
            if read_only
            else "Another crew process may hold it; stop it or use another workspace.",
        ) from None
    # All timestamps are stored and compared in UTC, whatever the machine's zone.
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET enable_progress_bar = false")  # the CLI draws its own
    return conn


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run a block in one transaction: committed when it ends, rolled back if it raises."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def as_of_literal(as_of: datetime) -> str:
    """The instant as a DuckDB TIMESTAMPTZ literal (UTC).

    >>> as_of_literal(datetime(2025, 6, 30, tzinfo=UTC))
    "CAST('2025-06-30 00:00:00+00:00' AS TIMESTAMPTZ)"
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    text = as_of.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f").removesuffix(".000000")
    return f"CAST('{text}+00:00' AS TIMESTAMPTZ)"


__all__ = ["as_of_literal", "connect_duckdb", "transaction"]
