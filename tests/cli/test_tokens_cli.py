"""`crew tokens create | list | revoke`: the secret is printed once and never stored."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from crew.cli import app
from crew.store import Workspace
from crew.store.operational import open_operational_store


def crew(cli: CliRunner, workspace: Workspace, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, ["--workspace", str(workspace.root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_create_prints_the_secret_once_and_stores_its_hash(
    cli: CliRunner, workspace: Workspace
) -> None:
    code, out, err = crew(cli, workspace, "tokens", "create", "crm-sync", "--scope", "ingest")
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("crew_") and "shown only now" in err
    with open_operational_store(workspace, None) as store:
        token = store.tokens.authenticate(secret)
    assert token is not None and (token.name, token.scope.value) == ("crm-sync", "ingest")
    code, listed, _ = crew(cli, workspace, "tokens", "list", "--json")
    assert code == 0 and secret not in listed
    assert [(t["name"], t["scope"]) for t in json.loads(listed)["tokens"]] == [
        ("crm-sync", "ingest")
    ]


def test_the_default_scope_is_read_and_json_has_the_secret(
    cli: CliRunner, workspace: Workspace
) -> None:
    code, out, _ = crew(cli, workspace, "tokens", "create", "analyst", "--json")
    body = json.loads(out)
    assert code == 0 and body["scope"] == "read" and body["secret"].startswith("crew_")


def test_revoke_then_list(cli: CliRunner, workspace: Workspace) -> None:
    crew(cli, workspace, "tokens", "create", "old")
    code, out, _ = crew(cli, workspace, "tokens", "revoke", "old")
    assert code == 0 and "revoked" in out
    assert "No API tokens" in crew(cli, workspace, "tokens", "list")[1]
    listed = json.loads(crew(cli, workspace, "tokens", "list", "--all", "--json")[1])["tokens"]
    assert listed[0]["name"] == "old" and listed[0]["revoked_at"] is not None
    # The name is free again.
    assert crew(cli, workspace, "tokens", "create", "old")[0] == 0


def test_token_errors(cli: CliRunner, workspace: Workspace) -> None:
    crew(cli, workspace, "tokens", "create", "bot")
    code, _, err = crew(cli, workspace, "tokens", "create", "bot")
    assert code == 1 and "error: An active API token is already called 'bot'." in err
    code, _, err = crew(cli, workspace, "tokens", "revoke", "nobody")
    assert code == 1 and "No active API token is called 'nobody'" in err
    assert "hint: 'crew tokens list'" in err
    code, _, err = crew(cli, workspace, "tokens", "create", "has space")
    assert code == 2 and "token name" in err
    code, _, err = crew(cli, workspace, "tokens", "create", "x", "--scope", "root")
    assert code == 2
