"""`crew playbooks` and `crew cases`: response rules, and the cases they open (处置工单)."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from crew.cli._output import emit_json, out, reports_errors, workspace_option, workspace_root
from crew.response.playbooks import PLAYBOOKS_FILE, load_playbooks
from crew.store.operational import OperationalStore, open_operational_store
from crew.store.workspace import open_workspace
from crew.types import CaseOutcome, CaseState

playbooks_app = typer.Typer(
    help="Response playbooks (应对策略): which case each warning opens, with owners and SLAs.",
    no_args_is_help=True,
)
cases_app = typer.Typer(
    help="Response cases (处置工单): work the steps, escalate overdue ones, record outcomes.",
    no_args_is_help=True,
)


def _root(ctx: typer.Context, workspace_dir: Path | None) -> Path:
    return workspace_root(ctx, workspace_dir)


def _store(ctx: typer.Context, workspace_dir: Path | None) -> OperationalStore:
    workspace = open_workspace(_root(ctx, workspace_dir))
    return open_operational_store(workspace, workspace.settings.store.operational_url)


def _actor() -> str:
    return os.environ.get("USER") or "cli"


@playbooks_app.command("list")
@reports_errors
def playbooks_list(
    ctx: typer.Context,
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the playbooks as JSON."),
) -> None:
    """The playbooks in force, in matching order (the first match wins)."""
    book = load_playbooks(_root(ctx, workspace_dir))
    if as_json:
        emit_json(book.model_dump(mode="json"))
        return
    table = RichTable(title="Playbooks (first match wins)")
    for column in ("name", "matches", "steps (team, deadline, channel)"):
        table.add_column(column, overflow="fold")
    for p in book.playbooks:
        m = p.match
        matches = "; ".join(
            f"{name}: {', '.join(v.value for v in values)}"
            for name, values in (("type", m.risk_types), ("level", m.levels),
                                 ("tier", m.tiers), ("profile", m.profiles))
            if values
        ) or "anything"  # fmt: skip
        steps = "\n".join(
            f"{i}. {s.action} — {book.teams[s.team].en} ({book.teams[s.team].zh}), "
            f"{s.sla_hours:g} h, {s.channel.value}"
            + (f", then {s.escalate_to}" if s.escalate_to else "")
            for i, s in enumerate(p.steps, start=1)
        )
        table.add_row(p.name, matches, steps)
    out.print(table)


@playbooks_app.command("validate")
@reports_errors
def playbooks_validate(
    ctx: typer.Context,
    workspace_dir: Path = workspace_option(),
) -> None:
    """Check the workspace's catalog/playbooks.yaml (fields, teams, actions)."""
    root = _root(ctx, workspace_dir)
    book = load_playbooks(root)
    where = root / PLAYBOOKS_FILE
    source = str(where) if where.exists() else "the built-in playbooks"
    out.print(f"{source}: {len(book.playbooks)} playbooks, {len(book.teams)} teams, valid.")


@cases_app.command("list")
@reports_errors
def cases_list(
    ctx: typer.Context,
    state: list[CaseState] = typer.Option(
        None,
        "--state",
        help="Only these states (default: open, in_progress, escalated).",
        show_default=False,
    ),
    team: str = typer.Option(None, "--team", help="Only this team's cases.", show_default=False),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the cases as JSON."),
) -> None:
    """Cases being worked, the oldest first."""
    with _store(ctx, workspace_dir) as store:
        records = store.cases.find(states=state or None, team=team, limit=limit)
    if as_json:
        emit_json({"cases": [dataclasses.asdict(r) for r in records]})
        return
    if not records:
        out.print("No cases match.")
        return
    table = RichTable(title="Cases")
    for column in ("case", "type", "level", "tier", "state", "owner", "next step", "due"):
        table.add_column(column, overflow="fold")
    for r in records:
        pending = [s for s in r.steps if s.done_at is None]
        step = pending[0] if pending else None
        table.add_row(
            escape(r.id), r.risk_type, r.level, r.tier, r.state.value, r.owner_team or "-",
            step.action if step else "-", f"{step.due_at:%Y-%m-%d %H:%M}" if step else "-",
        )  # fmt: skip
    out.print(table)


