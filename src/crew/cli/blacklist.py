"""`crew blacklist`: the shared blacklist (行业黑名单): list, export, import, dispute, withdraw.

Identifiers are hashed as soon as they are read (HMAC-SHA256 under the key partners share,
see docs/blacklist.md); the plain values are never stored, printed or logged.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer
from rich.box import SIMPLE_HEAD
from rich.table import Table as RichTable

from crew.cli._output import emit_json, out, reports_errors, workspace_option, workspace_root
from crew.config import BlacklistSettings
from crew.errors import CrewError
from crew.response.blacklist import IdentifierHasher, require_hasher
from crew.response.blacklist_checks import add_identifier, change_status, import_file
from crew.response.blacklist_files import ExportFormat, write_export
from crew.store.blacklist import BlacklistEntry, EntryStatus, IdentifierType
from crew.store.operational import OperationalStore, open_operational_store
from crew.store.workspace import Workspace, open_workspace

blacklist_app = typer.Typer(
    help="Shared blacklist (行业黑名单): hashed identifiers exchanged with partners; "
    "list, add, export, import, dispute, withdraw.",
    no_args_is_help=True,
)

_DATE = ["%Y-%m-%d"]
_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


class StatusFilter(StrEnum):
    """Which entries `crew blacklist list` shows."""

    ACTIVE = "active"
    DISPUTED = "disputed"
    WITHDRAWN = "withdrawn"
    ALL = "all"


class FileFormat(StrEnum):
    """Export file formats."""

    JSONL = "jsonl"
    CSV = "csv"


def _open(ctx: typer.Context, workspace_dir: Path | None) -> tuple[Workspace, OperationalStore]:
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    return workspace, open_operational_store(workspace, workspace.settings.store.operational_url)


def _hasher(settings: BlacklistSettings) -> IdentifierHasher:
    return require_hasher(settings, os.environ)


def _actor() -> str:
    return os.environ.get("USER") or "cli"


@blacklist_app.command("add")
@reports_errors
def add_command(
    ctx: typer.Context,
    phone: str = typer.Option(None, "--phone", help="Phone number ('-': read from stdin)."),
    email: str = typer.Option(None, "--email", help="E-mail address ('-': read from stdin)."),
    id_number: str = typer.Option(None, "--id-number", help="ID number ('-': from stdin)."),
    device: str = typer.Option(None, "--device", help="Device id ('-': read from stdin)."),
    reason: str = typer.Option(..., "--reason", help="Why it is listed, e.g. chargeback fraud."),
    evidence: str = typer.Option("", "--evidence", help="What proves it (case number, ...)."),
    listed_on: datetime = typer.Option(
        None,
        "--listed-on",
        formats=_DATE,
        help="Day it was listed (default today).",
        show_default=False,
    ),
    expires: datetime = typer.Option(
        None,
        "--expires",
        formats=_DATE,
        help="Day it stops matching (default never).",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the new entry as JSON."),
) -> None:
    """List one identifier: it is hashed at once, the plain value is never stored."""
    given = {IdentifierType.PHONE: phone, IdentifierType.EMAIL: email,
             IdentifierType.ID_NUMBER: id_number, IdentifierType.DEVICE: device}  # fmt: skip
    chosen = [(kind, value) for kind, value in given.items() if value is not None]
    if len(chosen) != 1:
        raise CrewError(
            "Give exactly one of --phone, --email, --id-number or --device.",
            hint="Add one entry per identifier.",
        )
    kind, value = chosen[0]
    if value == "-":
        value = sys.stdin.readline().strip()  # keeps the value out of the shell's history
    now = datetime.now(UTC)
    workspace, store = _open(ctx, workspace_dir)
    settings = workspace.settings.blacklist
    with store:
        id = add_identifier(
            store, _hasher(settings), kind, value, reason=reason, evidence=evidence,
            listed_on=listed_on.date() if listed_on else now.date(), source=settings.source,
            actor=_actor(), at=now, expires_on=expires.date() if expires else None,
        )  # fmt: skip
        entry = store.blacklist.get(id)
    if as_json:
        emit_json(_payload(entry))
        return
    out.print(
        f"Entry {entry.id} added: {kind.value} hash {entry.identifier_hash[:12]}… "
        f"(the plain value is not stored).",
        markup=False,
        soft_wrap=True,
    )


@blacklist_app.command("list")
@reports_errors
def list_command(
    ctx: typer.Context,
    status: StatusFilter = typer.Option(StatusFilter.ACTIVE, "--status", help="Which entries."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the entries as JSON."),
) -> None:
    """List blacklist entries (hashes and provenance, never identifiers)."""
    _, store = _open(ctx, workspace_dir)
    statuses = None if status == StatusFilter.ALL else [EntryStatus(status.value)]
    with store:
        entries = store.blacklist.entries(statuses=statuses)
    if as_json:
        emit_json({"entries": [_payload(e) for e in entries]})
        return
    if not entries:
        out.print(f"No {status.value} blacklist entries." if statuses else "No blacklist entries.")
        return
    table = RichTable(title=f"Blacklist ({status.value})", title_justify="left", box=SIMPLE_HEAD)
    for column in ("id", "type", "hash", "source", "listed", "expires", "status", "reason"):
        table.add_column(
            column, justify="right" if column == "id" else "left",
            no_wrap=column not in ("source", "reason"), overflow="fold",
        )  # fmt: skip
    today = datetime.now(UTC).date()
    for e in entries:
        expiry = "-" if e.expires_on is None else str(e.expires_on)
        state = "expired" if e.expires_on and e.expires_on <= today else e.status.value
        table.add_row(
            str(e.id), e.identifier_type.value, e.identifier_hash[:8] + "…", e.source,
            str(e.listed_on), expiry, state, e.reason,
        )  # fmt: skip
    out.print(table)


@blacklist_app.command("export")
@reports_errors
def export_command(
    ctx: typer.Context,
    path: Path = typer.Option(..., "--out", help="File to write (.jsonl or .csv)."),
    fmt: FileFormat = typer.Option(
        None,
        "--format",
        help="jsonl or csv (default: from the file's suffix, else jsonl).",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Write this workspace's own active, unexpired entries for partners (hashes only)."""
    workspace, store = _open(ctx, workspace_dir)
    settings = workspace.settings.blacklist
    hasher = _hasher(settings)
    chosen: ExportFormat = "csv" if (fmt or path.suffix.lstrip(".")) == "csv" else "jsonl"
    now = datetime.now(UTC)
    with store:
        own = store.blacklist.entries(statuses=[EntryStatus.ACTIVE], source=settings.source)
    entries = [e for e in own if e.is_in_force(now.date())]
    written = write_export(path, entries, fingerprint=hasher.fingerprint, source=settings.source,
                           exported_at=now, fmt=chosen)  # fmt: skip
    out.print(
        f"{written} entries of {settings.source} written to {path} "
        f"(key fingerprint {hasher.fingerprint}).",
        markup=False,
        soft_wrap=True,
    )


