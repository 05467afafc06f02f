"""The online state fed from the analytical store: known customers and their recent history.

A stream handler starts from what the workspace already holds: the customers (events of
anyone else are quarantined) and, for each, the rows of the last `horizon` days that the
online indicators need (`bootstrap`). Events then update that state one by one.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import NamedTuple

import duckdb

from crew.indicators.catalog import CUSTOMER_COLUMNS
from crew.indicators.online import ONLINE_TABLES, RECORD_ID, STREAM_TABLES, OnlinePlan
from crew.indicators.online_state import OnlineState
from crew.ingest.events import EVENT, Event
from crew.store.duckdb import as_of_literal
from crew.store.schema import TABLES
from crew.store.workspace import Workspace
from crew.types import Table

_TIMESTAMPS = ("ts", "resolved_ts")
_CHUNK = 50_000


class StoredRow(NamedTuple):
    """One row of a fact table, as the online state takes it."""

    customer_id: str
    table: Table
    key: str
    row: dict[str, object]


@contextmanager
def reading_store(workspace: Workspace) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to `workspace`'s analytical store (`Workspace.reading`).

    Workers only read the store, several at once (bootstrapping, reloading customers): a
    read-write connection locks the file for one process, and the others' reads fail.
    """
    with workspace.reading() as conn:
        yield conn


def load_customers(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, object]]:
    """Every customer's columns that indicator formulas read (segment, signup_date, ...)."""
    names = ", ".join(CUSTOMER_COLUMNS)
    found = conn.execute(f"SELECT customer_id, {names} FROM customers").fetchall()
    return {row[0]: dict(zip(CUSTOMER_COLUMNS, row[1:], strict=True)) for row in found}


class CustomerDirectory:
    """Known customers and their columns; a customer not known yet is looked up again in
    the store, at most once every `refresh_s` seconds (customers are imported in batches)."""

    def __init__(
        self,
        known: dict[str, dict[str, object]],
        reload: Callable[[], dict[str, dict[str, object]]] | None = None,
        *,
        refresh_s: float = 30.0,
    ) -> None:
        self.known = known
        self._reload = reload
        self._refresh_s = refresh_s
        self._next = time.monotonic() + refresh_s

    @classmethod
    def of_workspace(cls, workspace: Workspace, *, refresh_s: float = 30.0) -> CustomerDirectory:
        """The customers of `workspace`'s analytical store, reloaded from it when needed."""

        def reload() -> dict[str, dict[str, object]]:
            with reading_store(workspace) as conn:
                return load_customers(conn)

        return cls(reload(), reload, refresh_s=refresh_s)

    def knows(self, customer_id: str) -> bool:
        """True for a customer of the store (reloading it when due)."""
        if customer_id in self.known:
            return True
        if self._reload is not None and time.monotonic() >= self._next:
            self.known = self._reload()
            self._next = time.monotonic() + self._refresh_s
        return customer_id in self.known

    def attributes(self, customer_id: str) -> dict[str, object]:
        """The customer's columns (empty for an unknown customer)."""
        return self.known.get(customer_id, {})


def stored_rows(
    conn: duckdb.DuckDBPyConnection,
    plan: OnlinePlan,
    *,
    since: datetime | None,
    until: datetime,
    customers: list[str] | None = None,
) -> Iterator[StoredRow]:
    """Rows with `since <= ts < until` (since: each table's horizon before `until`), in ts
    order per table; `interaction_text` rows are the analyses `crew text analyze` stored."""
    for table in ONLINE_TABLES:
        columns = [c for c in plan.columns[table] if c != "customer_id"]
        select = ", ".join(f"epoch_us({c})" if c in _TIMESTAMPS else c for c in columns)
        at = as_of_literal(until)
        start = (
            as_of_literal(since)
            if since is not None
            else f"{at} - INTERVAL '{plan.horizon_us[table] // 86_400_000_000}' DAY"
        )
        where = f"ts >= {start} AND ts < {at}"
        params: list[object] = []
        if customers is not None:
            where += " AND customer_id IN (SELECT unnest(?))"
            params.append(customers)
        cursor = conn.execute(
            f"SELECT customer_id, {RECORD_ID[table]}, {select} FROM {table.value} "
            f"WHERE {where} ORDER BY ts, customer_id",
            params,
        )
        while batch := cursor.fetchmany(_CHUNK):
            for customer_id, record_id, *values in batch:
                row = dict(zip(columns, values, strict=True))
                row["customer_id"] = customer_id
                yield StoredRow(customer_id, table, f"{table.value}:{record_id}", row)


def bootstrap(
    conn: duckdb.DuckDBPyConnection,
    state: OnlineState,
    until: datetime,
    *,
    customers: dict[str, dict[str, object]] | None = None,
) -> int:
    """Fill `state` with the customers' attributes and their rows before `until`; rows added."""
    known = customers if customers is not None else load_customers(conn)
    for customer_id, attributes in known.items():
        state.customer(customer_id).attributes = dict(attributes)
    added = 0
    for stored in stored_rows(conn, state.plan, since=None, until=until):
        added += state.add(stored.customer_id, stored.table, stored.key, stored.row) is not None
    return added


def stored_events(
    conn: duckdb.DuckDBPyConnection, *, since: datetime, until: datetime
) -> Iterator[Event]:
    """The stored rows with `since <= ts < until` as events, oldest first (a replay)."""

    def table_events(table: Table) -> Iterator[tuple[datetime, str, Event]]:
        names = TABLES[table].names
        cursor = conn.execute(
            f"SELECT {', '.join(names)} FROM {table.value} WHERE ts >= ? AND ts < ? "
            f"ORDER BY ts, {RECORD_ID[table]}",
            [since, until],
        )
        while batch := cursor.fetchmany(_CHUNK):
            for values in batch:
                fields = {k: v for k, v in zip(names, values, strict=True) if v is not None}
                if isinstance(fields.get("attributes"), str):
                    fields["attributes"] = json.loads(fields["attributes"])
                event = EVENT.validate_python({"table": table.value, **fields})
                yield event.ts, event.key, event

    merged = heapq.merge(*(table_events(t) for t in STREAM_TABLES), key=lambda x: (x[0], x[1]))
    for _, _, event in merged:
        yield event


def latest_instant(conn: duckdb.DuckDBPyConnection) -> datetime | None:
    """The newest timestamp of the fact tables (None when they are empty)."""
    union = " UNION ALL ".join(f"SELECT max(ts) AS ts FROM {t.value}" for t in STREAM_TABLES)
    found = conn.execute(f"SELECT max(ts) FROM ({union})").fetchone()
    value = found[0] if found else None
    return value if isinstance(value, datetime) else None


__all__ = [
    "CustomerDirectory",
    "StoredRow",
    "bootstrap",
    "latest_instant",
    "load_customers",
    "reading_store",
    "stored_events",
    "stored_rows",
]
