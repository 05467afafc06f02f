"""`crew backtest` and `crew report`: how good were the warnings, in figures and charts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.table import Table as RichTable

from crew.cli._output import (
    emit_json,
    out,
    progress_bar,
    reports_errors,
    workspace_option,
)
from crew.cli._output import workspace_root as root_of
from crew.cli.models import _days_option
from crew.cli.run import _FORMATS, _instants, setup_for
from crew.errors import CrewError
from crew.evaluation.backtest import run_backtest
from crew.evaluation.report import write_report
from crew.evaluation.summary import Context, summarize
from crew.store.models import model_records
from crew.store.operational import open_operational_store
from crew.store.workspace import Workspace, open_workspace
from crew.types import Industry

SUMMARY_FILE = "reports/backtest.json"
"""Where `crew backtest` keeps its latest summary for `crew report`, in the workspace."""


@reports_errors
def backtest_command(
    ctx: typer.Context,
    start: datetime = typer.Option(
        ..., "--from", formats=_FORMATS, help="First run (UTC).", show_default=False
    ),
    end: datetime = typer.Option(
        ..., "--to", formats=_FORMATS, help="Last run (inclusive).", show_default=False
    ),
    every: str = typer.Option("7d", "--every", help="Time between runs (7d, 1d, 2w)."),
    horizon: str = typer.Option(
        "90d", "--horizon", help="How long after a run its outcomes count (labels)."
    ),
    profile: Industry = typer.Option(
        None, "--profile", help="Industry profile (default: the model's).", show_default=False
    ),
    config: Path = typer.Option(
        None,
        "--config",
        help="Thresholds YAML to try instead of the workspace's.",
        show_default=False,
    ),
    control_share: float = typer.Option(
        None,
        "--control-share",
        min=0.0,
        max=0.5,
        help="Share of warnings in the no-action control group (default: crew.toml's "
        "response.control_share, 0.1).",
        show_default=False,
    ),
    report: Path = typer.Option(
        None, "--report", help="Also write the HTML report here.", show_default=False
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Replay the pipeline over history (nothing is kept) and measure the warnings against
    what really happened: ranking, timeliness, calibration, drift, effect of actions."""
    instants = _instants(None, start, end, every)
    if len(instants) < 2:
        raise CrewError("A backtest needs at least two runs: widen --from/--to or shorten --every.")
    days = _days_option(horizon, "--horizon")
    workspace = open_workspace(root_of(ctx, workspace_dir))
    setup = setup_for(workspace, profile, config)
    with workspace.connect() as conn, progress_bar(not as_json) as bar:
        task = bar.add_task("replaying", total=len(instants))
        bt = run_backtest(
            conn, setup, instants, horizon=timedelta(days=days), root=workspace.root,
            on_run=lambda _: bar.update(task, advance=1),
        )  # fmt: skip
        record = model_records(conn)[0] if setup.bundle is not None else None
    stored_warnings, cases = _stored(workspace)
    ctx_ = Context(
        every_days=(instants[1] - instants[0]).total_seconds() / 86400,
        model_version=record.version if record else None,
        model_as_of=record.as_of if record else None,
        indicator_labels={i.id: (i.label.en, i.label.zh) for i in setup.catalog.indicators},
        directions={i.id: i.direction.value for i in setup.catalog.indicators},
        stored_warnings=stored_warnings,
        cases=cases,
        episodes=_episodes(workspace),
        segment_level=frozenset(
            i.id for i in setup.catalog.indicators if i.dimension == "external"
        ),
        control_share=(
            workspace.settings.response.control_share if control_share is None else control_share
        ),
    )
    summary = summarize(bt, ctx_)
    path = workspace.root / SUMMARY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    written = write_report(summary, report) if report is not None else []
    if as_json:
        emit_json(summary)
        return
    print_summary(summary)
    out.print(f"Summary: {path}")
    for file in written:
        out.print(f"Report: {file}")


