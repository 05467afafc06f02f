"""The effectiveness report: one self-contained HTML page (and optionally a PDF) plus JSON.

Everything is drawn from the backtest summary: every figure in the page carries its JSON
path (`data-key`) and raw value (`data-value`), so a test — or a reader — can check that the
page and `summary.json` agree. Charts are inline SVG; the page loads nothing from anywhere.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from crew.errors import CrewError, MissingExtraError
from crew.evaluation import charts

TOC = (
    ("overview", "Overview"), ("scores", "Scores side by side"),
    ("discrimination", "Discrimination"), ("calibration", "Calibration"),
    ("levels", "Levels"), ("timeliness", "Timeliness"), ("warnings", "Warnings"),
    ("score-over-time", "Score over time"), ("drift", "Drift"), ("effect", "Actions"),
    ("cohorts", "Cohorts"), ("episodes", "Ground truth"),
)  # fmt: skip
SECTIONS = tuple(id for id, _ in TOC)


def fmt(value: object, pattern: str = "{:.3f}") -> str:
    """`value` formatted by `pattern`, or an em dash when there is none.

    >>> fmt(0.12345), fmt(None), fmt(3, "{:,}")
    ('0.123', '—', '3')
    """
    if value is None:
        return "—"
    return pattern.format(value)


def figure(key: str, value: object, pattern: str = "{:.3f}") -> Markup:
    """A figure tagged with its place in the JSON summary and its raw value."""
    raw = "" if value is None else json.dumps(value)
    return Markup('<span data-key="{}" data-value="{}">{}</span>').format(
        key, raw, escape(fmt(value, pattern))
    )


def render_report(summary: Mapping[str, Any]) -> str:
    """The report's HTML for `summary` (as `summarize` returns it)."""
    environment = Environment(
        loader=PackageLoader("crew.evaluation", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    template = environment.get_template("report.html.j2")
    toc = [(i, t) for i, t in TOC if i != "episodes" or summary.get("episodes")]
    return template.render(
        **summary, toc=toc, cards=_cards(summary), charts=_charts(summary), fmt=fmt,
        figure=figure,
    )  # fmt: skip


def write_report(summary: Mapping[str, Any], out: Path, *, pdf: bool = False) -> list[Path]:
    """Write `out` (HTML), `out` with `.json` (the summary) and, with `pdf`, a PDF beside it."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        html = render_report(summary)
        out.write_text(html, encoding="utf-8")
        data = out.with_suffix(".json")
        data.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        raise CrewError(
            f"Cannot write the report to {out}: {exc.strerror}.",
            hint="Choose a folder you can write to with --out.",
        ) from exc
    written = [out, data]
    if pdf:
        written.append(print_pdf(out, out.with_suffix(".pdf")))
    return written


def print_pdf(html: Path, target: Path) -> Path:
    """Print `html` to `target` with headless Chromium (Debian's `chromium`), A4."""
    browser = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright ships with crew[dev]
        raise MissingExtraError(
            "PDF output needs Playwright.", hint="pip install 'crew[dev]' (or playwright)"
        ) from exc
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser, headless=True)
        page = chromium.new_page()
        page.goto(html.resolve().as_uri())
        page.pdf(
            path=str(target),
            format="A4",
            print_background=True,
            margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"},
        )
        chromium.close()  # fmt: skip
    return target


def find_chromium() -> str:
    """Path of a Chromium on this machine, or a clear error saying how to get one."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise CrewError(
        "PDF output needs Chromium, and none is on the PATH.",
        hint="Install it (Debian: apt-get install chromium fonts-noto-cjk), or drop --pdf: "
        "the HTML report prints to PDF from any browser.",
    )


def _cards(summary: Mapping[str, Any]) -> list[dict[str, object]]:
    cards: list[dict[str, object]] = []
    churn = summary["discrimination"].get("churn")
    if churn:
        cards.append(
            {
                "key": "discrimination.churn.roc_auc",
                "value": churn["roc_auc"],
                "format": "{:.3f}",
                "label": f"churn ROC AUC ({churn['score']})",
            }
        )
        cards.append({"key": "discrimination.churn.top_decile_lift",
                      "value": churn["top_decile_lift"], "format": "{:.2f}",
                      "label": "churn top-decile lift"})  # fmt: skip
    for i, row in enumerate(summary["timeliness"]["by_kind"]):
        if row["outcomes"]:
            cards.append(
                {
                    "key": f"timeliness.by_kind.{i}.warned",
                    "value": row["warned"],
                    "format": "{:,}",
                    "label": f"of {row['outcomes']} {row['kind']} outcomes warned",
                }
            )
            cards.append({"key": f"timeliness.by_kind.{i}.lead.median",
                          "value": row["lead"]["median"], "format": "{:.0f}",
                          "label": f"median days of warning before {row['kind']}"})  # fmt: skip
    cards.append(
        {
            "key": "timeliness.false_alarms_per_1000_per_week",
            "value": summary["timeliness"]["false_alarms_per_1000_per_week"],
            "format": "{:.2f}",
            "label": "false alarms per 1,000 customers per week",
        }
    )
    return cards  # fmt: skip


def _charts(summary: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for kind, d in summary["discrimination"].items():
        curves = d["curves"]
        out[f"roc_{kind}"] = charts.curves_chart(
            curves["roc"], x_label="false positive rate", y_label="true positive rate",
            diagonal=True,
        )  # fmt: skip
        out[f"pr_{kind}"] = charts.curves_chart(
            curves["pr"], x_label="recall", y_label="precision", baseline=d["base_rate"]
        )
        out[f"gains_{kind}"] = charts.gains_chart(curves["gains"])
        out[f"lift_{kind}"] = charts.lift_chart([r["lift"] or 0.0 for r in d["deciles"]])
        ks = d["ks_curve"]
        out[f"ks_{kind}"] = charts.ks_chart(ks["points"], d["ks"], ks["at_share"])
    if summary.get("calibration"):
        out["reliability"] = charts.reliability_chart(summary["calibration"]["bins"])
    lead = summary["timeliness"]["lead"]
    out["lead_time"] = charts.lead_time_chart(lead["histogram"]["edges"],
                                              lead["histogram"]["counts"])  # fmt: skip
    out.update(_warning_charts(summary["warnings"]))
    rows = summary["score_over_time"]
    out["score_over_time"] = charts.fan_chart(rows, y_label=summary["drift"]["score_column"])
    score_psi = summary["drift"]["score"]
    out["psi_score"] = charts.bars_chart(
        [str(r["period"])[:10] for r in score_psi], {"PSI": [r["psi"] or 0.0 for r in score_psi]},
        y_label="PSI",
    )  # fmt: skip
    out["psi_heatmap"] = _psi_heatmap(summary["drift"]["indicators"])
    effect = summary["effect"]
    if effect.get("uplift") is not None:
        out["effect"] = charts.effect_chart(
            ["treated", "control"], [effect["treated_rate"], effect["control_rate"]],
            effect["ci_low"], effect["ci_high"], effect["uplift"],
        )  # fmt: skip
    ranked = sorted(summary["cohorts"], key=lambda c: -abs(c["rho"] or 0.0))[:16]
    out["cohorts"] = charts.cohort_grid(ranked) if ranked else ""
    return out


def _warning_charts(warnings: Mapping[str, Any]) -> dict[str, str]:
    weeks = sorted({r["week"] for r in warnings["per_week"]})
    by: dict[str, dict[str, dict[str, float]]] = {"risk_type": {}, "level": {}}
    for row in warnings["per_week"]:
        for key in by:
            series = by[key].setdefault(row[key], {})
            series[row["week"]] = series.get(row["week"], 0) + row["count"]
    level_order = [lv for lv in ("high", "medium", "low") if lv in by["level"]]
    types = [r["risk_type"] for r in warnings["by_type"]]
    return {
        "per_week_type": charts.bars_chart(
            weeks, {t: [s.get(w, 0) for w in weeks] for t, s in by["risk_type"].items()},
            y_label="warnings opened", stacked=True, colours=charts.RISK_COLOURS,
        ),
        "per_week_level": charts.bars_chart(
            weeks, {lv: [by["level"][lv].get(w, 0) for w in weeks] for lv in level_order},
            y_label="warnings opened", stacked=True, colours=charts.LEVEL_COLOURS,
        ),
        "by_type": charts.bars_chart(
            types,
            {"precision": [r["precision"] or 0.0 for r in warnings["by_type"]],
             "recall": [r["recall"] or 0.0 for r in warnings["by_type"]]},
            y_label="share", horizontal=True,
        ),
    }  # fmt: skip


def _psi_heatmap(indicators: Sequence[Mapping[str, Any]]) -> str:
    if not indicators:
        return ""
    periods = [str(p["period"])[:10] for p in indicators[0]["series"]]
    values = [[p["psi"] or 0.0 for p in row["series"]] for row in indicators]
    return charts.psi_heatmap([str(r["indicator"]) for r in indicators], periods, values)


__all__ = ["SECTIONS", "find_chromium", "fmt", "print_pdf", "render_report", "write_report"]
