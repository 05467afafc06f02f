"""Stores: the embedded DuckDB workspace, its canonical schema and transactions."""

from crew.store.duckdb import connect_duckdb, transaction
from crew.store.operational import (
    HistoryEntry,
    OperationalStore,
    RunRecord,
    WarningRecord,
    open_operational_store,
    warning_id,
)
from crew.store.schema import CANONICAL, Column, TableSpec, create_schema
from crew.store.workspace import Workspace, init_workspace, open_workspace

__all__ = [
    "CANONICAL",
    "Column",
    "HistoryEntry",
    "OperationalStore",
    "RunRecord",
    "TableSpec",
    "WarningRecord",
    "Workspace",
    "connect_duckdb",
    "create_schema",
    "init_workspace",
    "open_operational_store",
    "open_workspace",
    "transaction",
    "warning_id",
]
