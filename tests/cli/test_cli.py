"""The `crew` command line, driven in-process: output, JSON, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.factories import CUSTOMERS, TRANSACTIONS, write_csv
from typer.testing import CliRunner

from crew.cli import app

DATA = Path(__file__).parents[1] / "data"


def _crew(cli: CliRunner, ws: Path, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, ["--workspace", str(ws), *args])
    return result.exit_code, result.stdout, result.stderr


def test_init_then_status_reports_empty_tables(cli: CliRunner, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    code, out, _ = _crew(cli, ws, "init", "--json")
    assert code == 0 and json.loads(out)["workspace"] == str(ws.resolve())
    assert (ws / "crew.toml").exists() and (ws / "crew.duckdb").exists()
    code, out, _ = _crew(cli, ws, "status", "--json")
    status = json.loads(out)
    assert code == 0
    assert {t["table"]: t["rows"] for t in status["tables"]} == {
        "customers": 0,
        "transactions": 0,
        "interactions": 0,
        "events": 0,
        "outcomes": 0,
    }


def test_import_prints_what_it_loaded_and_status_counts_it(cli: CliRunner, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _crew(cli, ws, "init")
    write_csv(tmp_path / "in" / "customers.csv", CUSTOMERS)
    write_csv(tmp_path / "in" / "transactions.csv", TRANSACTIONS)
    code, out, _ = _crew(cli, ws, "import", str(tmp_path / "in"), "--json")
    assert code == 0, out
    loaded = {r["table"]: r["rows"] for r in json.loads(out)["imported"]}
    assert loaded == {"customers": 3, "transactions": 4}
    code, out, _ = _crew(cli, ws, "status")
    assert code == 0 and "transactions" in out and "2024-03-01" in out


def test_import_with_a_mapping_file(cli: CliRunner, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _crew(cli, ws, "init")
    code, out, _ = _crew(
        cli, ws, "import", "--mapping", str(DATA / "telco_snapshot.yaml"), "--json"
    )
    assert code == 0, out
    (result,) = json.loads(out)["imported"]
    assert result["shape"] == "snapshot" and result["outcomes"] == 4


def test_snapshot_options_without_a_mapping_file(cli: CliRunner, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _crew(cli, ws, "init")
    code, out, err = _crew(
        cli,
        ws,
        "import",
        str(DATA / "telco_snapshot.csv"),
        "--shape",
        "snapshot",
        "--label",
        "Churn",
        "--json",
    )
    assert code == 2
    assert json.loads(out)["error"]["code"] == "mapping_error"
    assert "error: Import options do not fit together: a snapshot needs 'snapshot_date'" in err


def test_bad_rows_exit_non_zero_with_one_line_per_problem_and_no_traceback(
    cli: CliRunner, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    _crew(cli, ws, "init")
    write_csv(tmp_path / "in" / "customers.csv", CUSTOMERS)
    rows = [dict(r) for r in TRANSACTIONS]
    rows[2]["amount"] = "lots"
    path = write_csv(tmp_path / "in" / "transactions.csv", rows)
    code, _, err = _crew(cli, ws, "import", str(tmp_path / "in"))
    assert code == 5
    lines = err.strip().splitlines()
    assert lines[0] == f"error: {path}: 1 problem found; nothing was imported."
    assert lines[1].strip() == (
        f"{path}:4:amount: 'lots' is not a number — fix the value, or translate it under "
        "columns.amount.values"
    )
    assert lines[-1] == "hint: Fix the rows or the mapping file and import again."
    assert "Traceback" not in err
    code, out, _ = _crew(cli, ws, "status", "--json")
    assert all(t["rows"] == 0 for t in json.loads(out)["tables"])


def test_commands_outside_a_workspace_say_how_to_make_one(cli: CliRunner, tmp_path: Path) -> None:
    code, _, err = _crew(cli, tmp_path / "nowhere", "status")
    assert code == 3
    assert "is not a CREW workspace" in err and "hint: Run 'crew init" in err


def test_bad_mapping_file_names_file_and_field(cli: CliRunner, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _crew(cli, ws, "init")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "sources:\n  - path: x.csv\n    shape: snapshot\n    snapshot_date: 2024-01-01\n"
    )
    code, _, err = _crew(cli, ws, "import", "--mapping", str(mapping))
    assert code == 2
    assert f"error: {mapping}: sources[0]: a snapshot needs 'label'" in err


def test_bad_settings_file_is_a_config_error(cli: CliRunner, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _crew(cli, ws, "init")
    (ws / "crew.toml").write_text("[api]\nport = 99999999\n")
    code, _, err = _crew(cli, ws, "status")
    assert code == 2
    assert (
        f"error: {ws.resolve() / 'crew.toml'}: api.port: Input should be less than or equal" in err
    )


def test_a_control_group_above_half_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _crew(cli, ws, "init")
    assert "control_share = 0.1" in (ws / "crew.toml").read_text()
    (ws / "crew.toml").write_text("[response]\ncontrol_share = 0.7\n")
    code, _, err = _crew(cli, ws, "status")
    assert code == 2
    assert "crew.toml: response.control_share: Input should be less than or equal to 0.5" in err


def test_simulate_into_a_new_workspace_imports_and_keeps_ground_truth_apart(
    cli: CliRunner, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    code, out, err = _crew(
        cli,
        ws,
        "simulate",
        "--customers",
        "300",
        "--months",
        "6",
        "--seed",
        "3",
        "--import",
        "--json",
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["rows"]["customers"] == 300
    assert (ws / "ground_truth" / "episodes.parquet").exists()
    code, out, _ = _crew(cli, ws, "status", "--json")
    counts = {t["table"]: t["rows"] for t in json.loads(out)["tables"]}
    assert counts["customers"] == 300
    assert counts["transactions"] == payload["rows"]["transactions"]
    assert counts["interactions"] == payload["rows"]["interactions"]
    tables = {
        r[0]
        for r in __import__("duckdb")
        .connect(str(ws / "crew.duckdb"))
        .execute("SELECT table_name FROM information_schema.tables")
        .fetchall()
    }
    assert "episodes" not in tables


def test_help_lists_the_commands(cli: CliRunner) -> None:
    result = cli.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "import", "simulate", "status"):
        assert command in result.stdout
