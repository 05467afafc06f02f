"""`crew train`, `crew evaluate`, `crew score`, `crew explain`, `crew models`."""

from __future__ import annotations

import json
import math
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.table import Table as RichTable

from crew.cli._output import (
    emit_json,
    out,
    progress_bar,
    reports_errors,
    workspace_option,
    workspace_root,
)
from crew.cli.indicators import as_of_option, utc
from crew.cli.scoring import score_with
from crew.errors import CrewError
from crew.indicators.catalog import days, load_catalog
from crew.models.assessment import what_moved
from crew.models.combining import load_combine_rule
from crew.models.dataset import customer_attributes, features_at
from crew.models.labels import ChurnDefinition
from crew.models.registry import check_compatible, load_bundle, save_bundle
from crew.models.training import TrainOptions, train_bundle
from crew.store.models import model_records
from crew.store.scores import customer_scores, save_scores
from crew.store.workspace import open_workspace
from crew.types import Industry

_LEVEL_STYLE = {"high": "bold red", "medium": "dark_orange", "low": "yellow", "none": "green"}


class ChurnModelKind(StrEnum):
    """Which churn models `crew train` fits."""

    LIGHTGBM = "lightgbm"  # gradient boosting against logistic regression (always)
    LSTM = "lstm"  # plus the LSTM sequence model


def _days_option(value: str, name: str) -> int:
    try:
        return days(value)
    except (AssertionError, ValueError):
        raise CrewError(f"{name} '{value}' is not a length like 90d or 12w.") from None


