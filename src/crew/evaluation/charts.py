"""The report's charts, drawn by matplotlib as inline SVG (no script, no network).

Each function takes part of the backtest summary (plain JSON-like data) and returns one
`<svg>` element as text, so the HTML report, its PDF and the dashboard show the same picture.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot

import itertools

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563")
LEVEL_COLOURS = {"high": "#dc2626", "medium": "#f97316", "low": "#eab308", "none": "#16a34a"}
RISK_COLOURS = {
    "churn": "#2563eb", "complaint_surge": "#dc2626", "fraud": "#9333ea",
    "data_leakage": "#16a34a", "satisfaction_decline": "#ea580c", "trust_breakdown": "#0891b2",
    "fake_review": "#db2777", "external_shock": "#4b5563",
}  # fmt: skip
BAND_COLOURS = {"stable": "#16a34a", "moderate": "#f59e0b", "shift": "#dc2626"}

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: smaller files, the page's own fonts
        "svg.hashsalt": "crew",  # stable element ids: the same data gives the same file
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }
)

Points = Sequence[Sequence[float]]


def svg_of(figure: Figure) -> str:
    """The figure as an inline `<svg>` element (no XML prolog), then closed."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def curves_chart(
    curves: Mapping[str, Points],
    *,
    x_label: str,
    y_label: str,
    diagonal: bool = False,
    baseline: float | None = None,
) -> str:
    """Several named curves on one axis (ROC, precision-recall)."""
    figure, axis = plt.subplots(figsize=(4.6, 3.6))
    for i, (name, points) in enumerate(curves.items()):
        if points:
            xs, ys = zip(*points, strict=True)
            axis.plot(xs, ys, color=PALETTE[i % len(PALETTE)], label=name, linewidth=1.6)
    if diagonal:
        axis.plot([0, 1], [0, 1], color="#9ca3af", linestyle="--", linewidth=1, label="chance")
    if baseline is not None:
        axis.axhline(baseline, color="#9ca3af", linestyle="--", linewidth=1, label="base rate")
    axis.set(xlabel=x_label, ylabel=y_label, xlim=(0, 1), ylim=(0, 1.02))
    axis.legend(loc="best", fontsize=7, frameon=False)
    return svg_of(figure)


def gains_chart(gains: Mapping[str, Sequence[float]]) -> str:
    """Cumulative share of outcomes captured by the top deciles of each score (gains)."""
    figure, axis = plt.subplots(figsize=(4.6, 3.6))
    for i, (name, captured) in enumerate(gains.items()):
        xs = [0.0, *[(k + 1) / len(captured) for k in range(len(captured))]]
        axis.plot(xs, [0.0, *captured], marker="o", markersize=3, label=name,
                  color=PALETTE[i % len(PALETTE)])  # fmt: skip
    axis.plot([0, 1], [0, 1], color="#9ca3af", linestyle="--", linewidth=1, label="random")
    axis.set(xlabel="share of customers, riskiest first", ylabel="share of outcomes captured")
    axis.legend(loc="lower right", fontsize=7, frameon=False)
    return svg_of(figure)


def lift_chart(lifts: Sequence[float]) -> str:
    """Lift of each decile of the main score (1 = no better than random)."""
    figure, axis = plt.subplots(figsize=(4.6, 3.0))
    axis.bar(range(1, len(lifts) + 1), lifts, color=PALETTE[0])
    axis.axhline(1.0, color="#9ca3af", linestyle="--", linewidth=1)
    axis.set(xlabel="decile (1 = riskiest)", ylabel="lift")
    axis.set_xticks(range(1, len(lifts) + 1))
    return svg_of(figure)


