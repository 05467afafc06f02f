"""`crew users` and `crew audit`: add and list users, list and verify the audit log."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from crew.cli import app


def _crew(cli: CliRunner, ws: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = cli.invoke(app, ["--workspace", str(ws), *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _workspace(cli: CliRunner, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    assert _crew(cli, ws, "init")[0] == 0
    return ws


def test_users_add_reads_the_password_from_stdin_and_lists(cli: CliRunner, tmp_path: Path) -> None:
    ws = _workspace(cli, tmp_path)
    code, out, err = _crew(cli, ws, "users", "add", "ann", "--role", "compliance",
                           "--password-stdin", stdin="a long password\n")  # fmt: skip
    assert code == 0, err
    assert "User 'ann' (compliance) added." in out and "warning" not in err
    code, _, err = _crew(cli, ws, "users", "add", "demo", "--role", "analyst",
                         "--password-stdin", stdin="demo\n")  # fmt: skip
    assert code == 0 and "fewer than 8 characters" in err
    code, out, _ = _crew(cli, ws, "users", "list", "--json")
    users = json.loads(out)["users"]
    assert [(u["name"], u["role"]) for u in users] == [("ann", "compliance"), ("demo", "analyst")]
    assert "password" not in out


def test_users_add_errors(cli: CliRunner, tmp_path: Path) -> None:
    ws = _workspace(cli, tmp_path)
    _crew(cli, ws, "users", "add", "ann", "--role", "admin", "--password-stdin", stdin="pw\n")
    code, _, err = _crew(cli, ws, "users", "add", "ann", "--role", "admin", "--password-stdin",
                         stdin="pw\n")  # fmt: skip
    assert code == 1
    assert "error: A user is already called 'ann'." in err and "hint:" in err
    code, _, err = _crew(cli, ws, "users", "add", "bob", "--role", "superuser", "--password-stdin",
                         stdin="pw\n")  # fmt: skip
    assert code == 2 and "superuser" in err
    code, _, err = _crew(cli, ws, "users", "add", "bob", "--role", "analyst", "--password-stdin",
                         stdin="\n")  # fmt: skip
    assert code == 2 and "empty" in err


def test_users_add_prompts_twice(cli: CliRunner, tmp_path: Path) -> None:
    ws = _workspace(cli, tmp_path)
    code, _, err = _crew(cli, ws, "users", "add", "ann", "--role", "manager",
                         stdin="s3cret-pass\ns3cret-pass\n")  # fmt: skip
    assert code == 0, err


def test_audit_verify_names_the_edited_record(cli: CliRunner, tmp_path: Path) -> None:
    ws = _workspace(cli, tmp_path)
    for name in ("ann", "bob", "carl"):
        _crew(cli, ws, "users", "add", name, "--role", "analyst", "--password-stdin",
              stdin="password\n")  # fmt: skip
    code, out, _ = _crew(cli, ws, "audit", "verify")
    assert code == 0 and "Audit log intact: 3 records" in out
    code, out, _ = _crew(cli, ws, "audit", "list", "--json")
    records = json.loads(out)["records"]
    assert [(r["seq"], r["action"], r["subject"]) for r in records] == [
        (3, "user.add", "carl"), (2, "user.add", "bob"), (1, "user.add", "ann"),
    ]  # fmt: skip
    with sqlite3.connect(ws / "operational.sqlite") as db:
        db.execute("""UPDATE audit_log SET details = '{"role":"admin"}' WHERE seq = 2""")
    code, _, err = _crew(cli, ws, "audit", "verify")
    assert code == 10
    assert "record 2 was edited" in err and "Record 2 is the first that fails" in err
    with sqlite3.connect(ws / "operational.sqlite") as db:
        db.execute("""UPDATE audit_log SET details = '{"role":"analyst"}' WHERE seq = 2""")
        db.execute("DELETE FROM audit_log WHERE seq = 2")
    code, _, err = _crew(cli, ws, "audit", "verify")
    assert code == 10 and "record 2 is missing (deleted)" in err
