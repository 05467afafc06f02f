"""`crew weights`: AHP weights from judgements, combined weights, and what is stored."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import numpy as np
import typer
from rich.table import Table as RichTable

from crew.cli._output import emit_json, out, reports_errors, workspace_option, workspace_root
from crew.errors import WeightsError
from crew.indicators.catalog import Direction, load_catalog
from crew.indicators.compute import profile_name
from crew.indicators.weights import (
    DIMENSIONS_SCOPE,
    INDICATORS_SCOPE,
    MAX_CONSISTENCY_RATIO,
    AhpHierarchy,
    AhpResult,
    ahp_hierarchy,
    combine_weights,
    entropy_scopes,
    load_judgements,
)
from crew.store.indicators import load_indicator_values
from crew.store.weights import (
    WeightSetSummary,
    list_weight_sets,
    load_weights,
    save_weight_set,
)
from crew.store.workspace import open_workspace
from crew.types import Industry

weights_app = typer.Typer(
    help="Indicator weights: AHP (层次分析法) from pairwise judgements, entropy (熵权法) "
    "from data, and the two combined. Stored by name in the workspace.",
    no_args_is_help=True,
)


class CombineMethod(StrEnum):
    """How subjective and objective weights are combined."""

    MULTIPLICATIVE = "multiplicative"
    LINEAR = "linear"


@weights_app.command("ahp")
@reports_errors
def ahp_command(
    ctx: typer.Context,
    matrix: Path = typer.Option(
        ...,
        "--matrix",
        "-m",
        help="Judgement file (YAML): dimensions and, optionally, indicators per dimension.",
    ),
    name: str = typer.Option("ahp", "--name", help="Name of the weight set to store."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the weights as JSON."),
) -> None:
    """Compute AHP weights from pairwise judgements and store them (refused when CR >= 0.1)."""
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    judgements = load_judgements(matrix)
    hierarchy = ahp_hierarchy(judgements)  # raises before anything is stored
    blocks = _blocks(hierarchy)
    provenance: dict[str, object] = {
        "method": "ahp",
        "priorities": "principal eigenvector",
        "source": str(matrix.resolve()),
        "sha256": hashlib.sha256(matrix.read_bytes()).hexdigest(),
        "consistency_ratios": hierarchy.consistency_ratios,
        "max_consistency_ratio": MAX_CONSISTENCY_RATIO,
        "created_at": datetime.now(UTC).isoformat(),
    }
    scopes = hierarchy.scopes()
    with workspace.connect() as conn:
        save_weight_set(conn, name, scopes, "ahp", provenance)
    if as_json:
        emit_json(
            {
                "weight_set": name,
                "weights": scopes,
                "consistency": {block: _consistency(r) for block, r in blocks.items()},
                "provenance": provenance,
            }
        )
        return
    _print_hierarchy(hierarchy)
    _print_consistency(blocks)
    out.print(f"Stored as weight set [bold]{name}[/] in {workspace.root}.")


@weights_app.command("entropy")
@reports_errors
def entropy_command(
    ctx: typer.Context,
    as_of: datetime = typer.Option(
        ...,
        "--as-of",
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        help="Instant whose computed indicators give the data (crew indicators compute).",
    ),
    profile: Industry = typer.Option(
        None, "--profile", help="Profile the indicators were computed for.", show_default=False
    ),
    name: str = typer.Option("entropy", "--name", help="Name of the weight set to store."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the weights as JSON."),
) -> None:
    """Entropy weights (熵权法) from the indicator values at --as-of, stored by name.

    Indicators that vary more across customers carry more information and get more weight;
    neutral (baseline) indicators are left out. Dimension weights are the sums of their
    indicators' weights, local weights the shares within a dimension.
    """
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    catalog = load_catalog(workspace.root)
    instant = as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)
    chosen = [i for i in catalog.outputs(profile) if i.direction != Direction.NEUTRAL]
    with workspace.connect() as conn:
        table = load_indicator_values(conn, instant, profile_name(profile), [i.id for i in chosen])
        values = np.column_stack(
            [table.column(i.id).to_numpy(zero_copy_only=False).astype(float) for i in chosen]
        )
        scopes = entropy_scopes(values, chosen)
        dims, global_weights = scopes[DIMENSIONS_SCOPE], scopes[INDICATORS_SCOPE]
        provenance: dict[str, object] = {
            "method": "entropy",
            "as_of": instant.isoformat(),
            "profile": profile_name(profile),
            "customers": table.num_rows,
            "catalog_sha256": catalog.sha256,
            "created_at": datetime.now(UTC).isoformat(),
        }
        save_weight_set(conn, name, scopes, "entropy", provenance)
    if as_json:
        emit_json({"weight_set": name, "weights": scopes, "provenance": provenance})
        return
    _print_weights(f"{name}: dimensions (entropy at {instant:%Y-%m-%d})", dims)
    _print_weights(f"{name}: indicators", global_weights)
    out.print(f"Stored as weight set [bold]{name}[/] in {workspace.root}.")


@weights_app.command("combine")
@reports_errors
def combine_command(
    ctx: typer.Context,
    subjective: str = typer.Option(
        ..., "--subjective", help="Stored weight set from judgements (e.g. ahp)."
    ),
    objective: str = typer.Option(
        ..., "--objective", help="Stored weight set from data (e.g. entropy)."
    ),
    method: CombineMethod = typer.Option(
        ..., "--method", help="multiplicative: a*b renormalised; linear: alpha*a + (1-alpha)*b."
    ),
    alpha: float = typer.Option(
        0.5, "--alpha", help="Linear only: share of the subjective weights, in [0, 1]."
    ),
    name: str = typer.Option("combined", "--name", help="Name of the weight set to store."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the combined weights as JSON."),
) -> None:
    """Combine two stored weight sets, scope by scope, and store the result."""
    if name in (subjective, objective):
        raise WeightsError(
            f"--name {name} would overwrite one of the inputs.",
            hint="Store the combination under a new name, e.g. --name combined.",
        )
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    with workspace.connect() as conn:
        a = load_weights(conn, subjective)
        b = load_weights(conn, objective)
        shared = [scope for scope in a.weights if scope in b.weights]
        if not shared:
            raise WeightsError(
                f"'{subjective}' and '{objective}' share no scope "
                f"({', '.join(a.weights)} vs {', '.join(b.weights)}).",
                hint="Weight the same level (e.g. 'indicators') both ways before combining.",
            )
        combined: dict[str, dict[str, float]] = {}
        left_out: dict[str, list[str]] = {}
        for scope in shared:
            # Judgements often cover some indicators only: combine what both sets weight.
            items = [i for i in a.weights[scope] if i in b.weights[scope]]
            left_out[scope] = sorted(set(a.weights[scope]) ^ set(b.weights[scope]))
            if not items:
                continue
            try:
                combined[scope] = combine_weights(
                    {i: a.weights[scope][i] for i in items},
                    {i: b.weights[scope][i] for i in items},
                    method.value,
                    alpha,
                )
            except WeightsError as error:
                raise WeightsError(f"Scope '{scope}': {error.message}", hint=error.hint) from None
        provenance: dict[str, object] = {
            "method": f"combined-{method.value}",
            "subjective": subjective,
            "objective": objective,
            "subjective_provenance": a.provenance[shared[0]],
            "objective_provenance": b.provenance[shared[0]],
            "scopes": shared,
            "skipped_scopes": sorted((set(a.weights) | set(b.weights)) - set(combined)),
            "items_weighted_by_one_set_only": {k: v for k, v in left_out.items() if v},
            "created_at": datetime.now(UTC).isoformat(),
        }
        if method is CombineMethod.LINEAR:
            provenance["alpha"] = alpha
        save_weight_set(conn, name, combined, f"combined-{method.value}", provenance)
    if as_json:
        emit_json({"weight_set": name, "weights": combined, "provenance": provenance})
        return
    for scope, weights in combined.items():
        _print_weights(f"{scope}  ({subjective} x {objective}, {method.value})", weights)
    only_one = sum(len(v) for v in left_out.values())
    if only_one:
        out.print(
            f"{only_one} items weighted by one set only were left out (see 'crew weights "
            f"show {name}')."
        )
    out.print(f"Stored as weight set [bold]{name}[/] in {workspace.root}.")


@weights_app.command("show")
@reports_errors
def show_command(
    ctx: typer.Context,
    weight_set: str = typer.Argument(
        None, help="Weight set to show (default: list all sets).", show_default=False
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List the stored weight sets, or show one set's weights and provenance."""
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    with workspace.connect() as conn:
        if weight_set is None:
            sets = list_weight_sets(conn)
            if as_json:
                emit_json({"weight_sets": [vars(s) for s in sets]})
                return
            _print_sets(sets, str(workspace.root))
            return
        stored = load_weights(conn, weight_set)
    if as_json:
        emit_json(
            {
                "weight_set": stored.name,
                "weights": stored.weights,
                "methods": stored.methods,
                "provenance": stored.provenance,
                "created_at": stored.created_at,
            }
        )
        return
    for scope, weights in stored.weights.items():
        _print_weights(f"{stored.name}: {scope}  ({stored.methods[scope]})", weights)
    groups: list[tuple[list[str], dict[str, object]]] = []  # scopes saved together share one
    for scope, document in stored.provenance.items():
        same = [g for g in groups if g[1] == document]
        if same:
            same[0][0].append(scope)
        else:
            groups.append(([scope], document))
    for scopes, document in groups:
        out.print(f"[bold]provenance[/] ({', '.join(scopes)}):")
        for key, value in document.items():
            out.print(f"  {key}: {value}", markup=False, soft_wrap=True)


