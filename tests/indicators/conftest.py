"""A small simulated workspace shared by the indicator tests (built once per session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crew.ingest import Mapping, SourceSpec, import_sources
from crew.simulator import SimulationConfig, simulate
from crew.store import Workspace, init_workspace
from crew.types import Industry


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
