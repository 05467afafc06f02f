"""Shared fixtures: a fresh workspace, an in-memory store, the CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import settings
from typer.testing import CliRunner

from crew.store import Workspace, connect_duckdb, create_schema, init_workspace

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("CREW_HYPOTHESIS", "dev"))


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An initialised, empty workspace in a temporary folder."""
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory store with the canonical schema."""
    conn = connect_duckdb(":memory:")
    create_schema(conn)
    yield conn
    conn.close()


@pytest.fixture
def cli() -> CliRunner:
    """Runs `crew` commands in-process."""
    return CliRunner()