def _blocks(hierarchy: AhpHierarchy) -> dict[str, AhpResult]:
    return {"dimensions": hierarchy.dimensions} | {
        f"indicators.{dim}": result for dim, result in hierarchy.indicators.items()
    }


def _consistency(result: AhpResult) -> dict[str, float]:
    return {
        "n": len(result.weights),
        "lambda_max": result.lambda_max,
        "consistency_index": result.consistency_index,
        "random_index": result.random_index,
        "consistency_ratio": result.consistency_ratio,
    }


def _print_hierarchy(hierarchy: AhpHierarchy) -> None:
    dims = hierarchy.dimension_weights
    table = RichTable(title="AHP weights", title_justify="left")
    for column in ("dimension", "weight", "indicator", "local", "global"):
        table.add_column(
            column, justify="left" if column in ("dimension", "indicator") else "right"
        )
    for dim, weight in dims.items():
        local = hierarchy.local_weights.get(dim, {})
        if not local:
            table.add_row(dim, f"{weight:.4f}", "-", "-", "-")
        for k, (item, w) in enumerate(local.items()):
            first = k == 0
            table.add_row(
                dim if first else "",
                f"{weight:.4f}" if first else "",
                item,
                f"{w:.4f}",
                f"{weight * w:.4f}",
            )
    out.print(table)


