"""`crew alerts list | show | ack | resolve | assign` on warnings written by `apply_run`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.store import Workspace
from crew.store.operational import OperationalStore, RunRecord, open_operational_store

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


@pytest.fixture
def ws(workspace: Workspace) -> Path:
    """A workspace with three active warnings and one resolved one."""
    opened = pd.DataFrame(
        [
            {
                "customer_id": "C1",
                "risk_type": "churn",
                "level": "high",
                "score": 0.91,
                "first_seen": DAY1,
                "last_seen": DAY2,
                "signals": ["recency_days"],
                "evidence": {"recency_days": 75, "spend_30d": 0.0},
                "reasons": [{"sentence": "No purchase for 75 days.", "zh": "75天未购买"}],
            },
            {
                "customer_id": "C2",
                "risk_type": "fraud",
                "level": "medium",
                "score": 0.55,
                "first_seen": DAY1,
                "evidence": {"chargebacks_30d": 2},
            },
            {
                "segment": "north",
                "risk_type": "complaint_surge",
                "level": "low",
                "score": 0.3,
                "first_seen": DAY1,
            },
            {
                "customer_id": "C3",
                "risk_type": "churn",
                "level": "low",
                "score": 0.2,
                "first_seen": DAY1,
            },
        ]
    )
    closed = pd.DataFrame(
        [{"id": "churn-C3-20240501", "resolved_at": DAY2, "cooldown_until": DAY2}]
    )
    run = RunRecord(
        run_id="r1",
        as_of=DAY1,
        started_at=DAY1,
        finished_at=DAY1,
        dry_run=False,
        config_fingerprint="x",
    )
    with open_operational_store(workspace, None) as store:
        store.apply_run(run, opened, pd.DataFrame(), pd.DataFrame())
        second = RunRecord(**{**run.__dict__, "run_id": "r2", "as_of": DAY2})
        store.apply_run(second, pd.DataFrame(), pd.DataFrame(), closed)
    return workspace.root


def invoke(cli: CliRunner, ws: Path, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, ["--workspace", str(ws), "alerts", *args])
    return result.exit_code, result.stdout, result.stderr


def test_list_shows_the_active_warnings_newest_first(
    cli: CliRunner, ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, stdout, _ = invoke(cli, ws, "list", "--json")
    assert code == 0
    ids = [w["id"] for w in json.loads(stdout)["warnings"]]
    assert ids == ["churn-C1-20240501", "fraud-C2-20240501", "complaint_surge-seg.north-20240501"]
    monkeypatch.setenv("COLUMNS", "200")
    code, stdout, _ = invoke(cli, ws, "list")
    assert code == 0
    assert "No purchase for 75 days." in stdout  # top reason
    assert "chargebacks_30d=2" in stdout  # no reasons: the evidence instead
    assert " seg.north " in stdout and " complaint_surge " in stdout
    assert "C3" not in stdout  # resolved


def test_a_narrow_terminal_keeps_whole_ids(
    cli: CliRunner, ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, stdout, _ = invoke(cli, ws, "list")
    assert code == 0 and max(len(line) for line in stdout.splitlines()) <= 80
    for id in ("churn-C1-20240501", "fraud-C2-20240501", "complaint_surge-seg.north-20240501"):
        assert id in stdout
    assert "first seen" not in stdout


def test_list_filters(cli: CliRunner, ws: Path) -> None:
    def ids(*args: str) -> list[str]:
        code, stdout, stderr = invoke(cli, ws, "list", "--json", *args)
        assert code == 0, stderr
        return [w["id"] for w in json.loads(stdout)["warnings"]]

    assert ids("--level", "high") == ["churn-C1-20240501"]
    assert ids("--level", "high", "--level", "medium") == ["churn-C1-20240501", "fraud-C2-20240501"]
    assert ids("--type", "fraud") == ["fraud-C2-20240501"]
    assert ids("--state", "resolved") == ["churn-C3-20240501"]
    assert len(ids("--state", "all")) == 4
    assert ids("--customer", "C3", "--state", "all") == ["churn-C3-20240501"]
    assert ids("--limit", "1") == ["churn-C1-20240501"]


def test_an_empty_list_says_so(cli: CliRunner, ws: Path) -> None:
    code, stdout, _ = invoke(cli, ws, "list", "--customer", "nobody")
    assert code == 0 and stdout.strip() == "No active warnings match."


def test_show_prints_everything(cli: CliRunner, ws: Path) -> None:
    code, stdout, _ = invoke(cli, ws, "show", "churn-C1-20240501", "--json")
    assert code == 0
    shown = json.loads(stdout)
    assert shown["evidence"] == {"recency_days": 75, "spend_30d": 0.0}
    assert shown["level"] == "high" and shown["subject"] == "C1"
    assert shown["first_seen"] == "2024-05-01T00:00:00+00:00"
    assert [h["field"] for h in shown["history"]] == ["created"]
    code, stdout, _ = invoke(cli, ws, "show", "churn-C1-20240501")
    assert code == 0
    for text in ('"recency_days": 75', "75天未购买", "recency_days", "created", "crew run"):
        assert text in stdout


def test_text_that_looks_like_markup_is_printed_as_it_is(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = pd.DataFrame(
        [
            {
                "customer_id": "[red]C9",
                "risk_type": "churn",
                "level": "low",
                "score": 0.2,
                "first_seen": DAY1,
                "reasons": [{"sentence": "Spend fell [bold]40%[/]."}],
            }
        ]
    )
    run = RunRecord("r1", DAY1, DAY1, DAY1, dry_run=False, config_fingerprint="x")
    with open_operational_store(workspace, None) as store:
        store.apply_run(run, opened, pd.DataFrame(), pd.DataFrame())
    monkeypatch.setenv("COLUMNS", "200")
    code, stdout, _ = invoke(cli, workspace.root, "list")
    assert code == 0 and "Spend fell [bold]40%[/]." in stdout and "[red]C9" in stdout
    code, stdout, _ = invoke(cli, workspace.root, "show", "churn-[red]C9-20240501")
    assert code == 0 and "warning for [red]C9" in stdout


def test_ack_resolve_and_assign_are_recorded_with_the_user(
    cli: CliRunner, ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "alice")
    code, stdout, _ = invoke(cli, ws, "ack", "churn-C1-20240501")
    assert code == 0 and "open → acknowledged" in stdout
    code, stdout, _ = invoke(cli, ws, "assign", "churn-C1-20240501", "bob")
    assert code == 0 and "assigned to bob" in stdout
    code, stdout, _ = invoke(
        cli, ws, "resolve", "fraud-C2-20240501", "--false-positive", "--note", "test card"
    )
    assert code == 0 and "open → false_positive" in stdout
    monkeypatch.delenv("USER")
    code, _, _ = invoke(cli, ws, "resolve", "churn-C1-20240501")
    assert code == 0
    history = json.loads(invoke(cli, ws, "show", "churn-C1-20240501", "--json")[1])["history"]
    assert [(h["actor"], h["field"], h["new_value"]) for h in history] == [
        ("crew run", "created", "open"),
        ("alice", "state", "acknowledged"),
        ("alice", "assignee", "bob"),
        ("cli", "state", "resolved"),
    ]
    fraud = json.loads(invoke(cli, ws, "show", "fraud-C2-20240501", "--json")[1])
    assert fraud["state"] == "false_positive" and fraud["history"][-1]["note"] == "test card"
    # The same changes are in the tamper-evident audit log, with who made them.
    with OperationalStore.open(f"sqlite:///{ws / 'operational.sqlite'}") as store:
        audit = store.audit.records(subject="churn-C1-20240501")
        assert store.audit.verify().ok
    assert [(r.actor, r.action) for r in reversed(audit)] == [
        ("system", "warning.open"),  # by the run that opened it
        ("alice", "warning.state"), ("alice", "warning.assign"), ("cli", "warning.state"),
    ]  # fmt: skip


def test_start_puts_an_acknowledged_warning_in_progress_and_resolve_cools_down(
    cli: CliRunner, ws: Path
) -> None:
    assert invoke(cli, ws, "ack", "churn-C1-20240501")[0] == 0
    code, stdout, _ = invoke(cli, ws, "start", "churn-C1-20240501", "--note", "calling")
    assert code == 0 and "acknowledged → in_progress" in stdout
    before = datetime.now(UTC)
    assert invoke(cli, ws, "resolve", "churn-C1-20240501", "--cooldown", "14d")[0] == 0
    shown = json.loads(invoke(cli, ws, "show", "churn-C1-20240501", "--json")[1])
    until = datetime.fromisoformat(shown["cooldown_until"])
    assert timedelta(days=14) <= until - before < timedelta(days=14, minutes=5)
    code, _, err = invoke(cli, ws, "resolve", "fraud-C2-20240501", "--cooldown", "soon")
    assert code == 1 and "--cooldown 'soon' is not a length like 90d" in err


def test_an_unknown_id_is_an_error_with_a_hint(cli: CliRunner, ws: Path) -> None:
    for args in (("show", "nope"), ("ack", "nope"), ("resolve", "nope"), ("assign", "nope", "x")):
        code, stdout, stderr = invoke(cli, ws, *args)
        assert code == 1, args
        assert "error: No warning 'nope'." in stderr
        assert "hint: 'crew alerts list' shows the ids." in stderr
        assert "Traceback" not in stderr + stdout


def test_an_illegal_transition_is_an_error_with_the_way_on(cli: CliRunner, ws: Path) -> None:
    code, _, stderr = invoke(cli, ws, "ack", "churn-C3-20240501")
    assert code == 1
    assert "error: Warning 'churn-C3-20240501' is resolved; it cannot become acknowledged." in (
        " ".join(stderr.split())
    )
    assert "hint: A closed warning stays closed" in stderr
    invoke(cli, ws, "ack", "churn-C1-20240501")
    code, _, stderr = invoke(cli, ws, "ack", "churn-C1-20240501")
    assert code == 1 and "is already acknowledged" in stderr
    assert "hint: From acknowledged it can become: in_progress, resolved, false_positive." in (
        " ".join(stderr.split())
    )


def test_show_json_errors_are_json(cli: CliRunner, ws: Path) -> None:
    code, stdout, _ = invoke(cli, ws, "show", "nope", "--json")
    assert code == 1
    assert json.loads(stdout)["error"]["code"] == "warning_not_found"


def test_an_unreachable_configured_store_exits_8_without_the_password(
    cli: CliRunner, ws: Path
) -> None:
    config = ws / "crew.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[store]\n",
            '[store]\noperational_url = "postgresql+psycopg://crew:s3cret@127.0.0.1:9/ops"\n',
        ),
        encoding="utf-8",
    )
    code, stdout, stderr = invoke(cli, ws, "list")
    assert code == 8
    assert "error: Cannot open the operational store at" in stderr
    assert "127.0.0.1" in stderr and "s3cret" not in stderr + stdout
    assert "hint:" in stderr and "Traceback" not in stderr


def test_the_store_url_can_come_from_the_environment(
    cli: CliRunner, ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREW_STORE__OPERATIONAL_URL", f"sqlite:///{tmp_path / 'other.sqlite'}")
    code, stdout, _ = invoke(cli, ws, "list")
    assert code == 0 and "No active warnings match." in stdout
    assert (tmp_path / "other.sqlite").exists()


def test_outside_a_workspace_the_error_says_so(cli: CliRunner, tmp_path: Path) -> None:
    code, _, stderr = invoke(cli, tmp_path, "list")
    assert code == 3 and "is not a CREW workspace" in " ".join(stderr.split())
