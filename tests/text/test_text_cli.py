"""`crew text analyze` and `crew text reviews` end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.cli import text as text_cli
from crew.store import Workspace
from crew.text.analyze import TextAnalyzer


def _seed(workspace: Workspace) -> None:
    with workspace.connect() as conn:
        conn.execute("INSERT INTO customers (customer_id, signup_date) VALUES ('c1', '2024-01-01')")
        conn.execute(
            "INSERT INTO interactions (interaction_id, customer_id, ts, kind, text) VALUES "
            "('i1', 'c1', '2025-06-01 10:00+00', 'complaint', '我要销户'),"
            "('i2', 'c1', '2025-06-02 10:00+00', 'review', 'Great, thanks'),"
            "('i3', 'c1', '2025-06-03 10:00+00', 'survey', NULL)"
        )


def test_analyze_json_then_nothing_new(
    cli: CliRunner, workspace: Workspace, quick_default: TextAnalyzer
) -> None:
    _seed(workspace)
    args = ["--workspace", str(workspace.root), "text", "analyze", "--json"]
    first = cli.invoke(app, args)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert (summary["analysed"], summary["new"], summary["topic_model"]) == (2, 2, "built-in model")
    assert summary["texts_per_second"] > 0
    again = json.loads(cli.invoke(app, args).stdout)
    assert (again["analysed"], again["unchanged"]) == (0, 2)


def test_analyze_as_of_and_plain_output(
    cli: CliRunner, workspace: Workspace, quick_default: TextAnalyzer
) -> None:
    _seed(workspace)
    result = cli.invoke(
        app, ["-w", str(workspace.root), "text", "analyze", "--as-of", "2025-06-02"]
    )
    assert result.exit_code == 0, result.output
    assert "Analysed 1 texts (1 new" in result.stdout
    assert "texts/s" in result.stdout


def test_missing_extra_says_how_to_install(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_cli, "extra_installed", lambda: False)
    result = cli.invoke(app, ["-w", str(workspace.root), "text", "analyze"])
    assert result.exit_code == 6
    assert "error: Text analysis needs the 'text' extra" in result.stderr
    assert "hint: Install the extra: pip install 'crew[text]'" in result.stderr


def test_reviews_json(cli: CliRunner, workspace: Workspace) -> None:
    with workspace.connect() as conn:
        conn.execute(
            "INSERT INTO customers (customer_id, signup_date) "
            "SELECT 'r' || i, DATE '2025-05-20' FROM range(6) t(i)"
        )
        conn.execute(
            "INSERT INTO interactions (interaction_id, customer_id, ts, kind, rating, text) "
            "SELECT 'v' || i, 'r' || i, "
            "TIMESTAMPTZ '2025-06-01 00:00+00' + i * INTERVAL 5 HOUR, 'review', 5, "
            "'Amazing product!!! Best purchase ever, highly recommend' || repeat('!', i) "
            "FROM range(6) t(i)"
        )
    result = cli.invoke(
        app, ["-w", str(workspace.root), "text", "reviews", "--as-of", "2025-07-01", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["reviews"] == 6
    assert len(payload["rings"]) == 1
    assert sorted(payload["rings"][0]["accounts"]) == [f"r{i}" for i in range(6)]
    assert payload["rings"][0]["reason"].startswith("6 accounts posted near-identical")
