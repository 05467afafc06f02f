"""`crew train | models | evaluate | score | explain` end to end on a simulated workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.store import Workspace


@pytest.fixture(scope="module")
def trained(sim_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("models") / "ws"
    shutil.copytree(sim_workspace.root, ws)
    result = CliRunner().invoke(
        app,
        [
            "-w",
            str(ws),
            "train",
            "--as-of",
            "2025-01-01",
            "--horizon",
            "60d",
            "--snapshots",
            "5",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    return ws


def test_train_registers_a_version_with_its_figures(trained: Path, cli: CliRunner) -> None:
    listed = json.loads(cli.invoke(app, ["-w", str(trained), "models", "--json"]).stdout)
    (model,) = listed["models"]
    assert model["version"] == 1 and model["horizon_days"] == 60
    assert model["chosen"] in ("lightgbm", "logistic", "blend")
    figures = json.loads(cli.invoke(app, ["-w", str(trained), "evaluate", "--json"]).stdout)
    for key in ("roc_auc", "pr_auc", "ks", "brier", "top_decile_lift"):
        assert 0 <= figures["test"][key] <= (10 if key == "top_decile_lift" else 1)
    assert (trained / "models" / "model-v1.pkl").exists()


def test_score_writes_the_output_contract(trained: Path, cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    result = cli.invoke(
        app, ["-w", str(trained), "score", "--as-of", "2024-12-01", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    frame = pd.read_csv(out)
    assert len(frame) == summary["customers"] > 300
    for column in (
        "customer_id",
        "as_of",
        "churn_probability",
        "risk_index",
        "level",
        "colour",
        "dimension_scores",
        "reasons",
        "clv",
        "clv_decline",
        "state",
    ):
        assert column in frame.columns
    assert frame["churn_probability"].between(0, 1).all()
    assert frame["risk_index"].dropna().between(0, 100).all()
    assert set(frame["level"]) <= {"none", "low", "medium", "high"}
    warned = frame[frame["level"] != "none"]
    assert len(warned) > 0
    reasons = json.loads(warned.iloc[0]["reasons"])
    assert 1 <= len(reasons) <= 5 and reasons[0]["en"] and reasons[0]["zh"]
    dims = json.loads(frame.iloc[0]["dimension_scores"])
    assert set(dims) >= {"value", "trust", "complaints"}


def test_explain_shows_memberships_reasons_and_what_moved(trained: Path, cli: CliRunner) -> None:
    for day in ("2024-11-01", "2024-12-01"):
        assert (
            cli.invoke(app, ["-w", str(trained), "score", "--as-of", day, "--json"]).exit_code == 0
        )
    scores = json.loads(
        cli.invoke(app, ["-w", str(trained), "score", "--as-of", "2024-12-01", "--json"]).stdout
    )
    assert scores["customers"] > 0
    import duckdb

    with duckdb.connect(str(trained / "crew.duckdb"), read_only=True) as conn:
        (customer,) = conn.execute(
            "SELECT customer_id FROM scores WHERE level <> 'none' ORDER BY risk_index DESC LIMIT 1"
        ).fetchone() or (None,)
    result = cli.invoke(app, ["-w", str(trained), "explain", str(customer), "--json"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    moved = payload["since_previous"]
    assert moved["previous_risk_index"] is not None
    assert all(abs(m["index_points"]) > 0 for m in moved["indicators"])
    points = [abs(m["index_points"]) for m in moved["indicators"]]
    assert points == sorted(points, reverse=True)
    assert {"low", "medium", "high"} == set(payload["indicators"][0]["membership"])
    assert payload["reasons"]


def test_a_changed_catalog_is_refused(trained: Path, cli: CliRunner, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(trained, ws)
    (ws / "catalog").mkdir(exist_ok=True)
    (ws / "catalog" / "indicators.yaml").write_text(
        "indicators:\n  - id: txn_count_30d\n    dimension: value\n"
        "    label: {en: Purchases over 50, zh: 大额购买}\n    description: Over 50.\n"
        "    direction: lower_is_riskier\n    unit: count\n    source: purchases\n"
        "    aggregate: count\n    where: amount > 50\n    window: 30d\n"
    )
    result = cli.invoke(app, ["-w", str(ws), "score", "--as-of", "2024-12-01"])
    assert result.exit_code == 7
    assert "Model v1 cannot score with this catalog" in result.stderr
    assert "hint: Retrain with 'crew train'" in result.stderr


def test_explain_unknown_customer_is_a_clear_error(trained: Path, cli: CliRunner) -> None:
    result = cli.invoke(app, ["-w", str(trained), "explain", "nobody"])
    assert result.exit_code == 1
    assert "error: No score for customer 'nobody'." in result.stderr


def test_a_snapshot_data_set_runs_end_to_end_with_only_a_mapping(
    cli: CliRunner, tmp_path: Path
) -> None:
    import numpy as np

    rng = np.random.default_rng(5)
    n = 1500
    tenure = rng.integers(0, 72, n)
    monthly = rng.uniform(20, 110, n).round(2)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.25, 0.2])
    logit = -1.0 - 0.04 * tenure + 0.015 * monthly + np.where(contract == "Month-to-month", 1.2, 0)
    churn = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    pd.DataFrame(
        {
            "customerID": [f"K{i:05d}" for i in range(n)],
            "tenure": tenure,
            "MonthlyCharges": monthly,
            "Contract": contract,
            "Churn": churn,
        }
    ).to_csv(tmp_path / "telco.csv", index=False)
    (tmp_path / "map.yaml").write_text(
        "sources:\n  - path: telco.csv\n    shape: snapshot\n    snapshot_date: 2024-06-30\n"
        "    columns: {customer_id: customerID, segment: Contract}\n"
        "    label: {column: Churn}\n"
    )
    ws = tmp_path / "ws"
    assert cli.invoke(app, ["init", str(ws)]).exit_code == 0
    assert (
        cli.invoke(
            app, ["-w", str(ws), "import", "--mapping", str(tmp_path / "map.yaml")]
        ).exit_code
        == 0
    )
    result = cli.invoke(app, ["-w", str(ws), "train", "--as-of", "2024-06-30", "--json"])
    assert result.exit_code == 0, result.stderr
    trained = json.loads(result.stdout)
    assert trained["training"]["snapshot_data_set"] is True
    assert "stratified folds" in trained["churn"]["validation"]
    assert trained["churn"]["test"]["roc_auc"] > 0.7
    result = cli.invoke(app, ["-w", str(ws), "score", "--as-of", "2024-06-30", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["customers"] == n


@pytest.mark.slow
def test_train_with_the_lstm_compares_it_on_the_same_test_snapshot(
    trained: Path, cli: CliRunner, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(trained, ws)
    result = cli.invoke(
        app,
        [
            "-w",
            str(ws),
            "train",
            "--as-of",
            "2025-01-01",
            "--horizon",
            "60d",
            "--snapshots",
            "5",
            "--model",
            "lstm",
            "--months",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    comparison = payload["comparison"]
    assert comparison["models"][0] == "lstm"
    assert comparison["customers"] == payload["churn"]["test"]["n"]
    assert 0 <= payload["lstm"]["test"]["roc_auc"] <= 1
    shown = cli.invoke(app, ["-w", str(ws), "evaluate", "--json"])
    assert json.loads(shown.stdout)["comparison"] == comparison


def test_scoring_without_a_model_says_to_train(cli: CliRunner, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli.invoke(app, ["init", str(ws)])
    result = cli.invoke(app, ["-w", str(ws), "score", "--as-of", "2024-01-01"])
    assert result.exit_code == 1
    assert "error: The workspace has no trained model." in result.stderr
    assert "hint: Run 'crew train --as-of DATE' first" in result.stderr
    result = cli.invoke(app, ["-w", str(ws), "evaluate", "--model", "4"])
    assert "error: The workspace has no model version 4." in result.stderr


def test_a_bad_output_path_is_refused_before_scoring(trained: Path, cli: CliRunner) -> None:
    import duckdb

    result = cli.invoke(
        app, ["-w", str(trained), "score", "--as-of", "2024-10-01", "--out", "scores.txt"]
    )
    assert result.exit_code == 1
    assert "error: Cannot write scores.txt: unknown type." in result.stderr
    with duckdb.connect(str(trained / "crew.duckdb"), read_only=True) as conn:
        rows = conn.execute("SELECT count(*) FROM scores WHERE as_of = '2024-10-01'").fetchone()
    assert rows == (0,)
