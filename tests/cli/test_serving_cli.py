"""`crew serve` and `crew worker` refuse settings they cannot run with."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from crew.cli import app
from crew.store import Workspace


def test_worker_needs_redis(cli: CliRunner, workspace: Workspace) -> None:
    result = cli.invoke(app, ["--workspace", str(workspace.root), "worker"])
    assert result.exit_code == 2
    assert "error: crew worker needs Redis: stream.redis_url is not set." in result.stderr
    assert "CREW_STREAM__REDIS_URL" in result.stderr


def test_worker_outside_a_workspace(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["--workspace", str(tmp_path), "worker"])
    assert result.exit_code == 3 and "is not a CREW workspace" in result.stderr


def test_a_missing_config_file_is_named(cli: CliRunner, workspace: Workspace) -> None:
    for command in ("worker", "serve"):
        result = cli.invoke(
            app, ["--workspace", str(workspace.root), command, "--config", "nope.toml"]
        )
        assert result.exit_code == 2, command
        assert "nope.toml: no such settings file" in result.stderr


def test_a_bad_handler_is_named(cli: CliRunner, workspace: Workspace, tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text('[stream]\nredis_url = "redis://127.0.0.1:6379/0"\n', encoding="utf-8")
    result = cli.invoke(
        app,
        [
            "--workspace",
            str(workspace.root),
            "worker",
            "--config",
            str(config),
            "--handler",
            "crew.nowhere:handle",
        ],
    )
    assert result.exit_code == 2 and "crew.nowhere" in result.stderr


def test_serve_refuses_an_unreachable_store(
    cli: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    config = tmp_path / "server.toml"
    config.write_text(
        '[store]\noperational_url = "postgresql+psycopg://crew:s3cretpw@127.0.0.1:1/crew"\n',
        encoding="utf-8",
    )
    result = cli.invoke(app, ["--workspace", str(workspace.root), "serve", "--config", str(config)])
    assert result.exit_code == 8
    assert "Cannot open the operational store" in result.stderr and "s3cretpw" not in result.stderr
