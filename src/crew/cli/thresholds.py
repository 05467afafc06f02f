"""`crew thresholds show|calibrate|suggest`: the trigger thresholds and where they come from."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import typer
import yaml
from rich.table import Table as RichTable

from crew.cli._output import emit_json, out, progress_bar, reports_errors, workspace_option
from crew.cli._output import workspace_root as root_of
from crew.cli.indicators import as_of_option, utc
from crew.cli.models import _days_option
from crew.cli.run import setup_for
from crew.errors import CrewError, InsufficientDataError
from crew.grading.calibration import (
    false_alarm_threshold,
    level_cutoffs,
    rate_text,
    target_rate_for,
    years_per_alarm,
)
from crew.grading.thresholds import LEVELS, Method, ThresholdRule
from crew.pipeline import RunSetup, schedule, score_signals
from crew.store.workspace import open_workspace
from crew.types import Industry

thresholds_app = typer.Typer(
    help="Trigger thresholds (风险触发阈值): show, calibrate to a false-alarm budget, "
    "suggest capacity- and value-optimised cut-offs.",
    no_args_is_help=True,
)

_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


@thresholds_app.command("show")
@reports_errors
def show_command(
    ctx: typer.Context,
    profile: Industry = typer.Option(
        None, "--profile", help="Industry profile (default: all rules).", show_default=False
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the rules as JSON."),
) -> None:
    """The rules in force: built-ins with the workspace's catalog/thresholds.yaml applied."""
    workspace = open_workspace(root_of(ctx, workspace_dir))
    setup = RunSetup.load(workspace.root, profile, None)
    risk = {s.name: s.risk_type.value for s in setup.specs}
    if as_json:
        emit_json([r.model_dump(mode="json") for r in setup.rules.values()])
        return
    table = RichTable(title="Trigger thresholds")
    for column in ("signal", "risk type", "method", "low", "medium", "high", "exit x",
                   "cooldown d"):  # fmt: skip
        table.add_column(column)
    for rule in setup.rules.values():
        table.add_row(
            rule.signal, risk.get(rule.signal, "-"), rule.method.value,
            *[_limit(v) for v in rule.limits], f"{rule.exit_factor:g}", str(rule.cooldown_days),
        )  # fmt: skip
    out.print(table)


