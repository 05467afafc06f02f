"""docs/cli.md is generated from `--help`; it must match the commands as they are."""

from __future__ import annotations

from pathlib import Path

from crew.cli import app
from crew.cli.reference import render_cli_reference

PAGE = Path(__file__).parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    assert PAGE.read_text(encoding="utf-8") == render_cli_reference(app), (
        "docs/cli.md is stale: run 'make docs'"
    )
