"""`crew indicators`: the catalog as a tree, point-in-time computation, the reference page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer
from rich.table import Table as RichTable
from rich.tree import Tree

from crew.cli._output import (
    emit_json,
    out,
    progress_bar,
    reports_errors,
    workspace_option,
    workspace_root,
)
from crew.errors import CrewError
from crew.indicators.catalog import Direction, load_catalog
from crew.indicators.compute import Engine, compute_indicators
from crew.indicators.reference import render_catalog_reference
from crew.store.workspace import open_workspace
from crew.types import Industry

indicators_app = typer.Typer(
    help="The indicator system (风险识别指标体系): list, compute, document.",
    no_args_is_help=True,
)

_ARROW = {
    Direction.HIGHER_IS_RISKIER: "↑ risk",
    Direction.LOWER_IS_RISKIER: "↓ risk",
    Direction.NEUTRAL: "·",
}


def as_of_option() -> datetime:
    """`--as-of`: a day (midnight UTC) or a UTC date and time."""
    return typer.Option(  # type: ignore[no-any-return]
        ...,
        "--as-of",
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        help="Instant (UTC) to compute at; only data strictly before it is read.",
    )


def utc(value: datetime) -> datetime:
    """A naive CLI datetime read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _catalog_root(ctx: typer.Context, workspace_dir: Path | None) -> Path | None:
    root = workspace_root(ctx, workspace_dir)
    return root if (root / "crew.toml").exists() else None


@indicators_app.command("list")
@reports_errors
def list_command(
    ctx: typer.Context,
    profile: Industry = typer.Option(
        None,
        "--profile",
        help="Only the indicators of this industry profile.",
        show_default=False,
    ),
    helpers: bool = typer.Option(False, "--helpers", help="Also show helper indicators."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the catalog as JSON."),
) -> None:
    """Show the catalog as a tree: dimension -> indicator, with window, direction and formula."""
    catalog = load_catalog(_catalog_root(ctx, workspace_dir))
    shown = [i for i in catalog.indicators if i.used_by(profile) and (i.output or helpers)]
    if as_json:
        emit_json(
            {
                "dimensions": {k: v.model_dump() for k, v in catalog.dimensions.items()},
                "indicators": [i.model_dump(mode="json", exclude_none=True) for i in shown],
            }
        )
        return
    title = f"Indicator catalog ({len(shown)} indicators" + (
        f", profile {profile.value})" if profile else ")"
    )
    tree = Tree(f"[bold]{title}[/]")
    for dim, label in catalog.dimensions.items():
        members = [i for i in shown if i.dimension == dim]
        if not members:
            continue
        branch = tree.add(f"[bold cyan]{label.en}[/] {label.zh} [dim]({dim})[/]")
        for ind in members:
            window = ind.window or "formula"
            if ind.offset:
                window += f" ending {ind.offset} before"
            profiles = ",".join(p.value for p in ind.profiles) if ind.profiles else "all"
            helper = " [dim](helper)[/]" if not ind.output else ""
            leaf = branch.add(
                f"[bold]{ind.id}[/]{helper}  {ind.label.en} / {ind.label.zh}  "
                f"[yellow]{_ARROW[ind.direction]}[/]  {ind.unit}  [dim]{window}; "
                f"profiles: {profiles}[/]"
            )
            leaf.add(f"[dim]{ind.formula()}[/]")
    out.print(tree)


@indicators_app.command("compute")
@reports_errors
def compute_command(
    ctx: typer.Context,
    as_of: datetime = as_of_option(),
    profile: Industry = typer.Option(
        None,
        "--profile",
        help="Compute the indicators of this industry profile only.",
        show_default=False,
    ),
    engine: Engine = typer.Option(Engine.DUCKDB, "--engine", help="duckdb or spark."),
    out_file: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Also write the values to a .parquet or .csv file.",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Compute every indicator for every customer at --as-of, from data strictly before it."""
    if out_file is not None and out_file.suffix.lower() not in (".parquet", ".csv"):
        raise CrewError(f"Cannot write {out_file}: unknown type.", hint="Use .parquet or .csv.")
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    catalog = load_catalog(workspace.root)
    instant = utc(as_of)
    with progress_bar(not as_json) as bar:
        task = bar.add_task("compiling", total=100)

        def advance(step: str, share: float) -> None:
            bar.update(task, completed=share * 100, description=step)

        run = compute_indicators(
            workspace, catalog, instant, profile=profile, engine=engine, progress=advance
        )
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        if out_file.suffix.lower() == ".parquet":
            pq.write_table(run.values, out_file)
        else:
            pacsv.write_csv(run.values, out_file)
    summary = {
        "as_of": instant,
        "profile": run.profile,
        "engine": run.engine.value,
        "customers": run.values.num_rows,
        "indicators": len(run.indicators),
        "seconds": round(run.seconds, 3),
        "out": out_file,
    }
    if as_json:
        emit_json(summary)
        return
    table = RichTable(title=f"Indicators at {instant:%Y-%m-%d %H:%M} UTC", title_justify="left")
    for name in ("indicator", "filled", "mean", "min", "max"):
        table.add_column(name, justify="left" if name == "indicator" else "right")
    frame = run.values.to_pandas()
    for name in run.indicators:
        col = frame[name]
        table.add_row(
            name,
            f"{col.notna().mean():.0%}",
            f"{col.mean():,.3g}",
            f"{col.min():,.3g}",
            f"{col.max():,.3g}",
        )
    out.print(table)
    out.print(
        f"{run.values.num_rows:,} customers x {len(run.indicators)} indicators on "
        f"{run.engine.value} in {run.seconds:.2f} s (profile {run.profile}); stored in the "
        "workspace" + (f" and written to {out_file}." if out_file else ".")
    )


@indicators_app.command("docs")
@reports_errors
def docs_command(
    ctx: typer.Context,
    out_file: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Write the page here instead of printing it.",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Write the catalog's reference page (docs/indicators.md) from the definitions."""
    text = render_catalog_reference(load_catalog(_catalog_root(ctx, workspace_dir)))
    if out_file is None:
        typer.echo(text, nl=False)
        return
    out_file.write_text(text, encoding="utf-8")
    out.print(f"Wrote {out_file}.")
