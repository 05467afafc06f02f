"""The CLI reference page (docs/cli.md), generated from the commands' own `--help`."""

from __future__ import annotations

import sys

import typer
from typer.testing import CliRunner


def command_paths(app: typer.Typer, prefix: str = "") -> list[str]:
    """Every command and group of `app`, in the order they were registered."""
    paths: list[str] = []
    for command in app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        paths.append(f"{prefix}{name}")
    for group in app.registered_groups:
        if group.typer_instance is None or group.name is None:
            continue
        paths.append(f"{prefix}{group.name}")
        paths.extend(command_paths(group.typer_instance, f"{prefix}{group.name} "))
    return paths


def render_cli_reference(app: typer.Typer) -> str:
    """Markdown with the `--help` text of `crew` and of each command."""
    runner = CliRunner()
    env = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "CREW_WORKSPACE": ""}
    parts = [
        "# CLI reference\n",
        "Generated from `--help` by `make docs`; a test fails when this page is stale.\n",
    ]
    for command in ("", *command_paths(app)):
        args = [*command.split(), "--help"]
        result = runner.invoke(app, args, env=env, prog_name="crew")
        text = "\n".join(line.rstrip() for line in result.stdout.strip().splitlines())
        parts.append(f"## crew {command}".rstrip() + f"\n\n```text\n{text}\n```\n")
    return "\n".join(parts)


def main() -> None:
    """Print the reference on stdout (`python -m crew.cli.reference > docs/cli.md`)."""
    from crew.cli import app

    sys.stdout.write(render_cli_reference(app))


if __name__ == "__main__":
    main()
