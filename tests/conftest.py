"""Shared fixtures: a fresh workspace, an in-memory store, the CLI runner."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import settings
from typer.testing import CliRunner

from crew.cli import app
from crew.ingest import Mapping, SourceSpec, import_sources
from crew.simulator import SimulationConfig, simulate
from crew.store import Workspace, connect_duckdb, create_schema, init_workspace, open_workspace
from crew.types import Industry

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


def simulated_workspace(root: Path, industry: Industry, customers: int = 400) -> Workspace:
    """Simulate `customers` x 12 months of `industry` and import it into a new workspace."""
    files = root / "files"
    simulate(
        SimulationConfig(
            customers=customers,
            months=12,
            industry=industry,
            seed=11,
            start=date(2024, 1, 1),
            file_format="parquet",
        ),
        out_dir=files,
    )
    workspace = init_workspace(root / "ws")
    with workspace.connect() as conn:
        import_sources(conn, Mapping(sources=[SourceSpec(path=str(files))]), files)
    return workspace


@pytest.fixture(scope="session")
def sim_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """400 e-commerce customers over 2024 (read-only for tests: copy before writing)."""
    return simulated_workspace(tmp_path_factory.mktemp("sim"), Industry.ECOMMERCE)


@pytest.fixture(scope="session")
def finance_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """400 finance customers over 2024 (deposits, withdrawals, transfers)."""
    return simulated_workspace(tmp_path_factory.mktemp("fin"), Industry.FINANCE)


SCORED_AT = datetime(2024, 12, 1, tzinfo=UTC)
"""When `scored_workspace` scored everyone."""


@pytest.fixture(scope="session")
def scored_workspace(
    sim_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> Workspace:
    """`sim_workspace` with a churn model trained and everyone scored at SCORED_AT
    (read-only for tests: copy before writing)."""
    root = tmp_path_factory.mktemp("scored") / "ws"
    shutil.copytree(sim_workspace.root, root)
    runner = CliRunner()
    for args in (
        ["train", "--as-of", "2025-01-01", "--horizon", "60d", "--snapshots", "5"],
        ["score", "--as-of", SCORED_AT.date().isoformat()],
    ):
        result = runner.invoke(app, ["-w", str(root), *args])
        assert result.exit_code == 0, result.stderr
    return open_workspace(root)
