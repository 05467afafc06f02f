"""`crew alerts`: list, show, acknowledge, resolve and assign stored warnings (预警)."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import typer
from rich.box import SIMPLE_HEAD
from rich.markup import escape
from rich.table import Table as RichTable

from crew.alerts.control import in_control_group
from crew.cli._output import emit_json, out, reports_errors, workspace_option, workspace_root
from crew.cli.models import _days_option
from crew.store.operational import (
    HistoryEntry,
    OperationalStore,
    WarningRecord,
    open_operational_store,
)
from crew.store.workspace import open_workspace
from crew.types import Level, RiskType, WarningState

alerts_app = typer.Typer(
    help="Stored warnings (预警): list and inspect them, acknowledge, resolve and assign them.",
    no_args_is_help=True,
)

_WIDE = 130  # columns from which `crew alerts list` also shows subject, type and first seen
_LEVEL_STYLE = {"high": "bold red", "medium": "dark_orange", "low": "yellow", "none": "green"}


class StateFilter(StrEnum):
    """Which states `crew alerts list` shows."""

    ACTIVE = "active"  # open, acknowledged and in_progress
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    FALSE_POSITIVE = "false_positive"
    ALL = "all"

    def states(self) -> list[WarningState]:
        """The warning states this filter stands for."""
        if self == StateFilter.ACTIVE:
            return [s for s in WarningState if s.is_active]
        if self == StateFilter.ALL:
            return list(WarningState)
        return [WarningState(self.value)]


def _open_store(ctx: typer.Context, workspace_dir: Path | None) -> OperationalStore:
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    return open_operational_store(workspace, workspace.settings.store.operational_url)


def _actor() -> str:
    """Who is acting, for the history: $USER, else 'cli'."""
    return os.environ.get("USER") or "cli"


@alerts_app.command("list")
@reports_errors
def list_command(
    ctx: typer.Context,
    level: list[Level] = typer.Option(
        None, "--level", help="Only this level (repeatable).", show_default=False
    ),
    risk_type: list[RiskType] = typer.Option(
        None, "--type", help="Only this risk type (repeatable).", show_default=False
    ),
    state: StateFilter = typer.Option(
        StateFilter.ACTIVE, "--state", help="active = open, acknowledged or in_progress."
    ),
    customer: str = typer.Option(
        None, "--customer", help="Only this customer's warnings.", show_default=False
    ),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many, newest first."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the warnings as JSON."),
) -> None:
    """List stored warnings, newest first (last seen, then level)."""
    with _open_store(ctx, workspace_dir) as store:
        records = store.list_warnings(
            states=state.states(),
            levels=level or None,
            risk_types=risk_type or None,
            customer_id=customer,
            limit=limit,
        )
    if as_json:
        emit_json({"warnings": [_payload(r) for r in records]})
        return
    if not records:
        out.print(
            f"No {state.value} warnings match." if state != StateFilter.ALL else "No warnings."
        )
        return
    _print_warnings(records, state)


def _print_warnings(records: list[WarningRecord], state: StateFilter) -> None:
    # The id already reads type-subject-day, so a narrow terminal drops those columns and
    # prints the reason under the id instead of in a column of its own.
    wide = out.width >= _WIDE
    names = ["id", "subject", "type", "level", "score", "first seen", "last seen", "state"]
    if not wide:
        names = [n for n in names if n not in ("subject", "type", "first seen")]
    table = RichTable(
        title=f"Warnings ({state.value}, newest first)",
        title_justify="left",
        box=SIMPLE_HEAD,
        leading=0 if wide else 1,
    )
    for name in names:
        table.add_column(name, no_wrap=name != "id", overflow="fold")
    table.columns[names.index("score")].justify = "right"
    if wide:
        table.add_column("top reason", overflow="fold", ratio=1)
    for r in records:
        reason = escape(top_reason(r))
        below = "" if wide or reason == "-" else f"\n[dim]{reason}[/]"
        cells = {
            "id": escape(r.id) + below,
            "subject": escape(r.subject),
            "type": r.risk_type.value,
            "level": _level(r.level),
            "score": f"{r.score:.2f}",
            "first seen": f"{r.first_seen:%Y-%m-%d}",
            "last seen": f"{r.last_seen:%Y-%m-%d}",
            "state": r.state.value,
        }
        table.add_row(*(cells[n] for n in names), *([reason] if wide else []))
    out.print(table)


@alerts_app.command("show")
@reports_errors
def show_command(
    ctx: typer.Context,
    warning: str = typer.Argument(..., help="Warning id (see 'crew alerts list')."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the warning as JSON."),
) -> None:
    """Everything about one warning: fields, evidence, reasons, signals and history."""
    with _open_store(ctx, workspace_dir) as store:
        record = store.get_warning(warning)
        history = store.history(warning)
    share = open_workspace(workspace_root(ctx, workspace_dir)).settings.response.control_share
    control = bool(record.customer_id) and bool(in_control_group([record.id], share)[0])
    if as_json:
        emit_json(
            {
                **_payload(record),
                "control_group": control,
                "history": [dataclasses.asdict(h) for h in history],
            }
        )
        return
    name, subject = escape(record.id), escape(record.subject)
    out.print(
        f"[bold]{name}[/]: {record.risk_type.value} warning for {subject}, "
        f"{_level(record.level)} (score {record.score:.3f}), {record.state.value}"
    )
    for field, value in (
        ("first seen", f"{record.first_seen:%Y-%m-%d %H:%M}"),
        ("last seen", f"{record.last_seen:%Y-%m-%d %H:%M}"),
        ("level since", f"{record.level_changed_at:%Y-%m-%d %H:%M}"),
        ("resolved at", _stamp(record.resolved_at)),
        ("cooldown until", _stamp(record.cooldown_until)),
        ("segment", record.segment or "-"),
        ("grouped under", record.parent_id or "-"),
        ("assignee", record.assignee or "-"),
        ("recommended action", record.recommended_action or "-"),
        ("control group", "yes: no action (measures the effect of actions)" if control else "no"),
        ("last run", record.run_id),
        ("signals", ", ".join(record.signals) or "-"),
    ):
        out.print(f"  {field:<19} {value}", markup=False)
    if record.reasons:
        out.print("[bold]Reasons[/]")
        for reason in record.reasons:
            out.print(f"  • {_sentence(reason)}", markup=False)
            if reason.get("zh") and reason["zh"] != _sentence(reason):
                out.print(f"    {reason['zh']}", markup=False)
    out.print("[bold]Evidence[/]")
    out.print(json.dumps(record.evidence, ensure_ascii=False, indent=2, default=str), markup=False)
    _print_history(history)


def _print_history(history: list[HistoryEntry]) -> None:
    table = RichTable(title="History", title_justify="left", box=SIMPLE_HEAD)
    for name in ("at", "actor", "field", "change", "note"):
        table.add_column(name)
    for h in history:
        change = (h.new_value or "") if h.old_value is None else f"{h.old_value} → {h.new_value}"
        cells = (h.actor, h.field, change, h.note or "")
        table.add_row(f"{h.at:%Y-%m-%d %H:%M}", *(escape(c) for c in cells))
    out.print(table)


@alerts_app.command("ack")
@reports_errors
def ack_command(
    ctx: typer.Context,
    warning: str = typer.Argument(..., help="Warning id (see 'crew alerts list')."),
    note: str = typer.Option(None, "--note", help="Why, for the history.", show_default=False),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Acknowledge an open warning: someone has seen it."""
    _move(ctx, workspace_dir, warning, WarningState.ACKNOWLEDGED, note)


