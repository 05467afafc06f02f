"""`crew run`: the whole batch pipeline at one instant, or replayed over history."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import typer
from rich.table import Table as RichTable

from crew.cli._output import (
    console,
    emit_json,
    out,
    progress_bar,
    reports_errors,
    workspace_option,
)
from crew.cli._output import workspace_root as root_of
from crew.cli.indicators import utc
from crew.cli.models import _days_option
from crew.errors import CrewError
from crew.evaluation.episodes import EpisodeCheck, check_episodes
from crew.evaluation.outcomes import LOOKBACK_DAYS, OutcomeFigures, check_outcomes
from crew.indicators.catalog import load_catalog
from crew.ingest.landing import import_landed
from crew.models.registry import check_compatible, load_bundle
from crew.pipeline import RunResult, RunSetup, replay, schedule
from crew.response.blacklist import load_hasher
from crew.store.models import model_records
from crew.store.operational import OperationalStore, open_operational_store
from crew.store.workspace import Workspace, open_workspace
from crew.types import Industry

_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


@reports_errors
def run_command(
    ctx: typer.Context,
    as_of: datetime = typer.Option(
        None,
        "--as-of",
        formats=_FORMATS,
        help="Run once at this instant (UTC).",
        show_default=False,
    ),
    start: datetime = typer.Option(
        None, "--from", formats=_FORMATS, help="Replay: first instant.", show_default=False
    ),
    end: datetime = typer.Option(
        None,
        "--to",
        formats=_FORMATS,
        help="Replay: last instant (inclusive).",
        show_default=False,
    ),
    every: str = typer.Option("7d", "--every", help="Replay: time between runs (7d, 1d, 2w)."),
    profile: Industry = typer.Option(
        None,
        "--profile",
        help="Industry profile (default: the model's, else all signals).",
        show_default=False,
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Keep nothing: show what the rules would have raised."
    ),
    config: Path = typer.Option(
        None,
        "--config",
        help="Thresholds YAML to try instead of catalog/thresholds.yaml.",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Run indicators → models → signals → thresholds → warnings at --as-of, or replay
    --from/--to --every as a scheduler would have; each run reads only data before it."""
    instants = _instants(as_of, start, end, every)
    workspace = open_workspace(root_of(ctx, workspace_dir))
    setup = setup_for(workspace, profile, config)
    store = (
        OperationalStore.in_memory()
        if dry_run
        else open_operational_store(workspace, workspace.settings.store.operational_url)
    )
    results: list[RunResult] = []
    with store, workspace.connect() as conn, progress_bar(not as_json) as bar:
        landed = {} if dry_run else import_landed(conn, workspace.root)
        if landed and not as_json:
            out.print("Imported streamed events: " + ", ".join(
                f"{n:,} {t.value}" for t, n in landed.items()))  # fmt: skip
        task = bar.add_task("running", total=len(instants))
        results = replay(
            conn, store, setup, instants, dry_run=dry_run, root=workspace.root,
            on_run=lambda _: bar.update(task, advance=1),
        )  # fmt: skip
        check = _episode_check(workspace, store, conn, instants) if len(instants) > 1 else None
        _blacklist_notice(workspace, store, setup, instants[-1])
        foreseen = _outcome_check(store, conn, instants) if len(instants) > 1 else []
        open_now = len(store.active_warnings())
    if as_json:
        emit_json(
            {
                "runs": [
                    {"run_id": r.run_id, "as_of": r.as_of, "counts": r.counts,
                     "seconds": r.seconds}
                    for r in results
                ],
                "open_warnings": open_now,
                "dry_run": dry_run,
                "model": setup.model_version or None,
                "episodes": None if check is None else _check_json(check),
                "outcomes": [
                    {"kind": f.kind, "outcomes": f.outcomes, "warned": f.warned,
                     "missed": f.missed, "median_lead_days": f.median_lead_days}
                    for f in foreseen
                ],
            }
        )  # fmt: skip
        return
    _print_runs(results, dry_run, setup)
    tail = " (dry run: nothing kept)" if dry_run else ". 'crew alerts list' shows them."
    out.print(f"Open warnings now: [bold]{open_now}[/]{tail}")
    if foreseen:
        _print_outcomes(foreseen)
    if check is not None:
        print_episode_check(check)


def _instants(
    as_of: datetime | None, start: datetime | None, end: datetime | None, every: str
) -> list[datetime]:
    if as_of is not None and (start or end):
        raise CrewError("Give either --as-of, or --from and --to, not both.")
    if as_of is not None:
        return [utc(as_of)]
    if start is None or end is None:
        raise CrewError(
            "Say when to run: --as-of DATE, or --from D1 --to D2 [--every 7d].",
            hint="Example: crew run --from 2025-01-05 --to 2025-06-29 --every 7d",
        )
    if end < start:
        raise CrewError(f"--to ({end:%Y-%m-%d}) is before --from ({start:%Y-%m-%d}).")
    step = timedelta(days=_days_option(every, "--every"))
    if step <= timedelta(0):
        raise CrewError(f"--every '{every}' must be at least one day.")
    return schedule(utc(start), utc(end), step)