def _print_consistency(blocks: dict[str, AhpResult]) -> None:
    table = RichTable(title="Consistency (CR must be below 0.1)", title_justify="left")
    for column in ("block", "n", "lambda_max", "CI", "RI", "CR"):
        table.add_column(column, justify="left" if column == "block" else "right")
    for block, r in blocks.items():
        style = "green" if r.consistency_ratio < MAX_CONSISTENCY_RATIO else "red"
        table.add_row(
            block,
            str(len(r.weights)),
            f"{r.lambda_max:.3f}",
            f"{r.consistency_index:.3f}",
            f"{r.random_index:.2f}",
            f"[{style}]{r.consistency_ratio:.3f}[/]",
        )
    out.print(table)


def _print_weights(title: str, weights: dict[str, float]) -> None:
    table = RichTable(title=title, title_justify="left")
    table.add_column("item")
    table.add_column("weight", justify="right")
    for item, w in sorted(weights.items(), key=lambda kv: -kv[1]):
        table.add_row(item, f"{w:.4f}")
    out.print(table)


def _print_sets(sets: list[WeightSetSummary], title: str) -> None:
    if not sets:
        out.print("No weight sets stored yet. Run [bold]crew weights ahp --matrix FILE[/].")
        return
    table = RichTable(title=f"Weight sets in {title}", title_justify="left")
    for column in ("name", "method", "scopes", "items", "created"):
        table.add_column(column, justify="right" if column == "items" else "left")
    for s in sets:
        table.add_row(
            s.name,
            ", ".join(s.methods),
            ", ".join(s.scopes),
            str(s.items),
            s.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)


__all__ = ["CombineMethod", "weights_app"]
