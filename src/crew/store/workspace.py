"""A workspace: a folder with `crew.toml`, the DuckDB store and the files around them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crew.config import CONFIG_FILE, Settings, load_config, render_default_config
from crew.errors import WorkspaceError
from crew.store.duckdb import connect_duckdb
from crew.store.schema import SCHEMA_VERSION, create_schema, schema_version

GROUND_TRUTH_DIR = "ground_truth"


@dataclass(frozen=True)
class Workspace:
    """An initialised workspace folder and its settings."""

    root: Path
    settings: Settings

    @property
    def duckdb_path(self) -> Path:
        """The analytical store's file."""
        return self.root / self.settings.store.duckdb_file

    @property
    def operational_url(self) -> str:
        """URL of the default operational store: `operational.sqlite` in the workspace."""
        return f"sqlite:///{self.root / 'operational.sqlite'}"

    @property
    def ground_truth_dir(self) -> Path:
        """Simulator ground truth (episodes); read only by the evaluation."""
        return self.root / GROUND_TRUTH_DIR

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the analytical store, closed when the block ends."""
        conn = connect_duckdb(self.duckdb_path, self.settings.store)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection: processes that only read (stream workers) can hold such
        connections side by side, where a read-write one locks the file for one process."""
        try:
            conn = connect_duckdb(self.duckdb_path, self.settings.store, read_only=True)
        except duckdb.ConnectionException:
            # This process holds a read-write connection already (crew serve's embedded
            # worker beside the API or a scheduled run): read through the same kind.
            conn = connect_duckdb(self.duckdb_path, self.settings.store)
        try:
            yield conn
        finally:
            conn.close()


def init_workspace(root: Path) -> Workspace:
    """Create (or complete) a workspace in `root`: settings file and canonical tables."""
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root} exists and is not a folder.", hint="Choose another path.")
    root.mkdir(parents=True, exist_ok=True)
    config_path = root / CONFIG_FILE
    if not config_path.exists():
        config_path.write_text(render_default_config(), encoding="utf-8")
    workspace = Workspace(root=root.resolve(), settings=load_config(config_path))
    with workspace.connect() as conn:
        create_schema(conn)
    return workspace


def open_workspace(root: Path, *, read_only: bool = False) -> Workspace:
    """The workspace in `root`; WorkspaceError when it was never initialised.

    `read_only` (stream workers): the store is checked through a read-only connection and
    tables added since the workspace was made are not created.
    """
    config_path = root / CONFIG_FILE
    if not config_path.exists():
        raise WorkspaceError(
            f"{root.resolve()} is not a CREW workspace (no {CONFIG_FILE}).",
            hint=f"Run 'crew init {root}' first, or pass --workspace DIR / set CREW_WORKSPACE.",
        )
    workspace = Workspace(root=root.resolve(), settings=load_config(config_path))
    if not workspace.duckdb_path.exists():
        raise WorkspaceError(
            f"{workspace.duckdb_path} is missing.",
            hint=f"Run 'crew init {root}' to create the store again.",
        )
    with workspace.reading() if read_only else workspace.connect() as conn:
        version = schema_version(conn)
        if version != SCHEMA_VERSION:
            raise WorkspaceError(
                f"{workspace.duckdb_path} has schema version {version}, expected {SCHEMA_VERSION}.",
                hint=f"Run 'crew init {root}' to create or upgrade the tables.",
            )
        if not read_only:
            create_schema(conn)  # tables added since the workspace was made (IF NOT EXISTS)
    return workspace


__all__ = ["GROUND_TRUTH_DIR", "Workspace", "init_workspace", "open_workspace"]
