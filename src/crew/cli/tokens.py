"""`crew tokens`: create, list and revoke the API tokens `crew serve` accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.box import SIMPLE_HEAD
from rich.table import Table as RichTable

from crew.cli._output import console, emit_json, out, reports_errors, workspace_option
from crew.cli.alerts import _open_store
from crew.store.tokens import ApiToken, TokenScope

tokens_app = typer.Typer(
    help="API tokens: create one per caller (the secret is shown once), list, revoke.",
    no_args_is_help=True,
)


@tokens_app.command("create")
@reports_errors
def create_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Who or what uses it, e.g. crm-sync (1-64 characters)."),
    scope: TokenScope = typer.Option(
        TokenScope.READ,
        "--scope",
        help="read: GET routes; ingest: POST /v1/events; admin: both, and changing warnings.",
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the token and secret as JSON."),
) -> None:
    """Create an API token and print its secret, once: only its hash is stored."""
    with _open_store(ctx, workspace_dir) as store:
        try:
            token, secret = store.tokens.create(name, scope, at=datetime.now(UTC))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="NAME") from None
    if as_json:
        emit_json({**_payload(token), "secret": secret})
        return
    console.print(
        f"Token '{token.name}' ({token.scope.value}) created. Its secret is shown only now; "
        "send it as 'Authorization: Bearer <secret>':",
        markup=False,
    )
    out.print(secret, markup=False, soft_wrap=True)


@tokens_app.command("list")
@reports_errors
def list_command(
    ctx: typer.Context,
    include_revoked: bool = typer.Option(False, "--all", help="Include revoked tokens."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the tokens as JSON."),
) -> None:
    """List API tokens (names, scopes, dates; never secrets)."""
    with _open_store(ctx, workspace_dir) as store:
        tokens = store.tokens.list_tokens(include_revoked=include_revoked)
    if as_json:
        emit_json({"tokens": [_payload(t) for t in tokens]})
        return
    if not tokens:
        out.print("No API tokens. 'crew tokens create NAME --scope read' makes one.")
        return
    table = RichTable(title="API tokens", title_justify="left", box=SIMPLE_HEAD)
    for column in ("name", "scope", "created", "revoked"):
        table.add_column(column)
    for t in tokens:
        revoked = "-" if t.revoked_at is None else f"{t.revoked_at:%Y-%m-%d %H:%M}"
        table.add_row(t.name, t.scope.value, f"{t.created_at:%Y-%m-%d %H:%M}", revoked)
    out.print(table)


@tokens_app.command("revoke")
@reports_errors
def revoke_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Name of the token (see 'crew tokens list')."),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Revoke an API token: its secret stops working at once."""
    with _open_store(ctx, workspace_dir) as store:
        token = store.tokens.revoke(name, at=datetime.now(UTC))
    out.print(f"Token '{token.name}' revoked.", markup=False)


def _payload(token: ApiToken) -> dict[str, object]:
    return {
        "name": token.name,
        "scope": token.scope.value,
        "created_at": token.created_at,
        "revoked_at": token.revoked_at,
    }


__all__ = ["tokens_app"]
