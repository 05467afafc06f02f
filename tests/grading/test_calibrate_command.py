"""`crew thresholds calibrate` sets the churn activity signals' limits from a false-alarm budget."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.grading.thresholds import load_thresholds
from crew.store import Workspace

pytestmark = pytest.mark.slow


def test_calibrate_covers_the_fade_and_writes_rules_the_run_accepts(
    sim_workspace: Workspace, tmp_path: Path, cli: CliRunner
) -> None:
    root = shutil.copytree(sim_workspace.root, tmp_path / "ws")
    out = tmp_path / "cal.yaml"
    result = cli.invoke(
        app,
        ["--workspace", str(root), "thresholds", "calibrate", "--from", "2024-06-02",
         "--to", "2024-09-01", "--every", "14d", "--years", "1", "--out", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    found = {s["signal"]: s for s in payload["signals"]}
    fade = found["activity_fade"]
    # Seven runs of the judged customers without an outcome; one false warning per customer
    # per year of fortnights is a rate of 1/26.
    assert fade["samples"] > 1000
    assert fade["achieved_rate"] <= 1 / 26
    assert fade["suggested_low_at"] > 0
    rule = load_thresholds(None, None, path=out)["activity_fade"]
    factor = fade["suggested_low_at"] / 1.3  # the built-in LOW limit, the others scaled alike
    assert rule.low_at == pytest.approx(fade["suggested_low_at"], rel=1e-3)
    assert rule.medium_at == pytest.approx(3.0 * factor, rel=1e-3)
    assert rule.high_at == pytest.approx(5.0 * factor, rel=1e-3)
    # A rule starting at MEDIUM (built in: medium 10, high 20) keeps starting there.
    staff = load_thresholds(None, None, path=out)["staff_access_anomaly"]
    suggested = found["staff_access_anomaly"]["suggested_low_at"]
    assert staff.low_at is None
    assert staff.medium_at == pytest.approx(suggested, rel=1e-3)
    assert staff.high_at == pytest.approx(2 * suggested, rel=1e-3)
    run = cli.invoke(
        app,
        ["--workspace", str(root), "run", "--as-of", "2024-10-06", "--dry-run",
         "--config", str(out), "--json"],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