@blacklist_app.command("import")
@reports_errors
def import_command(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="An export from 'crew blacklist export'."),
    source: str = typer.Option(..., "--source", help="The partner who sent it, e.g. bank-x."),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Import a partner's export: every entry is checked first; one bad row imports nothing."""
    if not _SOURCE.match(source):
        raise typer.BadParameter(
            "use 1-64 letters, digits, '_', '.', '@', '-'", param_hint="--source"
        )
    workspace, store = _open(ctx, workspace_dir)
    hasher = _hasher(workspace.settings.blacklist)
    now = datetime.now(UTC)
    with store:
        ids = import_file(
            store, path, fingerprint=hasher.fingerprint, source=source,
            today=now.date(), actor=_actor(), at=now,
        )  # fmt: skip
    out.print(f"{len(ids)} entries of {source} imported from {path}.", markup=False, soft_wrap=True)


def _change(
    ctx: typer.Context, id: int, status: EntryStatus, note: str | None, workspace_dir: Path | None
) -> None:
    _, store = _open(ctx, workspace_dir)
    with store:
        entry = change_status(store, id, status, actor=_actor(), at=datetime.now(UTC), note=note)
    out.print(f"Entry {entry.id} is now {entry.status.value}.", markup=False, soft_wrap=True)


@blacklist_app.command("dispute")
@reports_errors
def dispute_command(
    ctx: typer.Context,
    id: int = typer.Argument(..., help="Entry id (see 'crew blacklist list')."),
    note: str = typer.Option(..., "--note", help="Why it is disputed."),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Dispute an entry: it stops matching until reinstated."""
    _change(ctx, id, EntryStatus.DISPUTED, note, workspace_dir)


@blacklist_app.command("withdraw")
@reports_errors
def withdraw_command(
    ctx: typer.Context,
    id: int = typer.Argument(..., help="Entry id (see 'crew blacklist list')."),
    note: str = typer.Option(None, "--note", help="Why it is withdrawn.", show_default=False),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Withdraw an entry for good: it never matches again (the record stays)."""
    _change(ctx, id, EntryStatus.WITHDRAWN, note, workspace_dir)


@blacklist_app.command("reinstate")
@reports_errors
def reinstate_command(
    ctx: typer.Context,
    id: int = typer.Argument(..., help="Entry id (see 'crew blacklist list')."),
    note: str = typer.Option(None, "--note", help="Why the dispute failed.", show_default=False),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Make a disputed entry active again."""
    _change(ctx, id, EntryStatus.ACTIVE, note, workspace_dir)


@blacklist_app.command("fingerprint")
@reports_errors
def fingerprint_command(ctx: typer.Context, workspace_dir: Path = workspace_option()) -> None:
    """Print the shared key's fingerprint, to compare with partners (the key stays secret)."""
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    out.print(_hasher(workspace.settings.blacklist).fingerprint, markup=False, soft_wrap=True)


def _payload(entry: BlacklistEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "identifier_type": entry.identifier_type.value,
        "identifier_hash": entry.identifier_hash,
        "reason": entry.reason,
        "evidence": entry.evidence,
        "listed_on": entry.listed_on,
        "expires_on": entry.expires_on,
        "source": entry.source,
        "status": entry.status.value,
        "note": entry.note,
        "added_at": entry.added_at,
        "added_by": entry.added_by,
    }


__all__ = ["blacklist_app"]
