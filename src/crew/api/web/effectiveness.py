"""The evaluation page's content: key figures and charts of `reports/backtest.json`.

Charts are the effectiveness report's own (`crew.evaluation.charts`), so the dashboard and
the HTML report show the same pictures. Drawing them takes a moment, so they are kept until
the summary file changes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from crew.evaluation import charts

SUMMARY_FILE = Path("reports") / "backtest.json"

_lock = threading.Lock()  # matplotlib's pyplot is not thread-safe
_cache: dict[Path, tuple[int, Effectiveness]] = {}


@dataclass(frozen=True)
class Effectiveness:
    """Key figures and charts (inline SVG) of one backtest summary."""

    meta: dict[str, Any]
    scores: list[dict[str, Any]]
    timeliness: list[dict[str, Any]]
    false_alarms_per_1000_per_week: float | None
    charts: dict[str, Markup]


def load_effectiveness(root: Path) -> Effectiveness | None:
    """The workspace's backtest figures, or None when `crew backtest` has not run."""
    path = root / SUMMARY_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        summary = json.loads(path.read_text(encoding="utf-8"))
        result = effectiveness(summary)
        _cache[path] = (stamp, result)
        return result


def effectiveness(summary: Mapping[str, Any]) -> Effectiveness:
    """Key figures and charts of a backtest summary (as `crew backtest` writes it)."""
    timeliness = summary.get("timeliness", {})
    rows = [
        {
            "kind": row["kind"],
            "outcomes": row["outcomes"],
            "warned": row["warned"],
            "median_lead": (row.get("lead") or {}).get("median"),
        }
        for row in timeliness.get("by_kind", [])
    ]
    return Effectiveness(
        meta=dict(summary.get("meta", {})),
        scores=list(summary.get("scores", [])),
        timeliness=rows,
        false_alarms_per_1000_per_week=timeliness.get("false_alarms_per_1000_per_week"),
        charts=_charts(summary),
    )


def _charts(summary: Mapping[str, Any]) -> dict[str, Markup]:
    out: dict[str, str] = {}
    discrimination = summary.get("discrimination", {})
    kind = "churn" if "churn" in discrimination else next(iter(discrimination), None)
    if kind is not None:
        d = discrimination[kind]
        out["roc"] = charts.curves_chart(
            d["curves"]["roc"], x_label="false positive rate", y_label="true positive rate",
            diagonal=True,
        )  # fmt: skip
        out["lift"] = charts.lift_chart([r["lift"] or 0.0 for r in d["deciles"]])
    if summary.get("calibration"):
        out["calibration"] = charts.reliability_chart(summary["calibration"]["bins"])
    lead = summary.get("timeliness", {}).get("lead", {}).get("histogram")
    if lead and lead["counts"]:
        out["lead_time"] = charts.lead_time_chart(lead["edges"], lead["counts"])
    per_week = summary.get("warnings", {}).get("per_week", [])
    if per_week:
        weeks = sorted({r["week"] for r in per_week})
        levels = [lv for lv in ("high", "medium", "low") if any(r["level"] == lv for r in per_week)]
        series = {
            lv: [sum(r["count"] for r in per_week if r["week"] == w and r["level"] == lv)
                 for w in weeks]
            for lv in levels
        }  # fmt: skip
        out["per_week_level"] = charts.bars_chart(
            [str(w)[:10] for w in weeks], series, y_label="warnings opened", stacked=True,
            colours=charts.LEVEL_COLOURS,
        )  # fmt: skip
    psi = summary.get("drift", {}).get("score", [])
    if psi:
        out["drift"] = charts.bars_chart(
            [str(r["period"])[:10] for r in psi], {"PSI": [r["psi"] or 0.0 for r in psi]},
            y_label="PSI",
        )  # fmt: skip
    return {key: Markup(svg) for key, svg in out.items()}  # drawn by matplotlib: no user text


__all__ = ["SUMMARY_FILE", "Effectiveness", "effectiveness", "load_effectiveness"]
