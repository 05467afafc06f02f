"""`crew users`: the people who log in to the dashboard, each with one role."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.box import SIMPLE_HEAD
from rich.table import Table as RichTable

from crew.cli._output import console, emit_json, out, reports_errors, workspace_option
from crew.cli._output import workspace_root as root_of
from crew.store.operational import OperationalStore, open_operational_store
from crew.store.users import Role, User
from crew.store.workspace import open_workspace

users_app = typer.Typer(
    help="Dashboard users: add one per person with a role, list, disable.",
    no_args_is_help=True,
)

_WEAK = 8  # below this many characters a password is accepted with a warning (demo logins)


def open_store(ctx: typer.Context, workspace_dir: Path | None) -> OperationalStore:
    """The operational store of the workspace named on the command line."""
    workspace = open_workspace(root_of(ctx, workspace_dir))
    return open_operational_store(workspace, workspace.settings.store.operational_url)


def cli_actor() -> str:
    """Who is acting at the terminal, for the audit log: $USER, else 'cli'."""
    return os.environ.get("USER") or "cli"


@users_app.command("add")
@reports_errors
def add_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Login name (1-64 letters, digits, '_', '.', '@', '-')."),
    role: Role = typer.Option(
        ...,
        "--role",
        help="admin: everything; manager: act and assign; responder: act on warnings; "
        "analyst, viewer: read, personal data masked; compliance: read, personal data "
        "unmasked (audited), audit log.",
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Add a dashboard user; the password is asked for (or read from stdin) and hashed."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_store(ctx, workspace_dir) as store:
        try:
            user = store.users.add(name, role, password, at=datetime.now(UTC))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="NAME or password") from None
        store.audit.append(
            cli_actor(), "user.add", user.name, {"role": role.value}, at=datetime.now(UTC)
        )
    if len(password) < _WEAK:
        console.print(f"warning: the password has fewer than {_WEAK} characters.", markup=False)
    out.print(f"User '{user.name}' ({user.role.value}) added.", markup=False)


@users_app.command("list")
@reports_errors
def list_command(
    ctx: typer.Context,
    include_disabled: bool = typer.Option(False, "--all", help="Include disabled users."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the users as JSON."),
) -> None:
    """List dashboard users (names, roles, dates; never passwords)."""
    with open_store(ctx, workspace_dir) as store:
        users = store.users.list_users(include_disabled=include_disabled)
    if as_json:
        emit_json({"users": [_payload(u) for u in users]})
        return
    if not users:
        out.print("No users. 'crew users add NAME --role analyst' adds one.")
        return
    table = RichTable(title="Dashboard users", title_justify="left", box=SIMPLE_HEAD)
    for column in ("name", "role", "created", "disabled"):
        table.add_column(column)
    for u in users:
        disabled = "-" if u.disabled_at is None else f"{u.disabled_at:%Y-%m-%d %H:%M}"
        table.add_row(u.name, u.role.value, f"{u.created_at:%Y-%m-%d %H:%M}", disabled)
    out.print(table)


@users_app.command("disable")
@reports_errors
def disable_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Login name (see 'crew users list')."),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Disable a user: no more logins, and open sessions end at their next request."""
    with open_store(ctx, workspace_dir) as store:
        user = store.users.disable(name, at=datetime.now(UTC))
        store.audit.append(cli_actor(), "user.disable", user.name, at=datetime.now(UTC))
    out.print(f"User '{user.name}' disabled.", markup=False)


def _payload(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "role": user.role.value,
        "created_at": user.created_at,
        "disabled_at": user.disabled_at,
    }


__all__ = ["cli_actor", "open_store", "users_app"]
