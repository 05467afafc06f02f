"""How commands talk: Rich on stderr for people, JSON on stdout for scripts."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from crew.errors import CrewError

P = ParamSpec("P")
R = TypeVar("R")

console = Console(stderr=True, highlight=False)  # progress, errors, hints
out = Console(highlight=False)  # results


def workspace_option() -> Path:
    """`--workspace` accepted after the command too (`crew status --workspace DIR`)."""
    return typer.Option(  # type: ignore[no-any-return]
        None,
        "--workspace",
        "-w",
        help="Workspace folder (default: crew --workspace, CREW_WORKSPACE or the current folder).",
        show_default=False,
    )


def workspace_root(ctx: typer.Context, workspace: Path | None) -> Path:
    """The workspace folder: the command's option, else the one given before the command."""
    return workspace if workspace is not None else Path(ctx.obj)


def emit_json(payload: object) -> None:
    """Write `payload` as JSON on stdout (dates as ISO 8601, paths as strings)."""
    sys.stdout.write(json.dumps(payload, default=_jsonable, ensure_ascii=False, indent=2) + "\n")


def _jsonable(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_error(error: CrewError, *, as_json: bool = False) -> None:
    """One `error:` line (plus listed problems and a `hint:` line) on stderr."""
    problems: list[str] = list(getattr(error, "problems", []))
    total = int(getattr(error, "total", len(problems)))
    if as_json:
        body: dict[str, object] = {"code": error.code, "message": error.message, "hint": error.hint}
        if problems:
            body |= {"problems": problems, "total": total}
        emit_json({"error": body})
    # Messages are plain text: "pip install 'crew[text]'" must not be read as markup.
    console.print(f"[bold red]error:[/] {escape(error.message)}", soft_wrap=True)
    for line in problems:
        console.print(f"  {line}", soft_wrap=True, markup=False)
    if total > len(problems):
        console.print(f"  ... and {total - len(problems)} more", soft_wrap=True)
    if error.hint:
        console.print(f"[yellow]hint:[/] {escape(error.hint)}", soft_wrap=True)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a `CrewError` raised by `command` into `error:`/`hint:` lines and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CrewError as error:
            print_error(error, as_json=bool(kwargs.get("as_json", False)))
            raise typer.Exit(error.exit_code) from None

    return wrapper


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """A progress display on stderr (silent when disabled or when stderr is not a terminal)."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
        transient=True,
    )
    with progress:
        yield progress


__all__ = ["console", "emit_json", "out", "print_error", "progress_bar", "reports_errors"]
