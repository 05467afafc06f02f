"""`crew notify`, `crew notify status | list` and `crew alerts silence | silences | unsilence`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
from typer.testing import CliRunner

from crew.cli import app
from crew.store import RunRecord, Workspace
from crew.store.operational import open_operational_store

NOW = datetime.now(UTC)


def crew(cli: CliRunner, workspace: Workspace, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, ["--workspace", str(workspace.root), *args])
    return result.exit_code, result.stdout, result.stderr


def open_warnings(workspace: Workspace, *customers: str) -> None:
    opened = pd.DataFrame(
        {"customer_id": list(customers), "risk_type": "churn", "level": "high", "score": 0.9,
         "first_seen": NOW}
    )  # fmt: skip
    with open_operational_store(workspace, None) as store:
        store.apply_run(RunRecord("r1", NOW, NOW, NOW, False, "x"), opened, *[pd.DataFrame()] * 2)


def add_webhook(workspace: Workspace, secret_env: str = "CRM_HOOK_SECRET") -> None:
    path = workspace.root / "crew.toml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + f'\n[[webhooks]]\nname = "crm"\nurl = "http://127.0.0.1:9/hook"\n'
        f'secret_env = "{secret_env}"\nmax_attempts = 3\n',
        encoding="utf-8",
    )


def test_silence_list_and_end(cli: CliRunner, workspace: Workspace) -> None:
    code, out, err = crew(
        cli, workspace, "alerts", "silence", "--customer", "C1", "--type", "churn",
        "--until", "7d", "--reason", "renewal talks",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("Silence 1: customer=C1 type=churn until ")
    code, out, _ = crew(cli, workspace, "alerts", "silences", "--json")
    [listed] = json.loads(out)["silences"]
    assert (listed["customer_id"], listed["risk_type"], listed["active"]) == ("C1", "churn", True)
    ends = datetime.fromisoformat(listed["ends_at"])
    assert timedelta(days=6, hours=23) < ends - NOW < timedelta(days=7, hours=1)
    code, out, _ = crew(cli, workspace, "alerts", "unsilence", "1")
    assert code == 0 and "Silence 1 (customer=C1 type=churn) ended" in out
    assert "No silences" in crew(cli, workspace, "alerts", "silences")[1]
    everything = json.loads(crew(cli, workspace, "alerts", "silences", "--all", "--json")[1])
    assert [(s["reason"], s["active"]) for s in everything["silences"]] == [
        ("renewal talks", False)
    ]


def test_silence_errors_name_the_option(cli: CliRunner, workspace: Workspace) -> None:
    code, _, err = crew(cli, workspace, "alerts", "silence", "--until", "1d", "--reason", "x")
    assert code == 2 and "--customer/--type/--segment" in err
    code, _, err = crew(
        cli, workspace, "alerts", "silence", "--segment", "north", "--until", "soon",
        "--reason", "x",
    )  # fmt: skip
    assert code == 2 and "'soon' is neither a date" in err
    code, _, err = crew(
        cli, workspace, "alerts", "silence", "--segment", "north", "--until", "2020-01-01",
        "--reason", "x",
    )  # fmt: skip
    assert code == 2 and "2020-01-01 00:00 UTC has passed" in err
    code, _, err = crew(cli, workspace, "alerts", "unsilence", "9")
    assert code == 1 and "No silence 9." in err and "crew alerts silences --all" in err


def test_notify_routes_sends_and_reports_where_each_notification_stands(
    cli: CliRunner, workspace: Workspace, monkeypatch: object
) -> None:
    open_warnings(workspace, "C1", "C2")
    add_webhook(workspace)
    crew(
        cli, workspace, "alerts", "silence", "--customer", "C2", "--until", "1d", "--reason", "vip"
    )
    result = cli.invoke(
        app,
        ["--workspace", str(workspace.root), "notify", "--json"],
        env={"CRM_HOOK_SECRET": "0123456789abcdef"},
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "routed": 1,
        "suppressed": 1,
        "sent": 0,
        "retrying": 1,
        "dead": 0,
    }  # fmt: skip  (nothing listens on port 9)
    code, out, _ = crew(cli, workspace, "notify", "status", "--json")
    assert json.loads(out) == {
        "notifications": {"routed": 1, "suppressed": 1},
        "suppressed": {"silenced": 1},
        "webhook:crm": {"pending": 1},
    }
    code, out, _ = crew(cli, workspace, "notify", "list", "--json")
    rows = {r["customer_id"]: r for r in json.loads(out)["notifications"]}
    assert rows["C2"]["reason"] == "silenced" and "vip" in rows["C2"]["reason_detail"]
    [delivery] = rows["C1"]["deliveries"]
    assert (delivery["webhook"], delivery["attempts"], delivery["state"]) == ("crm", 1, "pending")
    code, out, _ = crew(
        cli, workspace, "notify", "list", "--warning", "churn-C2-" + f"{NOW:%Y%m%d}"
    )
    assert code == 0 and "silenced: silence 1" in out
    code, out, _ = crew(cli, workspace, "notify", "status")
    assert code == 0 and "webhook:crm" in out and "Suppressed: silenced 1." in out


def test_notify_without_the_secret_fails_naming_the_variable(
    cli: CliRunner, workspace: Workspace
) -> None:
    add_webhook(workspace, "MISSING_HOOK_SECRET")
    result = cli.invoke(
        app, ["--workspace", str(workspace.root), "notify"], env={"MISSING_HOOK_SECRET": ""}
    )
    assert result.exit_code == 2
    assert "secret_env names MISSING_HOOK_SECRET, which is not set" in result.stderr


def test_notify_without_webhooks_keeps_notifications_with_the_reason(
    cli: CliRunner, workspace: Workspace
) -> None:
    open_warnings(workspace, "C1")
    code, out, err = crew(cli, workspace, "notify")
    assert code == 0 and "No [[webhooks]]" in err
    assert out.strip() == "0 routed, 1 suppressed; deliveries: 0 sent, 0 to retry, 0 dead."
    code, out, _ = crew(cli, workspace, "notify", "list", "--status", "suppressed", "--json")
    assert [r["reason"] for r in json.loads(out)["notifications"]] == ["no_receiver"]
