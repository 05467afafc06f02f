"""`crew notify`: send pending notifications to the webhooks once; see where they stand.

`crew serve` does the same in the background every `notify.interval_s` seconds; this command
is for cron, for a store without a running server, and for checking on deliveries.
"""

from __future__ import annotations

import dataclasses
import logging
from enum import StrEnum
from pathlib import Path

import typer
from rich.box import SIMPLE_HEAD
from rich.markup import escape
from rich.table import Table as RichTable

from crew.cli._output import (
    console,
    emit_json,
    out,
    reports_errors,
    workspace_option,
    workspace_root,
)
from crew.cli.serving import _config_option, _settings
from crew.config import Settings
from crew.response.notifiers import webhook_dispatcher
from crew.store.operational import OperationalStore, open_operational_store
from crew.store.outbox import Notification
from crew.store.workspace import open_workspace
from crew.types import NotificationStatus

notify_app = typer.Typer(
    help="Notifications of warning changes: send them to the webhooks, see where they stand.",
)


class StatusFilter(StrEnum):
    """Which notifications `crew notify list` shows."""

    ALL = "all"
    PENDING = "pending"
    ROUTED = "routed"
    SUPPRESSED = "suppressed"


def _open(ctx: typer.Context, workspace_dir: Path | None, config: Path | None) -> Settings:
    root = workspace_root(ctx, workspace_dir)
    return _settings(root, config) if config is not None else open_workspace(root).settings


def _store(ctx: typer.Context, workspace_dir: Path | None, settings: Settings) -> OperationalStore:
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    return open_operational_store(workspace, settings.store.operational_url)


@notify_app.callback(invoke_without_command=True)
@reports_errors
def notify_command(
    ctx: typer.Context,
    config: Path = _config_option(),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what was done as JSON."),
) -> None:
    """Route every pending notification and send the deliveries that are due, once.

    Failed deliveries wait (doubling, with jitter) for a later run or for 'crew serve';
    after a webhook's max_attempts they are dead: 'crew notify status' counts them.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = _open(ctx, workspace_dir, config)
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    with _store(ctx, workspace_dir, settings) as store:
        dispatcher = webhook_dispatcher(store, settings)
        try:
            report = dispatcher.drain()
        finally:
            dispatcher.close()
    if as_json:
        emit_json(dataclasses.asdict(report))
        return
    if not settings.webhooks:
        console.print(
            "No [[webhooks]] in the settings: notifications are kept, not sent.", markup=False
        )
    out.print(
        f"{report.routed} routed, {report.suppressed} suppressed; deliveries: {report.sent} "
        f"sent, {report.retrying} to retry, {report.dead} dead.",
        markup=False,
    )


@notify_app.command("status")
@reports_errors
def status_command(
    ctx: typer.Context,
    config: Path = _config_option(),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Count notifications (pending, routed, suppressed by reason) and deliveries per webhook."""
    settings = _open(ctx, workspace_dir, config)
    with _store(ctx, workspace_dir, settings) as store:
        counts = store.outbox.counts()
    if as_json:
        emit_json(counts)
        return
    table = RichTable(title="Notifications", title_justify="left", box=SIMPLE_HEAD)
    for column in ("what", "pending", "sent / routed", "dead / suppressed"):
        table.add_column(column, justify="left" if column == "what" else "right")
    n = counts.pop("notifications")
    table.add_row(
        "outbox",
        str(n.get("pending", 0)),
        str(n.get("routed", 0)),
        str(n.get("suppressed", 0)),
    )
    suppressed = counts.pop("suppressed")
    for name, states in sorted(counts.items()):
        table.add_row(
            escape(name),
            str(states.get("pending", 0)),
            str(states.get("sent", 0)),
            str(states.get("dead", 0)),
        )
    out.print(table)
    if suppressed:
        why = ", ".join(f"{reason} {count}" for reason, count in sorted(suppressed.items()))
        out.print(f"Suppressed: {why}.", markup=False)


@notify_app.command("list")
@reports_errors
def list_command(
    ctx: typer.Context,
    status: StatusFilter = typer.Option(StatusFilter.ALL, "--status", help="Only these."),
    warning: str = typer.Option(
        None, "--warning", help="Only this warning's notifications.", show_default=False
    ),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many, newest first."),
    config: Path = _config_option(),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the notifications as JSON."),
) -> None:
    """List notifications, newest first, with why each one was not sent."""
    settings = _open(ctx, workspace_dir, config)
    with _store(ctx, workspace_dir, settings) as store:
        if warning is not None:
            rows = store.outbox.of_warning(warning)[::-1][:limit]
        else:
            wanted = None if status == StatusFilter.ALL else NotificationStatus(status.value)
            rows = store.outbox.listing(status=wanted, limit=limit)
        deliveries = {n.id: store.outbox.deliveries(outbox_id=n.id) for n in rows}
    if as_json:
        emit_json(
            {
                "notifications": [
                    {
                        **_payload(n),
                        "deliveries": [dataclasses.asdict(d) for d in deliveries[n.id]],
                    }
                    for n in rows
                ]
            }
        )
        return
    if not rows:
        out.print("No notifications.")
        return
    table = RichTable(title="Notifications (newest first)", title_justify="left", box=SIMPLE_HEAD)
    for column in ("id", "warning", "event", "level", "status", "why / deliveries"):
        table.add_column(column, overflow="fold")
    for n in rows:
        if n.reason is not None:
            why = f"{n.reason.value}: {n.reason_detail or ''}"
        else:
            why = ", ".join(f"{d.webhook} {d.state.value} ({d.attempts})" for d in deliveries[n.id])
        table.add_row(
            str(n.id),
            escape(n.warning_id),
            n.event.value,
            n.level.value,
            n.status.value,
            escape(why or "-"),
        )
    out.print(table)


def _payload(n: Notification) -> dict[str, object]:
    return {
        **n.payload(),
        "status": n.status.value,
        "reason": n.reason.value if n.reason else None,
        "reason_detail": n.reason_detail,
    }


__all__ = ["notify_app"]
