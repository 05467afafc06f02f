"""The CLI reference page (docs/cli.md), generated from the commands' own `--help`."""

from __future__ import annotations

import sys

import typer
from typer.testing import CliRunner

COMMANDS = (
    "init",
    "import",
    "simulate",
    "status",
    "indicators",
    "indicators list",
    "indicators compute",
    "indicators docs",
    "weights",
    "weights ahp",
    "weights entropy",
    "weights combine",
    "weights show",
    "train",
    "evaluate",
    "score",
    "explain",
    "models",
)


def render_cli_reference(app: typer.Typer) -> str:
    """Markdown with the `--help` text of `crew` and of each command."""
    runner = CliRunner()
    env = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "CREW_WORKSPACE": ""}
    parts = [
        "# CLI reference\n",
        "Generated from `--help` by `make docs`; a test fails when this page is stale.\n",
    ]
    for command in ("", *COMMANDS):
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
