"""`crew audit`: read the tamper-evident audit log and check its hash chain."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.box import SIMPLE_HEAD
from rich.table import Table as RichTable

from crew.cli._output import emit_json, out, reports_errors, workspace_option
from crew.cli.users import open_store
from crew.errors import AuditLogTamperedError
from crew.store.audit import AuditRecord, canonical_json

audit_app = typer.Typer(
    help="The audit log (审计日志): who saw personal data, who changed which warning.",
    no_args_is_help=True,
)


@audit_app.command("list")
@reports_errors
def list_command(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", min=1, help="Newest records to show."),
    actor: str = typer.Option(None, "--actor", help="Only this user's records."),
    action: str = typer.Option(None, "--action", help="Only this action, e.g. pii.view."),
    subject: str = typer.Option(None, "--subject", help="Only this subject (customer, warning)."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON."),
) -> None:
    """List the newest audit records, newest first."""
    with open_store(ctx, workspace_dir) as store:
        records = store.audit.records(limit=limit, actor=actor, action=action, subject=subject)
    if as_json:
        emit_json({"records": [_payload(r) for r in records]})
        return
    if not records:
        out.print("No audit records.")
        return
    table = RichTable(title="Audit log", title_justify="left", box=SIMPLE_HEAD)
    for column in ("#", "at (UTC)", "actor", "action", "subject", "details"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            str(r.seq),
            f"{r.at:%Y-%m-%d %H:%M:%S}",
            r.actor,
            r.action,
            r.subject,
            canonical_json(r.details),
        )
    out.print(table)


@audit_app.command("verify")
@reports_errors
def verify_command(
    ctx: typer.Context,
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Recompute the hash chain; exit 10 naming the first edited or deleted record."""
    with open_store(ctx, workspace_dir) as store:
        check = store.audit.verify()
    if check.ok:
        if as_json:
            emit_json({"ok": True, "records": check.records, "head": check.head})
            return
        out.print(
            f"Audit log intact: {check.records} records; head hash {check.head}.", markup=False
        )
        return
    raise AuditLogTamperedError(
        f"The audit log was tampered with: {check.problem}.",
        hint=f"Record {check.first_bad} is the first that fails; restore the table from a "
        "backup and find out who had write access to the operational store.",
    )


def _payload(record: AuditRecord) -> dict[str, object]:
    return {
        "seq": record.seq,
        "at": record.at,
        "actor": record.actor,
        "action": record.action,
        "subject": record.subject,
        "details": record.details,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


__all__ = ["audit_app"]