def ks_chart(curve: Points, ks: float, at_share: float) -> str:
    """Cumulative shares of outcomes and of non-outcomes by score rank; KS is the widest gap."""
    figure, axis = plt.subplots(figsize=(4.6, 3.4))
    if curve:
        share, positives, negatives = zip(*curve, strict=True)
        axis.plot(share, positives, color=PALETTE[1], label="outcomes")
        axis.plot(share, negatives, color=PALETTE[0], label="no outcome")
        axis.axvline(at_share, color="#6b7280", linestyle=":", linewidth=1)
        axis.set_title(f"KS = {ks:.3f} at the top {at_share:.0%}", fontsize=9)
    axis.set(xlabel="share of customers, riskiest first", ylabel="cumulative share")
    axis.legend(loc="lower right", fontsize=7, frameon=False)
    return svg_of(figure)


def reliability_chart(bins: Sequence[Mapping[str, float]]) -> str:
    """Observed outcome rate against predicted probability per bin (calibration)."""
    figure, axis = plt.subplots(figsize=(4.6, 3.6))
    predicted = [b["predicted"] for b in bins]
    observed = [b["observed"] for b in bins]
    top = max([*predicted, *observed, 1e-3]) * 1.1
    axis.plot([0, top], [0, top], color="#9ca3af", linestyle="--", linewidth=1, label="perfect")
    axis.plot(predicted, observed, marker="o", color=PALETTE[0], label="model")
    axis.set(xlabel="mean predicted probability", ylabel="observed rate", xlim=(0, top),
             ylim=(0, top))  # fmt: skip
    axis.legend(loc="upper left", fontsize=7, frameon=False)
    return svg_of(figure)


