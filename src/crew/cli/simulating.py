"""`crew simulate`: write a realistic data set with ground truth, optionally import it."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import typer
from rich.table import Table as RichTable

from crew.cli._output import (
    console,
    emit_json,
    out,
    progress_bar,
    reports_errors,
    workspace_option,
    workspace_root,
)
from crew.cli.models import _days_option
from crew.errors import CrewError
from crew.ingest import Mapping, SourceSpec, import_sources
from crew.simulator import SimulationConfig, simulate
from crew.simulator.holdout import hold_out
from crew.store.workspace import init_workspace
from crew.types import Industry

SIMULATED_DIR = "simulated"


@reports_errors
def simulate_command(
    ctx: typer.Context,
    customers: int = typer.Option(10_000, "--customers", "-n", min=1, help="Number of customers."),
    months: int = typer.Option(24, "--months", min=1, max=120, help="Months of history."),
    industry: Industry = typer.Option(Industry.ECOMMERCE, "--industry", help="Industry profile."),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed gives the same data."),
    start: datetime = typer.Option(
        "2024-01-01", "--start", formats=["%Y-%m-%d"], help="First day of the simulated period."
    ),
    out_dir: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Folder for the files (default: <workspace>/simulated with "
        "--import, else ./simulated).",
        show_default=False,
    ),
    file_format: str = typer.Option("parquet", "--format", help="csv or parquet."),
    do_import: bool = typer.Option(
        False, "--import", help="Create the workspace (if needed) and import the data into it."
    ),
    hold_back: str = typer.Option(
        None,
        "--hold-out",
        help="Keep the last days (e.g. 14d) of transactions, interactions and events out of the "
        "files, in <out>-live/, for 'crew replay' to stream in later.",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Simulate customers, transactions, interactions, events and outcomes, with risk episodes.

    The five canonical tables are what a real company would have; `episodes` is the ground
    truth (who had which risk, when it began, how it ended), kept apart for evaluation.
    """
    if file_format not in ("csv", "parquet"):
        raise CrewError(f"Unknown --format '{file_format}'.", hint="Use csv or parquet.")
    if hold_back is not None and file_format != "parquet":
        raise CrewError("--hold-out needs --format parquet.")
    held_days = _days_option(hold_back, "--hold-out") if hold_back is not None else 0
    root = workspace_root(ctx, workspace_dir)
    target = out_dir or (root / SIMULATED_DIR if do_import else Path(SIMULATED_DIR))
    config = SimulationConfig(
        customers=customers,
        months=months,
        industry=industry,
        seed=seed,
        start=start.date() if isinstance(start, datetime) else date.fromisoformat(str(start)),
        file_format=file_format,
    )
    with progress_bar(not as_json) as bar:
        task = bar.add_task("simulating", total=customers)
        summary = simulate(
            config, out_dir=target, progress=lambda done, total: bar.update(task, completed=done)
        )
    payload: dict[str, object] = {
        "out": target,
        "rows": summary.rows,
        "period": {"start": summary.start, "end": summary.end},
    }
    if held_days:
        since = datetime.combine(summary.end, time(), tzinfo=UTC) - timedelta(days=held_days)
        live = target.parent / f"{target.name}-live"
        held = hold_out(target, since, live)
        payload["held_out"] = {"since": since, "folder": live, "rows": held}
    if do_import:
        workspace = init_workspace(root)
        mapping = Mapping(sources=[SourceSpec(path=str(target.resolve()))])
        with progress_bar(not as_json) as bar, workspace.connect() as conn:
            task = bar.add_task("importing", total=5 * 4)
            import_sources(
                conn, mapping, target, progress=lambda label, step: bar.update(task, advance=1)
            )
        # Ground truth goes beside the store, never into it: detectors cannot read it.
        workspace.ground_truth_dir.mkdir(exist_ok=True)
        episodes = summary.files["episodes"]
        shutil.copy2(episodes, workspace.ground_truth_dir / episodes.name)
        payload["workspace"] = workspace.root
    if as_json:
        emit_json(payload)
        return
    out.print(f"Simulated {industry.value} data, seed {seed}:")
    table = RichTable()
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    out.print(table)
    out.print(f"Period {summary.start:%Y-%m-%d} to {summary.end:%Y-%m-%d}; files in {target}.")
    if held_days:
        out.print(
            f"Held out {sum(held.values()):,} rows from {since:%Y-%m-%d} on in {live}: "
            "'crew replay' streams them in."
        )
    if do_import:
        console.print(f"Imported into workspace [bold]{root.resolve()}[/].")