@alerts_app.command("start")
@reports_errors
def start_command(
    ctx: typer.Context,
    warning: str = typer.Argument(..., help="Warning id (see 'crew alerts list')."),
    note: str = typer.Option(None, "--note", help="What is being done.", show_default=False),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Mark an acknowledged warning in progress: someone is acting on it."""
    _move(ctx, workspace_dir, warning, WarningState.IN_PROGRESS, note)


@alerts_app.command("resolve")
@reports_errors
def resolve_command(
    ctx: typer.Context,
    warning: str = typer.Argument(..., help="Warning id (see 'crew alerts list')."),
    false_positive: bool = typer.Option(
        False, "--false-positive", help="Close it as a false alarm rather than as resolved."
    ),
    cooldown: str = typer.Option(
        "28d", "--cooldown", help="No new warning of this type for the subject for this long."
    ),
    note: str = typer.Option(None, "--note", help="Why, for the history.", show_default=False),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Close an active warning as resolved (or as a false positive)."""
    state = WarningState.FALSE_POSITIVE if false_positive else WarningState.RESOLVED
    _move(ctx, workspace_dir, warning, state, note, cooldown=_days_option(cooldown, "--cooldown"))


def _move(
    ctx: typer.Context,
    workspace_dir: Path | None,
    warning: str,
    state: WarningState,
    note: str | None,
    *,
    cooldown: int = 0,
) -> None:
    now = datetime.now(UTC)
    until = now + timedelta(days=cooldown) if cooldown else None
    with _open_store(ctx, workspace_dir) as store:
        before = store.get_warning(warning)
        # Audited by the store in the same transaction as the change.
        after = store.set_state(warning, state, actor=_actor(), at=now, note=note,
                                cooldown_until=until, audit={"via": "cli"})  # fmt: skip
    out.print(f"{after.id}: {before.state.value} → {after.state.value}.", markup=False)


@alerts_app.command("assign")
@reports_errors
def assign_command(
    ctx: typer.Context,
    warning: str = typer.Argument(..., help="Warning id (see 'crew alerts list')."),
    user: str = typer.Argument(..., help="Who takes it on."),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Give a warning to someone (recorded in its history)."""
    now = datetime.now(UTC)
    with _open_store(ctx, workspace_dir) as store:
        record = store.assign(warning, user, actor=_actor(), at=now, audit={"via": "cli"})
    out.print(f"{record.id}: assigned to {record.assignee}.", markup=False)


def top_reason(record: WarningRecord) -> str:
    """The first reason's sentence, else a short summary of the evidence."""
    if record.reasons:
        return _sentence(record.reasons[0])
    items = list(record.evidence.items())[:3]
    return ", ".join(f"{k}={_short(v)}" for k, v in items) or "-"


def _sentence(reason: dict[str, object]) -> str:
    for key in ("sentence", "en", "zh"):
        if reason.get(key):
            return str(reason[key])
    return json.dumps(reason, ensure_ascii=False, default=str)


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _level(level: Level) -> str:
    return f"[{_LEVEL_STYLE[level.value]}]{level.value}[/]"


def _stamp(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _payload(record: WarningRecord) -> dict[str, object]:
    return {**dataclasses.asdict(record), "subject": record.subject}


__all__ = ["alerts_app", "top_reason"]
