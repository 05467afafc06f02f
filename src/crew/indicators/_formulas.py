"""Formulas of the catalog (expression, ratio, change) as Python functions of other values.

The online counterpart of `_compile._formula_sql`: the same NULL rules, the same per-day
scaling of a baseline, the same treatment of zero baselines, in the same arithmetic order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlglot import exp

from crew.indicators._snippets import UnsupportedSnippet, compile_snippet
from crew.indicators.catalog import Catalog, ChangeMethod, IndicatorDef, parse_snippet

Formula = Callable[[Mapping[str, object], int], object]
"""(values of other indicators and customer columns, as_of in microseconds) -> value."""


def formula_order(definitions: Sequence[IndicatorDef]) -> list[IndicatorDef]:
    """Formulas so that each comes after the formulas it reads."""
    formulas = {i.id: i for i in definitions if i.aggregate is None}
    done: set[str] = {i.id for i in definitions if i.aggregate is not None}
    ordered: list[IndicatorDef] = []
    while len(ordered) < len(formulas):
        ready = [f for f in formulas.values() if f.id not in done and set(f.references()) <= done]
        assert ready, "cycles are rejected when the catalog is loaded"
        ordered.extend(ready)
        done |= {f.id for f in ready}
    return ordered


def compile_formula(catalog: Catalog, ind: IndicatorDef) -> Formula:
    if ind.expression is not None:
        tree = parse_snippet(ind.expression)
        if tree.find(exp.Window) is not None:
            raise UnsupportedSnippet("it compares customers with each other (a window over them)")
        return compile_snippet(tree)
    if ind.ratio is not None:
        num, den, zero = ind.ratio.numerator, ind.ratio.denominator, ind.ratio.when_zero
        return lambda v, at: zero if not v.get(den) else _div(v.get(num), v[den])
    assert ind.change is not None
    spec = ind.change
    recent, baseline, k = spec.recent, spec.baseline, spec.pseudo_count
    scale = None
    if spec.per_day:
        scale = (
            float(catalog.by_id[spec.recent].window_days),
            float(catalog.by_id[spec.baseline].window_days),
        )

    def change(v: Mapping[str, object], at: int) -> object:
        r, b = v.get(recent), v.get(baseline)
        if r is None or b is None:
            return None
        x, y = float(r), float(b)  # type: ignore[arg-type]
        if scale is not None:
            y = y * scale[0] / scale[1]
        match spec.method:
            case ChangeMethod.DIFFERENCE:
                return x - y
            case ChangeMethod.SMOOTHED:
                return (x + k) / (y + k) - 1.0
            case ChangeMethod.RELATIVE:
                return (0.0 if x == 0 else None) if y == 0 else (x - y) / abs(y)
            case ChangeMethod.SYMMETRIC:
                both = x == 0 and y == 0
                return 0.0 if both else (x - y) / ((abs(x) + abs(y)) / 2.0)

    return change


def _div(a: object, b: object) -> object:
    return None if a is None else float(a) / float(b)  # type: ignore[arg-type]


__all__ = ["Formula", "compile_formula", "formula_order"]
