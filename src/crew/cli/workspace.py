"""`crew init` and `crew status`: create a workspace and see what it holds."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table as RichTable

from crew.cli._output import emit_json, out, reports_errors, workspace_option, workspace_root
from crew.store.summary import WorkspaceSummary, summarize_workspace
from crew.store.workspace import init_workspace, open_workspace


@reports_errors
def init_command(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        None,
        help="Folder to make a workspace (default: --workspace or the current folder).",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Create a workspace: crew.toml plus an embedded DuckDB store with the canonical tables."""
    root = directory if directory is not None else workspace_root(ctx, workspace_dir)
    workspace = init_workspace(root)
    if as_json:
        emit_json({"workspace": workspace.root, "store": workspace.duckdb_path})
        return
    out.print(f"Workspace ready in [bold]{workspace.root}[/]")
    out.print(f"  settings  {workspace.root / 'crew.toml'}")
    out.print(f"  store     {workspace.duckdb_path}")
    out.print("Next: [bold]crew import FILES[/] or [bold]crew simulate --import[/].")


@reports_errors
def status_command(
    ctx: typer.Context,
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Show table counts, date ranges and a data-quality summary of the workspace."""
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    with workspace.connect() as conn:
        summary = summarize_workspace(conn)
    if as_json:
        emit_json({"workspace": workspace.root, **summary.as_dict()})
        return
    render_summary(summary, str(workspace.root))


def render_summary(summary: WorkspaceSummary, title: str) -> None:
    """Tables, outcomes and findings as Rich tables on stderr."""
    table = RichTable(title=f"Workspace {title}", title_justify="left")
    for name in ("table", "rows", "customers", "from", "to"):
        table.add_column(name, justify="right" if name in ("rows", "customers") else "left")
    sparse_lines = []
    for t in summary.tables:
        table.add_row(
            t.table,
            f"{t.rows:,}",
            f"{t.customers:,}",
            t.first_ts.strftime("%Y-%m-%d") if t.first_ts else "-",
            t.last_ts.strftime("%Y-%m-%d") if t.last_ts else "-",
        )
        sparse = ", ".join(f"{c} {s:.0%}" for c, s in t.null_share.items() if s >= 0.5)
        if sparse:
            sparse_lines.append(f"  {t.table}: {sparse}")
    out.print(table)
    if sparse_lines:
        out.print("Mostly empty columns (share of rows without a value):")
        for line in sparse_lines:
            out.print(line)
    outcomes = ", ".join(f"{k} {v:,}" for k, v in summary.outcomes_by_kind.items()) or "none"
    out.print(
        f"Outcomes: {outcomes}.  Customer attributes: {summary.attributes}.  "
        f"Imports: {summary.imports}."
    )
    quality = RichTable(title="Data quality", title_justify="left")
    quality.add_column("check")
    quality.add_column("rows", justify="right")
    quality.add_column("meaning")
    for f in summary.findings:
        style = "yellow" if f.count else "green"
        quality.add_row(f.check, f"[{style}]{f.count:,}[/]", f.detail)
    out.print(quality)
