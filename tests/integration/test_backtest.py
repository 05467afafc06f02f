"""`crew backtest` and `crew report` end to end on a small simulated workspace."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.evaluation.report import SECTIONS, find_chromium
from crew.store import Workspace
from crew.store.operational import OperationalStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backtested(sim_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the simulated workspace with a model trained before the backtest starts."""
    ws = tmp_path_factory.mktemp("backtest") / "ws"
    shutil.copytree(sim_workspace.root, ws)
    runner = CliRunner()
    trained = runner.invoke(
        app, ["-w", str(ws), "train", "--as-of", "2024-07-01", "--horizon", "30d",
              "--snapshots", "5", "--json"],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(
        app, ["-w", str(ws), "backtest", "--from", "2024-07-07", "--to", "2024-11-24",
              "--every", "14d", "--horizon", "60d", "--report", str(ws / "report.html")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return ws


def _summary(ws: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ws / "report.json").read_text(encoding="utf-8"))
    return data


def _lookup(summary: dict[str, Any], key: str) -> object:
    value: object = summary
    for part in key.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]  # type: ignore[index]
    return value


def test_report_has_every_section_and_its_figures_equal_the_json(backtested: Path) -> None:
    html = (backtested / "report.html").read_text(encoding="utf-8")
    summary = _summary(backtested)
    for section in SECTIONS:
        if section == "episodes" and not summary["episodes"]:
            continue
        assert f'data-section="{section}"' in html, section
    tagged = re.findall(r'data-key="([^"]+)" data-value="([^"]*)"', html)
    assert len(tagged) > 40
    for key, raw in tagged:
        expected = _lookup(summary, key)
        if raw == "":
            assert expected is None, key
        else:
            assert json.loads(raw.replace("&#34;", '"')) == pytest.approx(expected), key
    # The workspace's own summary is the same numbers.
    stored = json.loads((backtested / "reports" / "backtest.json").read_text(encoding="utf-8"))
    assert stored["timeliness"] == summary["timeliness"]


def test_backtest_is_honest_about_its_scores_and_keeps_nothing(backtested: Path) -> None:
    summary = _summary(backtested)
    meta = summary["meta"]
    assert meta["runs"] == 11 and meta["judged_runs"] == 9  # the last runs lack a horizon
    assert not meta["model_saw_the_period"]
    names = [s["score"] for s in summary["scores"]]
    assert names[0] == "churn_probability" and "recency_days" in names and "rule_churn" in names
    baseline = next(s for s in summary["scores"] if s["score"] == "recency_days")
    for s in summary["scores"]:
        assert 0.0 <= s["roc_auc"] <= 1.0 and s["positives"] > 0
        if s is not baseline:
            assert s["auc_vs_baseline"] == pytest.approx(s["roc_auc"] - baseline["roc_auc"])
    assert summary["calibration"]["bins"] and summary["calibration"]["ece"] >= 0
    assert {"churn"} <= set(summary["discrimination"])
    assert summary["drift"]["indicators"] and summary["cohorts"]
    assert summary["effect"]["source"] == "replay"  # `crew run` was never run here
    assert summary["effect"]["control_share"] == 0.1  # crew.toml's default
    # A backtest replays on a scratch store: the workspace has no warning afterwards.
    with OperationalStore.open(f"sqlite:///{backtested / 'operational.sqlite'}") as store:
        assert store.warnings_frame().empty


def test_report_renders_in_chromium_without_errors_or_remote_assets(
    backtested: Path, tmp_path: Path
) -> None:
    try:
        browser = find_chromium()
    except Exception:
        pytest.skip("Chromium is not installed ('make browser' installs it)")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    remote: list[str] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser, headless=True)
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: remote.append(r.url) if r.url.startswith("http") else None)
        page.goto((backtested / "report.html").as_uri())
        charts = page.locator("section svg").count()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        chromium.close()
    assert errors == [] and remote == []
    assert charts >= 10
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_report_command_rerenders_and_refuses_a_bad_summary(
    backtested: Path, tmp_path: Path, cli: CliRunner
) -> None:
    out = tmp_path / "again.html"
    result = cli.invoke(app, ["-w", str(backtested), "report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").count("<svg") >= 10
    assert json.loads(out.with_suffix(".json").read_text()) == _summary(backtested)
    if shutil.which("chromium"):
        printed = cli.invoke(app, ["-w", str(backtested), "report", "--out", str(out), "--pdf"])
        assert printed.exit_code == 0, printed.output
        pdf = out.with_suffix(".pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 100_000
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    refused = cli.invoke(app, ["report", "--summary", str(bad), "--out", str(out)])
    assert refused.exit_code == 1
    assert "bad.json is not a backtest summary" in refused.stderr
    assert "Traceback" not in refused.output


def test_the_report_counts_the_cases_the_team_worked(
    backtested: Path, tmp_path: Path, cli: CliRunner
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(backtested, ws)
    ran = cli.invoke(app, ["-w", str(ws), "run", "--as-of", "2024-09-01", "--json"])
    assert ran.exit_code == 0, ran.output
    opened = json.loads(ran.stdout)["runs"][0]["counts"]["cases_opened"]
    result = cli.invoke(
        app, ["-w", str(ws), "backtest", "--from", "2024-07-07", "--to", "2024-08-04",
              "--every", "14d", "--horizon", "60d", "--report", str(ws / "again.html")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cases = _summary_at(ws / "again.json")["effect"]["cases"]
    assert cases["treated"]["cases"] + cases["control"]["cases"] == opened > 0
    assert cases["treated"]["acted"] == 0  # nobody has worked them yet
    assert "Cases worked by the response team" in (ws / "again.html").read_text("utf-8")


def _summary_at(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