@reports_errors
def train_command(
    ctx: typer.Context,
    as_of: datetime = as_of_option(),
    horizon: str = typer.Option(
        "90d", "--horizon", help="Churn within this long after each snapshot."
    ),
    snapshots: int = typer.Option(
        9,
        "--snapshots",
        min=3,
        help="Rolling snapshots; train, validation and test label windows never overlap.",
    ),
    step: str = typer.Option("30d", "--step", help="Time between snapshots."),
    profile: Industry = typer.Option(
        None, "--profile", help="Industry profile.", show_default=False
    ),
    definition: ChurnDefinition = typer.Option(
        ChurnDefinition.OUTCOME,
        "--definition",
        help="outcome: a churn row in outcomes; no_purchase: an active buyer stops buying.",
    ),
    weights: str = typer.Option(
        None,
        "--weights",
        help="Stored weight set for the fuzzy evaluation (default: entropy).",
        show_default=False,
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed of the models."),
    model: ChurnModelKind = typer.Option(
        ChurnModelKind.LIGHTGBM,
        "--model",
        help="lstm: also train the LSTM sequence model (needs crew[deep]) and compare it with "
        "the gradient-boosting model on the same test snapshot.",
    ),
    months: int = typer.Option(6, "--months", min=2, help="Months per sequence (--model lstm)."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Train the churn model (LightGBM vs logistic regression, calibrated), the fuzzy
    evaluation and CLV on rolling snapshots before --as-of, and register them as a version."""
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    catalog = load_catalog(workspace.root)
    options = TrainOptions(
        as_of=utc(as_of),
        horizon_days=_days_option(horizon, "--horizon"),
        snapshots=snapshots,
        step_days=_days_option(step, "--step"),
        profile=profile,
        definition=definition,
        weight_set=weights,
        seed=seed,
        lstm=model == ChurnModelKind.LSTM,
        months=months,
    )
    with progress_bar(not as_json) as bar:
        bar.add_task("building examples and training", total=None)
        with workspace.connect() as conn:
            bundle, metadata = train_bundle(conn, catalog, options)
    record = save_bundle(workspace, bundle, as_of=options.as_of, catalog=catalog, metadata=metadata)
    if as_json:
        emit_json({"version": record.version, **metadata})
        return
    churn = metadata["churn"]
    assert isinstance(churn, dict)
    out.print(f"Registered model [bold]v{record.version}[/] in {workspace.root}.")
    _print_candidates(churn)
    _print_metrics(churn["test"], churn["validation"])
    _print_comparison(metadata.get("comparison"))


def _print_comparison(comparison: object) -> None:
    if not isinstance(comparison, dict):
        return
    names = comparison["models"]
    table = RichTable(
        title=f"LSTM against {names[1]} (test {comparison['test_snapshot']}, "
        f"{comparison['customers']:,} customers, {comparison['churners']} churners)",
        title_justify="left",
    )
    table.add_column("metric")
    for name in names:
        table.add_column(str(name), justify="right")
    for metric, row in comparison["test"].items():
        table.add_row(str(metric), *(f"{row[m]:.3f}" for m in names))
    out.print(table)


def _print_candidates(churn: dict[str, object]) -> None:
    scores = churn["candidates_roc_auc"]
    assert isinstance(scores, dict)
    table = RichTable(title="Candidates (validation ROC AUC)", title_justify="left")
    table.add_column("model")
    table.add_column("ROC AUC", justify="right")
    for name, auc in scores.items():
        mark = " ← kept" if name == churn["chosen"] else ""
        table.add_row(name + mark, f"{auc:.3f}")
    out.print(table)


def _print_metrics(test: object, validation: object) -> None:
    assert isinstance(test, dict)
    table = RichTable(title=f"Held-out test ({validation})", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("examples / churners", f"{int(test['n']):,} / {int(test['positives']):,}"),
        ("ROC AUC", f"{test['roc_auc']:.3f}"),
        ("PR AUC", f"{test['pr_auc']:.3f} (base rate {test['base_rate']:.3f})"),
        ("KS", f"{test['ks']:.3f}"),
        ("Brier", f"{test['brier']:.4f} (base-rate predictor {test['brier_base_rate']:.4f})"),
        ("top-decile lift", f"{test['top_decile_lift']:.2f}"),
        ("largest calibration gap (deciles)", f"{test['max_calibration_gap']:.3f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)


@reports_errors
def evaluate_command(
    ctx: typer.Context,
    model: int = typer.Option(
        None, "--model", help="Model version (default: newest).", show_default=False
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Print a model's out-of-sample figures: ROC AUC, PR AUC, KS, Brier, lift, calibration."""
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    _, record = load_bundle(workspace, model)
    churn = record.metadata["churn"]
    if as_json:
        emit_json(
            {"version": record.version, **churn, "comparison": record.metadata.get("comparison")}
        )
        return
    out.print(f"Model v{record.version}: {churn['chosen']}, calibrated by {churn['calibration']}.")
    _print_candidates(churn)
    _print_metrics(churn["test"], churn["validation"])
    _print_comparison(record.metadata.get("comparison"))
    table = RichTable(title="Reliability (test slice, equal-count bins)", title_justify="left")
    for name in ("mean predicted", "observed", "customers"):
        table.add_column(name, justify="right")
    for predicted, observed, count in churn["reliability"]:
        table.add_row(f"{predicted:.3f}", f"{observed:.3f}", f"{count:,}")
    out.print(table)


@reports_errors
def score_command(
    ctx: typer.Context,
    as_of: datetime = as_of_option(),
    model: int = typer.Option(
        None, "--model", help="Model version (default: newest).", show_default=False
    ),
    out_file: Path = typer.Option(
        None, "--out", "-o", help="Also write a .parquet or .csv file.", show_default=False
    ),
    top: int = typer.Option(10, "--top", help="How many of the riskiest customers to print."),
    engine: str = typer.Option(
        "local", "--engine", help="local (this process) or spark (mapInPandas over Parquet)."
    ),
    indicators: Path = typer.Option(
        None,
        "--indicators",
        help="Score these indicator values (.parquet, e.g. from 'crew indicators compute "
        "--out') instead of computing them at --as-of.",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print a summary as JSON."),
) -> None:
    """Score every customer at --as-of: churn probability, risk index, level, dimension
    scores, reasons, CLV; stored in the workspace."""
    if out_file is not None and out_file.suffix.lower() not in (".parquet", ".csv"):
        # Refused before scoring, so that a bad path leaves no scores half-done behind.
        raise CrewError(f"Cannot write {out_file}: unknown type.", hint="Use .parquet or .csv.")
    if engine not in ("local", "spark"):
        raise CrewError(f"Unknown engine '{engine}'.", hint="Use --engine local or --engine spark.")
    if indicators is not None and (
        indicators.suffix.lower() != ".parquet" or not indicators.exists()
    ):
        raise CrewError(
            f"Cannot read indicators from {indicators}: not an existing .parquet file.",
            hint="Write one with 'crew indicators compute --as-of DATE --out FILE.parquet'.",
        )
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    catalog = load_catalog(workspace.root)
    bundle, record = load_bundle(workspace, model)
    check_compatible(bundle, catalog, record.version)
    instant = utc(as_of)
    with progress_bar(not as_json) as bar:
        bar.add_task("scoring", total=None)
        with workspace.connect() as conn:
            profile = None if bundle.profile == "all" else Industry(bundle.profile)
            rule = load_combine_rule(workspace.root, profile)
            scores = score_with(engine, workspace, conn, catalog, bundle, instant, rule, indicators)
            save_scores(conn, scores, instant, record.version)
    if out_file is not None:
        _write(scores, out_file)
    levels = scores["level"].value_counts().to_dict()
    if as_json:
        emit_json(
            {
                "as_of": instant,
                "model": record.version,
                "customers": len(scores),
                "levels": levels,
                "states": scores["state"].value_counts().to_dict(),
                "out": out_file,
            }
        )
        return
    out.print(
        f"Scored {len(scores):,} customers at {instant:%Y-%m-%d} with model "
        f"v{record.version}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(levels.items()))
    )
    _print_riskiest(scores, top)


def _write(scores: pd.DataFrame, path: Path) -> None:
    frame = scores.reset_index().copy()
    frame["as_of"] = frame["as_of"].astype(str)
    frame["dimension_scores"] = [json.dumps(d) for d in frame["dimension_scores"]]
    frame["reasons"] = [json.dumps(r, ensure_ascii=False) for r in frame["reasons"]]
    if path.suffix.lower() == ".parquet":
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    else:
        frame.to_csv(path, index=False)


def _print_riskiest(scores: pd.DataFrame, top: int) -> None:
    riskiest = scores[scores["state"] == "scored"].sort_values("risk_index", ascending=False)
    table = RichTable(title=f"The {top} riskiest customers", title_justify="left")
    for name in ("customer", "level", "risk", "churn p", "CLV", "top reasons"):
        table.add_column(name, justify="right" if name in ("risk", "churn p", "CLV") else "left")
    for customer, row in riskiest.head(top).iterrows():
        reasons = "\n".join(f"{r['en']}\n  {r['zh']}" for r in row["reasons"][:3])
        clv = "-" if math.isnan(row["clv"]) else f"{row['clv']:,.0f}"
        table.add_row(
            str(customer),
            f"[{_LEVEL_STYLE[row['level']]}]{row['level']}[/]",
            f"{row['risk_index']:.1f}",
            f"{row['churn_probability']:.3f}",
            clv,
            reasons,
        )
    out.print(table)


@reports_errors
def explain_command(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., help="The customer to explain."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the explanation as JSON."),
) -> None:
    """One customer's latest assessment: every indicator, its membership degrees, the
    reasons, and what moved since the previous score."""
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    catalog = load_catalog(workspace.root)
    with workspace.connect() as conn:
        history = customer_scores(conn, customer_id)
        if not history:
            raise CrewError(
                f"No score for customer '{customer_id}'.",
                hint="Check the id, or run 'crew score --as-of DATE' first.",
            )
        latest = history[0]
        bundle, record = load_bundle(workspace, int(latest["model_version"]))  # type: ignore[call-overload]
        as_of = latest["as_of"]
        assert isinstance(as_of, datetime)
        profile = None if bundle.profile == "all" else Industry(bundle.profile)
        features = (
            customer_attributes(conn)
            if bundle.snapshot
            else features_at(conn, catalog, as_of, profile)
        )
        previous = history[1] if len(history) > 1 else None
        earlier = None
        if previous is not None and not bundle.snapshot:
            previous_as_of = previous["as_of"]
            assert isinstance(previous_as_of, datetime)
            earlier = features_at(conn, catalog, previous_as_of, profile)
    if customer_id not in features.index:
        raise CrewError(f"Customer '{customer_id}' has no features at {as_of:%Y-%m-%d}.")
    one = features.loc[[customer_id]]
    contributions = bundle.churn.contributions(one).iloc[0].sort_values(ascending=False)
    indicators = []
    if bundle.fuzzy is not None:
        fuzzy = bundle.fuzzy.evaluate(one).explain(customer_id)  # rows are independent
        for ind_id, row in fuzzy.iterrows():
            ind = catalog.by_id.get(str(ind_id))
            indicators.append(
                {
                    "indicator": str(ind_id),
                    "label_en": ind.label.en if ind else "",
                    "label_zh": ind.label.zh if ind else "",
                    "value": _num(one.iloc[0].get(ind_id)),
                    "membership": {g.name: _num(row[g.name]) for g in bundle.fuzzy.settings.grades},
                    "fuzzy_contribution": _num(row["contribution"]),
                    "churn_contribution": _num(contributions.get(ind_id)),
                }
            )
    moved = None
    if previous is not None:
        moved = {
            "previous_as_of": previous["as_of"],
            "previous_risk_index": previous["risk_index"],
            "risk_index_change": _num(latest["risk_index"]) - _num(previous["risk_index"]),
            "indicators": []
            if earlier is None
            else what_moved(bundle, catalog, earlier, features, customer_id),
        }
    payload = {
        "customer_id": customer_id,
        "as_of": as_of,
        "model": record.version,
        **{
            k: latest[k]
            for k in (
                "state",
                "level",
                "colour",
                "risk_index",
                "churn_probability",
                "fuzzy_index",
                "coverage",
                "clv",
                "clv_decline",
                "dimension_scores",
                "reasons",
                "evidence_note",
            )
        },
        "since_previous": moved,
        "indicators": indicators,
    }
    if as_json:
        emit_json(payload)
        return
    _print_explanation(payload)


def _num(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _print_explanation(p: dict[str, object]) -> None:
    level = str(p["level"])
    out.print(
        f"[bold]{p['customer_id']}[/] at {p['as_of']:%Y-%m-%d} (model v{p['model']}): "
        f"[{_LEVEL_STYLE[level]}]{level}[/], risk index {_num(p['risk_index']):.1f}, "
        f"churn probability {_num(p['churn_probability']):.3f}, state {p['state']}"
    )
    if p["evidence_note"]:
        out.print(f"  insufficient evidence: {p['evidence_note']}")
    clv = _num(p["clv"])
    if not math.isnan(clv):
        out.print(f"  CLV {clv:,.0f}; change against 90 days earlier {_num(p['clv_decline']):+.0%}")
    moved = p["since_previous"]
    if isinstance(moved, dict):
        out.print(
            f"  since the score of {moved['previous_as_of']:%Y-%m-%d}: risk index "
            f"{_num(moved['previous_risk_index']):.1f} → {_num(p['risk_index']):.1f} "
            f"({moved['risk_index_change']:+.1f})"
        )
        for m in moved["indicators"]:
            out.print(
                f"    {m['label_en']} / {m['label_zh']}: {_fmt(_num(m['before']))} → "
                f"{_fmt(_num(m['after']))}, {m['index_points']:+.2f} fuzzy index points"
            )
    reasons = p["reasons"]
    if isinstance(reasons, list) and reasons:
        out.print("[bold]Reasons[/]")
        for r in reasons:
            out.print(f"  • {r['en']}\n    {r['zh']}")
    rows = p["indicators"]
    if isinstance(rows, list) and rows:
        grades = list(rows[0]["membership"])
        table = RichTable(
            title="Indicators (fuzzy membership and contributions)", title_justify="left"
        )
        for name in ("indicator", "value", *grades, "fuzzy pts", "churn log-odds"):
            table.add_column(name, justify="left" if name == "indicator" else "right")
        for r in rows:
            table.add_row(
                f"{r['indicator']}\n{r['label_zh']}",
                _fmt(r["value"]),
                *[_fmt(r["membership"][g]) for g in grades],
                _fmt(r["fuzzy_contribution"]),
                _fmt(r["churn_contribution"]),
            )
        out.print(table)


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.3g}"


@reports_errors
def models_command(
    ctx: typer.Context,
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the registry as JSON."),
) -> None:
    """List the registered model versions with their training window and test figures."""
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    with workspace.connect() as conn:
        records = model_records(conn)
    rows = [
        {
            "version": r.version,
            "created_at": r.created_at,
            "as_of": r.as_of,
            "horizon_days": r.horizon_days,
            "profile": r.profile,
            "chosen": r.metadata["churn"]["chosen"],
            "roc_auc": r.metadata["churn"]["test"]["roc_auc"],
        }
        for r in records
    ]
    if as_json:
        emit_json({"models": rows})
        return
    table = RichTable(title="Registered models", title_justify="left")
    for name in ("version", "trained at as_of", "horizon", "profile", "model", "test ROC AUC"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            f"v{r['version']}",
            f"{r['as_of']:%Y-%m-%d}" if r["as_of"] else "-",
            f"{r['horizon_days']}d",
            str(r["profile"]),
            str(r["chosen"]),
            f"{r['roc_auc']:.3f}",
        )
    out.print(table)
