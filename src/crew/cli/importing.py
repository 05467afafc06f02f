"""`crew import`: load files, folders or a database table into the workspace."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal, cast

import typer
from pydantic import ValidationError
from rich.table import Table as RichTable

from crew.cli._output import (
    emit_json,
    out,
    progress_bar,
    reports_errors,
    workspace_option,
    workspace_root,
)
from crew.errors import MappingError
from crew.ingest import ImportedSource, LabelSpec, Mapping, SourceSpec, import_sources, load_mapping
from crew.ingest.importer import plan_sources
from crew.ingest.landing import import_landed
from crew.store.workspace import Workspace, open_workspace
from crew.types import Table

_STEPS = ("read", "check", "write", "done")


@reports_errors
def import_command(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        None,
        help="CSV/Parquet files or folders. Files named like a table "
        "(customers.csv, transactions.parquet, ...) need no mapping.",
        show_default=False,
    ),
    mapping_file: Path = typer.Option(
        None,
        "--mapping",
        "-m",
        help="Mapping file (YAML) describing the sources.",
        show_default=False,
    ),
    table: Table = typer.Option(
        None, "--table", "-t", help="Canonical table the files fill.", show_default=False
    ),
    shape: str = typer.Option(
        "table",
        "--shape",
        help="table | snapshot | transaction_log.",
    ),
    label: str = typer.Option(
        None,
        "--label",
        help="Snapshot: the yes/no outcome column (e.g. Churn).",
        show_default=False,
    ),
    snapshot_date: datetime = typer.Option(
        None,
        "--snapshot-date",
        formats=["%Y-%m-%d"],
        help="Snapshot: the day it was taken.",
        show_default=False,
    ),
    url: str = typer.Option(
        None,
        "--url",
        help="Database URL (SQLAlchemy), e.g. postgresql://127.0.0.1/test.",
        show_default=False,
    ),
    sql_table: str = typer.Option(
        None, "--sql-table", help="Table to read from --url (schema.table).", show_default=False
    ),
    landed: bool = typer.Option(
        False,
        "--landed",
        help="Import the events the stream workers landed (also done by every 'crew run').",
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what was imported as JSON."),
) -> None:
    """Import data into the canonical tables: validated first, all or nothing, upsert by id.

    A bad value stops the import with `file:row:column: problem — what to do` lines and
    leaves the workspace exactly as it was.
    """
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    if landed:
        if paths or mapping_file is not None or url:
            raise MappingError(
                "Give either --landed, or files/--url/--mapping, not both.",
                hint="Run 'crew import --landed' on its own, then import the files.",
            )
        with workspace.connect() as conn:
            rows = import_landed(conn, workspace.root)
        if as_json:
            emit_json({"landed": {t.value: n for t, n in rows.items()}})
        else:
            shown = ", ".join(f"{n:,} {t.value}" for t, n in rows.items()) or "nothing waiting"
            out.print(f"Imported streamed events: {shown}.")
        return
    if mapping_file is not None:
        if paths or url:
            raise MappingError(
                "Give either --mapping or files/--url, not both.",
                hint="List the files in the mapping's 'sources' instead.",
            )
        mapping, sha = load_mapping(mapping_file)
        base_dir = mapping_file.parent
    else:
        mapping = _mapping_from_options(paths, table, shape, label, snapshot_date, url, sql_table)
        sha, base_dir = None, Path.cwd()
    results = _run_import(workspace, mapping, base_dir, sha, show_progress=not as_json)
    if as_json:
        emit_json({"imported": [r.__dict__ for r in results]})
        return
    _render(results)


def _mapping_from_options(
    paths: list[Path] | None,
    table: Table | None,
    shape: str,
    label: str | None,
    snapshot_date: datetime | None,
    url: str | None,
    sql_table: str | None,
) -> Mapping:
    if shape not in ("table", "snapshot", "transaction_log"):
        raise MappingError(
            f"Unknown --shape '{shape}'.", hint="Use table, snapshot or transaction_log."
        )
    shape_ = cast(Literal["table", "snapshot", "transaction_log"], shape)
    if not paths and not url:
        raise MappingError(
            "Nothing to import.",
            hint="Give files or folders, --url with --sql-table, or --mapping.",
        )
    label_spec = LabelSpec(column=label) if label else None
    day: date | None = snapshot_date.date() if snapshot_date else None
    common: dict[str, object] = {
        "table": table,
        "shape": shape_,
        "label": label_spec,
        "snapshot_date": day,
    }
    try:
        if url:
            sources = [SourceSpec(url=url, sql_table=sql_table, **common)]
        else:
            sources = [SourceSpec(path=str(p), **common) for p in paths or []]
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise MappingError(
            f"Import options do not fit together: {message}.",
            hint="'crew import --help' lists the options.",
        ) from None
    return Mapping(sources=sources)


def _run_import(
    workspace: Workspace, mapping: Mapping, base_dir: Path, sha: str | None, show_progress: bool
) -> list[ImportedSource]:
    total = len(plan_sources(mapping, base_dir)) * len(_STEPS)
    with progress_bar(show_progress) as bar, workspace.connect() as conn:
        task = bar.add_task("importing", total=total)

        def advance(label: str, step: str) -> None:
            bar.update(task, advance=1, description=f"{step:>5} {Path(label).name}")

        return import_sources(conn, mapping, base_dir, mapping_sha256=sha, progress=advance)


def _render(results: list[ImportedSource]) -> None:
    table = RichTable(title="Imported (one transaction)", title_justify="left")
    for name in (
        "source",
        "table",
        "rows",
        "replaced",
        "derived customers",
        "outcomes",
        "attribute values",
    ):
        table.add_column(name, justify="left" if name in ("source", "table") else "right")
    for r in results:
        table.add_row(
            r.label,
            r.table.value,
            f"{r.rows:,}",
            f"{r.replaced:,}",
            f"{r.derived_customers:,}",
            f"{r.outcomes:,}",
            f"{r.attributes:,}",
        )
    out.print(table)