def bars_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    y_label: str,
    colours: Mapping[str, str] | None = None,
    stacked: bool = False,
    horizontal: bool = False,
) -> str:
    """Grouped or stacked bars: one group per label, one bar per series."""
    height = max(2.6, 0.28 * len(labels) + 1) if horizontal else 3.2
    figure, axis = plt.subplots(figsize=(6.4 if not horizontal else 5.6, height))
    n = max(len(series), 1)
    width = 0.8 if stacked else 0.8 / n
    bottom = [0.0] * len(labels)
    positions = list(range(len(labels)))
    for i, (name, values) in enumerate(series.items()):
        colour = (colours or {}).get(name, PALETTE[i % len(PALETTE)])
        offsets = positions if stacked else [p - 0.4 + width * (i + 0.5) for p in positions]
        if horizontal:
            axis.barh(offsets, values, height=width, left=bottom if stacked else None,
                      label=name, color=colour)  # fmt: skip
        else:
            axis.bar(offsets, values, width=width, bottom=bottom if stacked else None,
                     label=name, color=colour)  # fmt: skip
        if stacked:
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if horizontal:
        axis.set_yticks(positions, labels, fontsize=7)
        axis.invert_yaxis()
        axis.set_xlabel(y_label)
    else:
        step = max(1, len(labels) // 14)
        axis.set_xticks(positions[::step], list(labels)[::step], rotation=45, ha="right",
                        fontsize=7)  # fmt: skip
        axis.set_ylabel(y_label)
    if len(series) > 1:
        axis.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return svg_of(figure)


def fan_chart(rows: Sequence[Mapping[str, float | str]], *, y_label: str) -> str:
    """The score's distribution over time: median line inside p10-p90 and p25-p75 bands."""
    figure, axis = plt.subplots(figsize=(6.4, 3.0))
    xs = list(range(len(rows)))

    def value(key: str) -> list[float]:
        return [float(r[key]) for r in rows]

    axis.fill_between(xs, value("p10"), value("p90"), color=PALETTE[0], alpha=0.15, label="p10-p90")
    axis.fill_between(xs, value("p25"), value("p75"), color=PALETTE[0], alpha=0.3, label="p25-p75")
    axis.plot(xs, value("p50"), color=PALETTE[0], label="median")
    step = max(1, len(rows) // 12)
    axis.set_xticks(xs[::step], [str(r["as_of"])[:10] for r in rows][::step], rotation=45,
                    ha="right", fontsize=7)  # fmt: skip
    axis.set_ylabel(y_label)
    axis.legend(fontsize=7, frameon=False, loc="upper left")
    return svg_of(figure)


def psi_heatmap(indicators: Sequence[str], periods: Sequence[str], values: Points) -> str:
    """PSI of each indicator between consecutive periods, coloured by band (0.1 / 0.25)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    height = max(2.4, 0.13 * len(indicators) + 1.2)
    figure, axis = plt.subplots(figsize=(6.4, height))
    colours = ListedColormap([BAND_COLOURS["stable"], BAND_COLOURS["moderate"],
                              BAND_COLOURS["shift"]])  # fmt: skip
    norm = BoundaryNorm([0, 0.1, 0.25, 1e9], colours.N)
    axis.imshow(values, aspect="auto", cmap=colours, norm=norm, interpolation="nearest")
    axis.set_yticks(range(len(indicators)), indicators, fontsize=6)
    step = max(1, len(periods) // 12)
    axis.set_xticks(range(len(periods))[::step], list(periods)[::step], rotation=45,
                    ha="right", fontsize=7)  # fmt: skip
    axis.grid(False)
    return svg_of(figure)


def lead_time_chart(edges: Sequence[float], counts: Sequence[int]) -> str:
    """How many days before the outcome its first warning came."""
    figure, axis = plt.subplots(figsize=(4.6, 3.0))
    if counts:
        widths = [b - a for a, b in itertools.pairwise(edges)]
        axis.bar(edges[:-1], counts, width=widths, align="edge", color=PALETTE[2],
                 edgecolor="white")  # fmt: skip
    axis.set(xlabel="days of warning before the outcome", ylabel="outcomes")
    return svg_of(figure)


def effect_chart(
    groups: Sequence[str], rates: Sequence[float], low: float, high: float, uplift: float
) -> str:
    """Retention of treated vs control, with the uplift's bootstrap interval in the title."""
    figure, axis = plt.subplots(figsize=(4.6, 3.0))
    axis.bar(groups, rates, color=[PALETTE[0], "#9ca3af"][: len(groups)])
    axis.set(ylabel="retained within the horizon", ylim=(0, 1))
    axis.set_title(f"uplift {uplift:+.1%} (95% CI {low:+.1%} to {high:+.1%})", fontsize=9)
    return svg_of(figure)


def cohort_grid(cohorts: Sequence[Mapping[str, object]], columns: int = 4) -> str:
    """Outcome rate by decile of each indicator, small multiples with 95% intervals."""
    rows = max(1, -(-len(cohorts) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(7.2, 1.7 * rows), squeeze=False)
    for axis in axes.flat[len(cohorts) :]:
        axis.set_visible(False)
    for axis, cohort in zip(axes.flat, cohorts, strict=False):
        bins = [b for b in cohort["bins"] if not b.get("missing")]  # type: ignore[attr-defined]
        xs = list(range(1, len(bins) + 1))
        rate = [b["rate"] for b in bins]
        # Clipped at zero: rounding can put an interval's end a hair inside its rate.
        low = [max(b["rate"] - b["ci_low"], 0.0) for b in bins]
        high = [max(b["ci_high"] - b["rate"], 0.0) for b in bins]
        colour = PALETTE[0] if cohort.get("agrees", True) else PALETTE[1]
        axis.errorbar(xs, rate, yerr=[low, high], color=colour, marker="o", markersize=2,
                      linewidth=1, elinewidth=0.6)  # fmt: skip
        axis.set_title(str(cohort["indicator"]), fontsize=7)
        axis.tick_params(labelsize=6)
    figure.tight_layout()
    return svg_of(figure)


__all__ = [
    "bars_chart",
    "cohort_grid",
    "curves_chart",
    "effect_chart",
    "fan_chart",
    "gains_chart",
    "ks_chart",
    "lead_time_chart",
    "lift_chart",
    "psi_heatmap",
    "reliability_chart",
    "svg_of",
]
