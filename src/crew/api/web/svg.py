"""Small inline SVG charts for the dashboard: stacked weekly bars and a risk line.

Drawn by hand rather than by matplotlib so that labels in either language are plain text
the browser sets in its own fonts; every mark carries a `<title>` tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

_FONT = 'font-family="inherit" font-size="11" fill="#6b7280"'


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    width: int = 1000,
    height: int = 240,
) -> Markup:
    """One bar per label, stacked from `series` of (name, colour, values).

    >>> svg = stacked_bars(["w1", "w2"], [("High", "#dc2626", [1, 2]), ("Low", "#eab308", [0, 3])])
    >>> svg.count("<title>"), "w2" in svg  # a tooltip per bar
    (4, True)
    """
    left, bottom, top = 36, 40, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    totals = [sum(s[2][i] for s in series) for i in range(len(labels))]
    peak = max([*totals, 1])
    step = plot_w / max(len(labels), 1)
    parts = [_axis_line(left, top, plot_h, plot_w, peak)]
    for i, label in enumerate(labels):
        x, base = left + i * step + step * 0.15, float(top + plot_h)
        for name, colour, values in series:
            value = values[i]
            h = plot_h * value / peak
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(label)} · {escape(name)}: {value}</title></rect>'
            )
        if i % max(1, len(labels) // 8) == 0:
            parts.append(
                f'<text x="{x + step * 0.35:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f"{_FONT}>{escape(label)}</text>"
            )
    legend_x = left
    for name, colour, _ in series:
        parts.append(
            f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{height - 5}" {_FONT}>{escape(name)}</text>'
        )
        legend_x += 24 + 9 * len(name)
    return _svg(width, height, parts)


def risk_line(
    points: Sequence[tuple[str, float]],
    *,
    ceiling: float = 100.0,
    colour: str = "#2563eb",
    width: int = 600,
    height: int = 180,
) -> Markup:
    """A line through (label, value) points on a 0..`ceiling` scale, a dot at each point.

    >>> svg = risk_line([("2025-06-01", 20.0), ("2025-06-08", 35.5)])
    >>> svg.count("<circle"), "35.5" in svg
    (2, True)
    """
    left, bottom, top = 36, 24, 10
    plot_w, plot_h = width - left - 12, height - bottom - top
    step = plot_w / max(len(points) - 1, 1)
    xy = [
        (left + i * step, top + plot_h - plot_h * min(max(v, 0.0), ceiling) / ceiling)
        for i, (_, v) in enumerate(points)
    ]
    parts = [_axis_line(left, top, plot_h, plot_w, ceiling)]
    if len(xy) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for (label, value), (x, y) in zip(points, xy, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
            f"<title>{escape(label)}: {value:g}</title></circle>"
        )
    for index in sorted({0, len(points) - 1}) if points else []:
        anchor = "start" if index == 0 else "end"
        parts.append(
            f'<text x="{xy[index][0]:.1f}" y="{height - 6}" text-anchor="{anchor}" {_FONT}>'
            f"{escape(points[index][0])}</text>"
        )
    return _svg(width, height, parts)


def _axis_line(left: int, top: int, plot_h: int, plot_w: int, peak: float) -> str:
    return (
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#d1d5db"/>'
        f'<line x1="{left}" y1="{top}" x2="{left + plot_w}" y2="{top}" stroke="#f3f4f6"/>'
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" {_FONT}>{peak:g}</text>'
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" {_FONT}>0</text>'
    )


def _svg(width: int, height: int, parts: list[str]) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img">{body}</svg>'
    )


__all__ = ["risk_line", "stacked_bars"]