@reports_errors
def report_command(
    ctx: typer.Context,
    out_path: Path = typer.Option(
        Path("report.html"), "--out", "-o", help="HTML file to write (JSON beside it)."
    ),
    pdf: bool = typer.Option(False, "--pdf", help="Also print it to PDF (needs Chromium)."),
    summary_path: Path = typer.Option(
        None,
        "--summary",
        help="Backtest summary to report (default: the workspace's latest).",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
) -> None:
    """Write the effectiveness report of the latest `crew backtest`: a self-contained HTML
    page with its charts (no internet needed), the JSON summary next to it, optionally a PDF."""
    if summary_path is None:
        summary_path = open_workspace(root_of(ctx, workspace_dir)).root / SUMMARY_FILE
        if not summary_path.exists():
            raise CrewError(
                "No backtest yet in this workspace.",
                hint="Run 'crew backtest --from D1 --to D2' first.",
            )
    summary = _read_summary(summary_path)
    for file in write_report(summary, out_path, pdf=pdf):
        out.print(f"Wrote {file}")


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CrewError(f"No backtest summary at {path}.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CrewError(
            f"{path} is not a backtest summary (not JSON: {exc}).",
            hint="Give the summary.json 'crew backtest' wrote, or run it again.",
        ) from exc
    missing = [k for k in ("meta", "discrimination", "timeliness", "drift") if k not in summary]
    if missing:
        raise CrewError(
            f"{path} is not a backtest summary: no {', '.join(missing)}.",
            hint="Give the summary 'crew backtest' wrote, or run it again.",
        )
    return summary


def _stored(workspace: Workspace) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The workspace's own warnings (from `crew run`) and cases, for the effect of actions."""
    with open_operational_store(workspace, workspace.settings.store.operational_url) as store:
        frame = store.warnings_frame()
        table = store.cases.outcome_table()
    return (frame if len(frame) else None), (table if len(table) else None)


def _episodes(workspace: Workspace) -> pd.DataFrame | None:
    """Only the CLI and the evaluation may read the simulator's ground truth."""
    path = workspace.ground_truth_dir / "episodes.parquet"
    return pd.read_parquet(path) if path.exists() else None


def print_summary(summary: dict[str, Any]) -> None:
    """The headline figures of a backtest, as tables."""
    scores = summary["scores"]
    if scores:
        table = RichTable(title="Churn: every score side by side (judged runs)")
        for column in ("score", "ROC AUC", "PR AUC", "KS", "lift@10%"):
            table.add_column(column, justify="left" if column == "score" else "right")
        for s in scores:
            table.add_row(s["name"], f"{s['roc_auc']:.3f}", f"{s['pr_auc']:.3f}",
                          f"{s['ks']:.3f}", f"{s['top_decile_lift']:.2f}")  # fmt: skip
        out.print(table)
    table = RichTable(title="Outcomes warned, and how early")
    for column in ("outcome", "outcomes", "warned", "missed", "median lead (days)"):
        table.add_column(column, justify="left" if column == "outcome" else "right")
    for r in summary["timeliness"]["by_kind"]:
        median = r["lead"]["median"]
        table.add_row(r["kind"], str(r["outcomes"]), str(r["warned"]), str(r["missed"]),
                      "" if median is None else f"{median:.0f}")  # fmt: skip
    out.print(table)
    t = summary["timeliness"]
    out.print(
        f"False alarms: {t['false_alarms']} of {t['judged_warnings']} judged warnings = "
        f"[bold]{t['false_alarms_per_1000_per_week']:.2f}[/] per 1,000 customers per week"
    )
    flagged = summary["drift"]["flagged"]
    if flagged:
        out.print(f"[yellow]Drift (PSI ≥ 0.1): {', '.join(flagged)}[/]")
    if summary["meta"]["model_saw_the_period"]:
        out.print("[yellow]The churn model learnt from outcomes inside this period: its figures "
                  "are optimistic (train with an earlier --as-of).[/]")  # fmt: skip


__all__ = ["backtest_command", "print_summary", "report_command"]
