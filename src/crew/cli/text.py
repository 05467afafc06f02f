"""`crew text`: interaction text intelligence (sentiment, topics, urgency, fake reviews)."""

from __future__ import annotations

from datetime import datetime, timedelta
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
from crew.cli.indicators import utc
from crew.errors import MissingExtraError
from crew.store.workspace import open_workspace
from crew.text._extra import INSTALL_HINT, extra_installed
from crew.text.analyze import analyze_store, build_analyzer
from crew.text.redaction import redactor_from_store
from crew.text.reviews import find_review_rings, load_reviews

text_app = typer.Typer(
    help="Interaction text intelligence (文本分析): sentiment, topics, urgency, fake reviews.",
    no_args_is_help=True,
)

_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def _need_extra() -> None:
    if not extra_installed():
        raise MissingExtraError(
            "Text analysis needs the 'text' extra (jieba, snownlp, vaderSentiment, datasketch), "
            "which is not installed.",
            hint=INSTALL_HINT,
        )


@text_app.command("analyze")
@reports_errors
def analyze_command(
    ctx: typer.Context,
    as_of: datetime = typer.Option(
        None,
        "--as-of",
        formats=_FORMATS,
        help="Only texts of interactions before this instant (UTC); default: every text.",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Enrich every new or changed interaction text: language, sentiment, topic, urgency,
    key phrases (stored in interaction_text, in one transaction)."""
    _need_extra()
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    instant = utc(as_of) if as_of is not None else None
    with workspace.connect() as conn, progress_bar(not as_json) as bar:
        task = bar.add_task("loading models (the first run trains them, ~30 s)", total=None)
        analyzer = build_analyzer(workspace.root, conn)
        bar.update(task, description="analysing texts", total=1, completed=0)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = analyze_store(conn, analyzer, as_of=instant, progress=advance)
    summary = {
        "as_of": instant,
        "analysed": report.analysed,
        "new": report.new,
        "changed": report.changed,
        "unchanged": report.unchanged,
        "removed": report.removed,
        "seconds": round(report.seconds, 3),
        "texts_per_second": round(report.texts_per_second, 1),
        "analyzer": report.analyzer,
        "topic_model": analyzer.topic_source,
    }
    if as_json:
        emit_json(summary)
        return
    out.print(
        f"Analysed {report.analysed:,} texts ({report.new:,} new, {report.changed:,} changed; "
        f"{report.unchanged:,} unchanged, {report.removed:,} removed) in {report.seconds:.2f} s"
        f" — {report.texts_per_second:,.0f} texts/s; topics from "
        f"{summary['topic_model']}. Stored in interaction_text."
    )


@text_app.command("reviews")
@reports_errors
def reviews_command(
    ctx: typer.Context,
    as_of: datetime = typer.Option(
        ..., "--as-of", formats=_FORMATS, help="Look at reviews before this instant (UTC)."
    ),
    days: int = typer.Option(180, "--days", min=1, help="How far back to look."),
    min_score: float = typer.Option(0.6, "--min-score", min=0, max=1, help="Report from here."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the rings as JSON."),
) -> None:
    """Fake-review / click-farming rings (虚假评价、刷单): bursts of near-identical reviews
    across accounts, with extreme ratings and young accounts as evidence."""
    _need_extra()
    workspace = open_workspace(workspace_root(ctx, workspace_dir))
    instant = utc(as_of)
    with workspace.connect() as conn:
        reviews = load_reviews(conn, instant, days)
        rings = find_review_rings(reviews, min_score=min_score, redactor=redactor_from_store(conn))
    if as_json:
        emit_json(
            {
                "as_of": instant,
                "since": instant - timedelta(days=days),
                "reviews": len(reviews),
                "rings": [
                    {
                        "score": r.score,
                        "accounts": list(r.accounts),
                        "review_ids": list(r.review_ids),
                        "first_ts": r.first_ts,
                        "last_ts": r.last_ts,
                        "mean_rating": r.mean_rating,
                        "extreme_share": r.extreme_share,
                        "young_share": r.young_share,
                        "median_account_age_days": r.median_account_age_days,
                        "concentration": r.concentration,
                        "reason": r.reason(),
                    }
                    for r in rings
                ],
            }
        )
        return
    if not rings:
        out.print(f"No suspicious review rings among {len(reviews):,} reviews.")
        return
    table = RichTable(title=f"Review rings before {instant:%Y-%m-%d}", title_justify="left")
    for name in ("score", "accounts", "first review", "rating", "young", "evidence"):
        table.add_column(name, justify="left" if name == "evidence" else "right")
    for r in rings:
        table.add_row(
            f"{r.score:.2f}",
            str(len(r.accounts)),
            f"{r.first_ts:%Y-%m-%d}",
            "" if r.mean_rating is None else f"{r.mean_rating:.1f}",
            f"{r.young_share:.0%}",
            r.reason(),
        )
    out.print(table)
    console.print(f"{len(rings)} rings among {len(reviews):,} reviews; --json lists the accounts.")


__all__ = ["text_app"]
