"""`crew indicators` and `crew weights entropy` from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from crew.cli import app
from crew.store import Workspace


def _ws(sim_workspace: Workspace, tmp_path: Path) -> Path:
    shutil.copytree(sim_workspace.root, tmp_path / "ws")
    return tmp_path / "ws"


def test_list_shows_the_tree_with_both_languages(cli: CliRunner) -> None:
    result = cli.invoke(app, ["indicators", "list", "--profile", "finance"])
    assert result.exit_code == 0, result.stderr
    assert "Compliance & data" in result.stdout and "法律合规维度" in result.stdout
    assert "rapid_in_out_count_30d" in result.stdout and "review_burst" not in result.stdout
    listed = json.loads(cli.invoke(app, ["indicators", "list", "--json"]).stdout)
    assert len(listed["indicators"]) == 48


def test_compute_stores_writes_and_feeds_entropy_weights(
    cli: CliRunner, sim_workspace: Workspace, tmp_path: Path
) -> None:
    ws = _ws(sim_workspace, tmp_path)
    out = tmp_path / "values.parquet"
    result = cli.invoke(
        app,
        [
            "-w",
            str(ws),
            "indicators",
            "compute",
            "--as-of",
            "2024-10-01",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["indicators"] == 48 and summary["customers"] > 300
    assert pq.read_table(out).num_rows == summary["customers"]

    result = cli.invoke(
        app, ["-w", str(ws), "weights", "entropy", "--as-of", "2024-10-01", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    weights = json.loads(result.stdout)["weights"]
    assert sum(weights["indicators"].values()) == __import__("pytest").approx(1.0)
    assert sum(weights["dimensions"].values()) == __import__("pytest").approx(1.0)
    assert "txn_count_prior_90d" not in weights["indicators"]  # neutral baselines are left out


def test_entropy_before_compute_says_what_to_run(
    cli: CliRunner, sim_workspace: Workspace, tmp_path: Path
) -> None:
    ws = _ws(sim_workspace, tmp_path)
    result = cli.invoke(app, ["-w", str(ws), "weights", "entropy", "--as-of", "2023-01-01"])
    assert result.exit_code == 1
    assert "error: No indicators computed at 2023-01-01 00:00 UTC" in result.stderr
    assert "hint: Run 'crew indicators compute --as-of 2023-01-01 --profile all'" in result.stderr


def test_bad_catalog_is_a_config_error_without_traceback(cli: CliRunner, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli.invoke(app, ["init", str(ws)])
    (ws / "catalog").mkdir()
    (ws / "catalog" / "indicators.yaml").write_text("disable: [nope]\n")
    result = cli.invoke(app, ["-w", str(ws), "indicators", "compute", "--as-of", "2024-01-01"])
    assert result.exit_code == 2
    assert "disable: unknown indicator 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_docs_command_prints_the_reference(cli: CliRunner) -> None:
    result = cli.invoke(app, ["indicators", "docs"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# Indicator catalog")