@cases_app.command("show")
@reports_errors
def cases_show(
    ctx: typer.Context,
    case: str = typer.Argument(..., help="Case id (see 'crew cases list')."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the case as JSON."),
) -> None:
    """One case: its steps with owners and deadlines, and every change with who and when."""
    with _store(ctx, workspace_dir) as store:
        record = store.cases.get(case)
    if as_json:
        emit_json(dataclasses.asdict(record))
        return
    subject = record.customer_id or f"segment {record.segment}"
    out.print(
        f"[bold]{escape(record.id)}[/]: {record.risk_type} ({record.level}) for "
        f"{escape(subject)}, {record.tier} customer, playbook {record.playbook}, "
        f"{record.state.value}" + (f", outcome {record.outcome.value}" if record.outcome else "")
    )
    if record.control:
        out.print("Control group: no action on purpose (measures the effect of actions).")
    for s in record.steps:
        status = f"done {s.done_at:%Y-%m-%d %H:%M} by {s.done_by}" if s.done_at else "open"
        late = " [red]escalated[/]" if s.escalated_at else ""
        out.print(
            f"  {s.position}. {s.action} — {s.team}, {s.channel}, due {s.due_at:%Y-%m-%d %H:%M}"
            f": {status}{late}\n     {escape(s.message_en)} / {escape(s.message_zh)}"
        )
    out.print("[bold]History[/]")
    for h in record.history:
        note = f" ({h['note']})" if h.get("note") else ""
        out.print(
            f"  {h['at']:%Y-%m-%d %H:%M} {h['actor']}: {h['field']} {h['old'] or '-'} → "
            f"{h['new']}{note}",
            markup=False,
        )


@cases_app.command("done")
@reports_errors
def cases_done(
    ctx: typer.Context,
    case: str = typer.Argument(..., help="Case id."),
    step: int = typer.Option(..., "--step", min=1, help="Step number (see 'crew cases show')."),
    note: str = typer.Option(None, "--note", help="What was done, for the history."),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Mark a step of a case done."""
    now = datetime.now(UTC)
    with _store(ctx, workspace_dir) as store:
        record = store.cases.complete_step(case, step, actor=_actor(), at=now, note=note,
                                           audit={"via": "cli"})  # fmt: skip
    out.print(f"{record.id}: step {step} done; case {record.state.value}.", markup=False)


@cases_app.command("close")
@reports_errors
def cases_close(
    ctx: typer.Context,
    case: str = typer.Argument(..., help="Case id."),
    outcome: CaseOutcome = typer.Option(..., "--outcome", help="What happened."),
    note: str = typer.Option(None, "--note", help="Why, for the history."),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Close a case with its outcome (retained, churned, fraud_confirmed, false_alarm, …)."""
    now = datetime.now(UTC)
    with _store(ctx, workspace_dir) as store:
        record = store.cases.close(case, outcome, actor=_actor(), at=now, note=note,
                                   audit={"via": "cli"})  # fmt: skip
    out.print(f"{record.id}: closed, {outcome.value}.", markup=False)


@cases_app.command("escalate")
@reports_errors
def cases_escalate(
    ctx: typer.Context,
    workspace_dir: Path = workspace_option(),
) -> None:
    """Escalate every step past its deadline to the next owner (run it from cron, or rely on
    `crew run`, which does it at each run)."""
    with _store(ctx, workspace_dir) as store:
        escalated = store.cases.escalate_overdue(datetime.now(UTC), actor=_actor())
    out.print(f"{len(escalated)} steps escalated.")


__all__ = ["cases_app", "playbooks_app"]
