"""Every way of changing a warning (dashboard queue, `PATCH /v1/alerts/{id}`, `crew alerts`)
writes the change and its audit record in one transaction: with the audit log failing,
the request fails and the warning stays as it was."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crew.cli import app as crew
from crew.store import Workspace
from crew.store.users import Role
from crew.types import WarningState

from .conftest import DAY1
from .test_dashboard import PASSWORD, login

# One warning per channel, all open.
WARNINGS = {"dashboard": "churn-C1-20240501", "api": "complaint_surge-C1-20240501",
            "cli": "churn-C2-20240501"}  # fmt: skip
ACTORS = {"dashboard": "ann", "api": "admin-bot", "cli": "carl"}
TRIGGER = (
    "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END"
)


def _break_audit(workspace: Workspace, broken: bool) -> None:
    path = Path(workspace.operational_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:
        db.execute(TRIGGER if broken else "DROP TRIGGER audit_fails")


def test_each_channel_changes_a_warning_with_its_record_or_not_at_all(
    app: FastAPI,
    workspace: Workspace,
    headers: dict[str, dict[str, str]],
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = app.state.crew.store
    store.users.add("ann", Role.MANAGER, PASSWORD, at=DAY1)
    monkeypatch.setenv("USER", "carl")
    with TestClient(app, raise_server_exceptions=False) as client:
        csrf = login(client, "ann")
        bulk = {"csrf": csrf, "action": "acknowledge", "id": [WARNINGS["dashboard"]]}
        channels: dict[str, Callable[[], int]] = {
            "dashboard": lambda: client.post("/warnings/bulk", data=bulk).status_code,
            "api": lambda: (
                client.patch(
                    f"/v1/alerts/{WARNINGS['api']}",
                    headers=headers["admin"],
                    json={"state": "acknowledged"},
                ).status_code
            ),
            "cli": lambda: (
                cli.invoke(
                    crew, ["--workspace", str(workspace.root), "alerts", "ack", WARNINGS["cli"]]
                ).exit_code
            ),
        }
        for via, change in channels.items():
            warning, records = WARNINGS[via], len(store.audit.records())
            _break_audit(workspace, True)
            assert change() not in (0, 200), via
            assert store.get_warning(warning).state == WarningState.OPEN, via
            assert len(store.history(warning)) == 1, f"{via}: only the run's 'created'"
            assert len(store.audit.records()) == records
            _break_audit(workspace, False)
            assert change() in (0, 200), via
            assert store.get_warning(warning).state == WarningState.ACKNOWLEDGED, via
            (record,) = store.audit.records(action="warning.state", subject=warning)
            assert record.actor == ACTORS[via]
            assert record.details == {"field": "state", "from": "open", "to": "acknowledged",
                                      "via": via}  # fmt: skip
    assert store.audit.verify().ok