@thresholds_app.command("calibrate")
@reports_errors
def calibrate_command(
    ctx: typer.Context,
    start: datetime = typer.Option(..., "--from", formats=_FORMATS, help="First instant."),
    end: datetime = typer.Option(..., "--to", formats=_FORMATS, help="Last instant."),
    every: str = typer.Option("7d", "--every", help="Time between runs."),
    years: float = typer.Option(
        5.0, "--years", help="Budget: one false warning per customer per this many years."
    ),
    horizon: str = typer.Option(
        "90d",
        "--horizon",
        help="A customer-run counts as 'no outcome' when nothing follows within this long.",
    ),
    out_file: Path = typer.Option(
        None, "--out", help="Write the calibrated rules to this YAML file.", show_default=False
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Set each signal's LOW limit so that customers with no outcome get at most the budgeted
    false warnings, from the history of --from..--to (误报预算)."""
    workspace = open_workspace(root_of(ctx, workspace_dir))
    step = timedelta(days=_days_option(every, "--every"))
    ahead = timedelta(days=_days_option(horizon, "--horizon"))
    instants = schedule(utc(start), utc(end), step)
    setup = setup_for(workspace, None, None)
    per_year = 365.25 / (step.total_seconds() / 86400)
    rate = target_rate_for(years, periods_per_year=per_year)
    samples: dict[str, list[np.ndarray]] = {name: [] for name in setup.rules}
    with workspace.connect() as conn, progress_bar(not as_json) as bar:
        _check_outcomes_cover(conn, instants[-1] + ahead)
        task = bar.add_task("scoring history", total=len(instants))
        for as_of in instants:
            scored = score_signals(conn, setup, as_of, root=workspace.root)
            quiet = _without_outcome(conn, scored.signals.scores.index, as_of, ahead)
            for name in samples:
                if name in scored.signals.scores.columns:
                    column = scored.signals.scores.loc[quiet, name].to_numpy(dtype=float)
                    samples[name].append(column)
            bar.update(task, advance=1)
    results = []
    kept: list[str] = []
    for name, parts in samples.items():
        rule = setup.rules[name]
        values = np.concatenate(parts) if parts else np.array([])
        try:
            cal = false_alarm_threshold(values, target_rate=rate)
        except InsufficientDataError:
            continue
        if cal.achieved_rate > 0:  # no quiet customer ever reached it: keep the rule as it is
            results.append((rule, cal))
        else:
            kept.append(rule.signal)
    payload = [
        {
            "signal": rule.signal, "current_low_at": _first_limit(rule),
            "suggested_low_at": round(cal.threshold, 4),
            "achieved_rate": cal.achieved_rate, "samples": cal.samples,
            "extrapolated": cal.extrapolated,
        }
        for rule, cal in results
    ]  # fmt: skip
    if out_file is not None:
        _write_rules(out_file, [_calibrated(rule, cal.threshold) for rule, cal in results])
    if as_json:
        emit_json(
            {"target_rate": rate, "budget": rate_text(rate), "signals": payload, "kept": kept}
        )
        return
    table = RichTable(title=f"False-alarm budget: {rate_text(rate, periods_per_year=per_year)}")
    for column in ("signal", "now", "calibrated", "years/alarm", "samples", "tail"):
        table.add_column(column, overflow="fold")
    for rule, cal in results:
        table.add_row(
            rule.signal, _limit(_first_limit(rule)), f"{cal.threshold:.3g}",
            f"{years_per_alarm(cal.achieved_rate, periods_per_year=per_year):.1f}",
            f"{cal.samples:,}", "fitted" if cal.extrapolated else "seen",
        )  # fmt: skip
    out.print(table)
    if kept:
        out.print(f"Kept as they are (no quiet customer reached them): {', '.join(kept)}.")
    if out_file is not None:
        out.print(f"Wrote {out_file}; try it with 'crew run --dry-run --config {out_file} ...'.")


@thresholds_app.command("suggest")
@reports_errors
def suggest_command(
    ctx: typer.Context,
    as_of: datetime = as_of_option(),
    capacity: float = typer.Option(
        ..., "--capacity", help="Warnings the response team can work per day."
    ),
    every: str = typer.Option("7d", "--every", help="Time between runs."),
    horizon: str = typer.Option("90d", "--horizon", help="Outcome window of the backtest."),
    save_rate: float = typer.Option(0.3, "--save-rate", help="Share of warned churners saved."),
    cost: float = typer.Option(0.0, "--cost", help="Cost of working one warning."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Churn-probability cut-offs that save the most value within the team's capacity,
    backtested: scored at --as-of minus --horizon, judged on the churn that followed."""
    workspace = open_workspace(root_of(ctx, workspace_dir))
    setup = setup_for(workspace, None, None)
    if setup.bundle is None:
        raise CrewError("No churn model to cut.", hint="Train one with 'crew train'.")
    run_days = _days_option(every, "--every")
    window = timedelta(days=_days_option(horizon, "--horizon"))
    instant = utc(as_of) - window
    with workspace.connect() as conn, progress_bar(not as_json) as bar:
        bar.add_task("backtesting", total=None)
        scored = score_signals(conn, setup, instant, root=workspace.root)
        assert scored.assessment is not None
        churned = conn.execute(
            "SELECT DISTINCT customer_id FROM outcomes WHERE kind = 'churn' AND ts >= ? "
            "AND ts < ?", [instant, instant + window],
        ).fetchall()  # fmt: skip
    p = scored.assessment["churn_probability"].to_numpy(dtype=float)
    clv = scored.assessment["clv"].astype(float)
    value = clv.fillna(clv.median() if clv.notna().any() else 1.0).to_numpy()
    outcome = scored.assessment.index.isin({row[0] for row in churned}).astype(float)
    cuts = level_cutoffs(
        p, value, outcome, capacity_per_day=capacity, days=run_days, save_rate=save_rate,
        action_cost=cost,
    )  # fmt: skip
    rows = {level.value: cuts[level] for level in reversed(LEVELS) if level in cuts}
    if as_json:
        emit_json({"backtest_at": instant, "levels": {k: vars(v) for k, v in rows.items()}})
        return
    table = RichTable(title=f"Cut-offs for {capacity:g} warnings a day, runs every {run_days} days"
                      f" (backtest at {instant:%Y-%m-%d}, outcomes within {horizon})")  # fmt: skip
    for column in ("level", "min probability", "warnings", "per day", "precision", "recall",
                   "expected saved", "realised saved"):  # fmt: skip
        table.add_column(column)
    for name, c in rows.items():
        table.add_row(
            name, _limit(c.min_probability), str(c.alerts), f"{c.alerts_per_day:.1f}",
            _share(c.precision), _share(c.recall), f"{c.expected_saved_value:,.0f}",
            f"{c.saved_value_realised or 0:,.0f}",
        )  # fmt: skip
    out.print(table)
    out.print(
        "Use it: in catalog/thresholds.yaml, "
        f"- {{signal: churn_model, method: capacity, capacity_per_day: {capacity:g}, "
        f"save_rate: {save_rate:g}, action_cost: {cost:g}}}"
    )


def _without_outcome(
    conn: duckdb.DuckDBPyConnection, index: pd.Index, as_of: datetime, ahead: timedelta
) -> pd.Index:
    rows = conn.execute(
        "SELECT DISTINCT customer_id FROM outcomes WHERE ts >= ? AND ts < ?", [as_of, as_of + ahead]
    ).fetchall()
    return index[~index.isin({r[0] for r in rows})]


def _check_outcomes_cover(conn: duckdb.DuckDBPyConnection, until: datetime) -> None:
    ((latest,),) = conn.execute(
        "SELECT greatest((SELECT max(ts) FROM transactions), (SELECT max(ts) FROM events))"
    ).fetchall()
    if latest is None or latest < until:
        seen = "no data" if latest is None else f"data ends {latest:%Y-%m-%d}"
        raise CrewError(
            f"Cannot tell which customers had no outcome up to {until:%Y-%m-%d}: {seen}.",
            hint="End --to at least --horizon before the end of the data.",
        )


def _calibrated(rule: ThresholdRule, low: float) -> ThresholdRule:
    """The rule with its first limit moved to `low`, higher limits scaled alike (fixed rules).

    A rule whose first level is MEDIUM or HIGH keeps it: its first warning is at that level.
    """
    first = _first_limit(rule)
    if rule.method != Method.FIXED or first is None or first <= 0 or low <= 0:
        return rule.model_copy(update={"method": Method.FIXED, "low_at": low,
                                       "medium_at": None, "high_at": None})  # fmt: skip
    factor = low / first
    scaled = [None if v is None else v * factor for v in rule.limits]
    return rule.model_copy(
        update={"low_at": scaled[0], "medium_at": scaled[1], "high_at": scaled[2]}
    )


def _write_rules(path: Path, rules: list[ThresholdRule]) -> None:
    body = {"rules": [r.model_dump(mode="json", exclude_defaults=True) for r in rules]}
    for rule in body["rules"]:
        rule.setdefault("signal", "")
    try:
        path.write_text(yaml.safe_dump(body, sort_keys=False, allow_unicode=True), "utf-8")
    except OSError as exc:
        raise CrewError(f"Cannot write {path}: {exc.strerror}.") from None


def _first_limit(rule: ThresholdRule) -> float | None:
    return next((v for v in rule.limits if v is not None), None)


def _limit(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


__all__ = ["thresholds_app"]