def setup_for(workspace: Workspace, profile: Industry | None, config: Path | None) -> RunSetup:
    with workspace.connect() as conn:
        has_model = bool(model_records(conn))
    bundle, version = None, 0
    if has_model:
        bundle, record = load_bundle(workspace)
        check_compatible(bundle, load_catalog(workspace.root), record.version)
        version = record.version
        if profile is None and bundle.profile != "all":
            profile = Industry(bundle.profile)
    else:
        console.print(
            "[yellow]No churn model registered: the model signal is skipped "
            "('crew train' adds it).[/]"
        )
    return RunSetup.load(
        workspace.root, profile, bundle, model_version=version, thresholds_path=config,
        control_share=workspace.settings.response.control_share,
        blacklist=load_hasher(workspace.settings.blacklist, os.environ),
    )  # fmt: skip


def _blacklist_notice(
    workspace: Workspace, store: OperationalStore, setup: RunSetup, at: datetime
) -> None:
    """One line when blacklist entries exist but no key is set to match them."""
    if setup.blacklist is None and store.blacklist.in_force(at.date()):
        key_env = workspace.settings.blacklist.key_env
        console.print(f"Shared blacklist not matched: {key_env} is not set.", markup=False)


def _episode_check(
    workspace: Workspace,
    store: OperationalStore,
    conn: duckdb.DuckDBPyConnection,
    instants: list[datetime],
) -> EpisodeCheck | None:
    """Only the CLI and the evaluation may read the simulator's ground truth."""
    path = workspace.ground_truth_dir / "episodes.parquet"
    if not path.exists():
        return None
    episodes = pd.read_parquet(path)
    outcomes = conn.sql("SELECT customer_id, kind, ts FROM outcomes").df()
    customers = conn.sql("SELECT count(*) FROM customers").fetchall()[0]
    warnings = store.warnings_frame()
    return check_episodes(
        warnings, episodes, outcomes, start=instants[0], end=instants[-1],
        customers=int(customers[0]),
    )  # fmt: skip


def _outcome_check(
    store: OperationalStore, conn: duckdb.DuckDBPyConnection, instants: list[datetime]
) -> list[OutcomeFigures]:
    outcomes = conn.sql("SELECT customer_id, kind, ts FROM outcomes").df()
    if outcomes.empty:
        return []
    # Outcomes up to a horizon after the last run are still ones it could have foreseen.
    end = instants[-1] + timedelta(days=LOOKBACK_DAYS)
    return check_outcomes(store.warnings_frame(), outcomes, start=instants[0], end=end)


def _print_outcomes(figures: list[OutcomeFigures]) -> None:
    table = RichTable(title="Outcomes foreseen (a matching warning up to 90 days before)")
    for column in ("outcome", "outcomes", "warned", "missed", "median lead (days)"):
        table.add_column(column, justify="left" if column == "outcome" else "right")
    for f in figures:
        table.add_row(
            f.kind, str(f.outcomes), str(f.warned), str(f.missed),
            "" if f.median_lead_days is None else f"{f.median_lead_days:.0f}",
        )  # fmt: skip
    out.print(table)


def _print_runs(results: list[RunResult], dry_run: bool, setup: RunSetup) -> None:
    table = RichTable(title="Runs" + (" (dry run)" if dry_run else ""))
    table.add_column("as of", no_wrap=True, min_width=10)
    for column in ("opened", "high", "med", "low", "escal.", "resolved", "cooling", "sec"):
        table.add_column(column, justify="right")
    for r in results:
        c = r.counts
        table.add_row(
            f"{r.as_of:%Y-%m-%d}", str(c["opened"]), str(c["opened_high"]),
            str(c["opened_medium"]), str(c["opened_low"]), str(c["escalated"]),
            str(c["resolved"]), str(c["held_in_cooldown"]), f"{sum(r.seconds.values()):.1f}",
        )  # fmt: skip
    out.print(table)


def print_episode_check(check: EpisodeCheck) -> None:
    """The replay's figures against the simulator's ground truth."""
    table = RichTable(title="Against the ground-truth episodes")
    for column in ("episode type", "episodes", "caught", "recall", "median lead (days)"):
        table.add_column(column, justify="left" if column == "episode type" else "right")
    for f in check.by_type:
        table.add_row(
            f.risk_type, str(f.episodes), str(f.caught),
            "" if f.recall is None else f"{f.recall:.2f}",
            "" if f.median_lead_days is None else f"{f.median_lead_days:.0f}",
        )  # fmt: skip
    out.print(table)
    out.print(
        f"False alarms: {check.false_alarms} of {check.customer_warnings} customer warnings = "
        f"[bold]{check.false_alarms_per_1000_per_week:.2f}[/] per 1,000 customers per week"
    )
    shock = check.shock_found_after_days
    out.print(
        "External shock: "
        + ("not found" if shock is None else f"segment warning {shock:.0f} days after onset")
    )


def _check_json(check: EpisodeCheck) -> dict[str, object]:
    return {
        "by_type": [
            {"risk_type": f.risk_type, "episodes": f.episodes, "caught": f.caught,
             "recall": f.recall, "median_lead_days": f.median_lead_days}
            for f in check.by_type
        ],
        "false_alarms": check.false_alarms,
        "customer_warnings": check.customer_warnings,
        "false_alarms_per_1000_per_week": round(check.false_alarms_per_1000_per_week, 3),
        "shock_found_after_days": check.shock_found_after_days,
    }  # fmt: skip


__all__ = ["print_episode_check", "run_command", "setup_for"]
