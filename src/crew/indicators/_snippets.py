"""The catalog's SQL snippets as Python functions of one row, for the online indicators.

The batch compiles a snippet to DuckDB or Spark SQL (`_compile.py`); the online state
evaluates the very same snippet on one row at a time. This module interprets the parsed
snippet (sqlglot's tree, DuckDB dialect) with SQL's rules: NULL (None) propagates through
comparisons and arithmetic, AND/OR use three-valued logic, `/` divides as doubles (x/0 is
±inf, 0/0 NaN, as in DuckDB). Timestamps are integers, microseconds since the epoch (UTC),
so that window bounds compare exactly. A construct it does not know raises
`UnsupportedSnippet`, and the indicator is reported as not available online.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from sqlglot import exp

from crew.indicators.catalog import parse_snippet

Row = Mapping[str, object]
Getter = Callable[[Row, int], object]
"""(row, as_of in microseconds) -> value; None is SQL's NULL."""

US_PER_S = 1_000_000
US_PER_HOUR = 3_600 * US_PER_S
US_PER_DAY = 86_400 * US_PER_S
_EPOCH = date(1970, 1, 1)

_Operator = Callable[[Any, Any], object]
_COMPARE: dict[type[exp.Expression], _Operator] = {
    exp.EQ: operator.eq,
    exp.NEQ: operator.ne,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
}


class UnsupportedSnippet(ValueError):
    """A snippet uses SQL that has no online counterpart (a message says which)."""


def compile_snippet(sql: str | exp.Expression) -> Getter:
    """A function computing the snippet on one row at one instant.

    >>> f = compile_snippet("CASE WHEN amount > 100 AND type = 'purchase' THEN 1 ELSE 0 END")
    >>> f({"amount": 150.0, "type": "purchase"}, 0), f({"amount": None, "type": "x"}, 0)
    (1, 0)
    """
    tree = parse_snippet(sql) if isinstance(sql, str) else sql
    return _node(tree)


def _node(node: exp.Expression) -> Getter:
    if isinstance(node, exp.Paren):
        return _node(node.this)
    if isinstance(node, exp.Column):
        return _column(node.name)
    if isinstance(node, exp.Literal):
        value = _literal(node)
        return lambda row, at: value
    if isinstance(node, exp.Null):
        return lambda row, at: None
    if isinstance(node, exp.Boolean):
        flag = bool(node.this)
        return lambda row, at: flag
    if type(node) in _COMPARE:
        return _binary(node, _COMPARE[type(node)])
    if isinstance(node, exp.And | exp.Or):
        return _logic(node)
    if isinstance(node, exp.Not):
        inner = _node(node.this)
        return lambda row, at: None if (v := inner(row, at)) is None else not v
    if isinstance(node, exp.Is):
        if not isinstance(node.expression, exp.Null):
            raise UnsupportedSnippet(f"IS {node.expression.sql()} (only IS NULL)")
        inner = _node(node.this)
        return lambda row, at: inner(row, at) is None
    if isinstance(node, exp.In):
        return _in(node)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div):
        return _arithmetic(node)
    if isinstance(node, exp.Neg):
        inner = _node(node.this)
        return lambda row, at: None if (v := inner(row, at)) is None else -v  # type: ignore[operator]
    if isinstance(node, exp.Case):
        return _case(node)
    if isinstance(node, exp.Coalesce):
        parts = [_node(node.this), *(_node(e) for e in node.expressions)]
        return lambda row, at: next((v for p in parts if (v := p(row, at)) is not None), None)
    if isinstance(node, exp.TimeToUnix):  # epoch(ts): seconds, as a double
        return _unary(node, lambda v: v / US_PER_S)  # type: ignore[operator]
    if isinstance(node, exp.Hour):
        return _unary(node, lambda v: (v // US_PER_HOUR) % 24)  # type: ignore[operator]
    if isinstance(node, exp.Ceil | exp.Floor):
        rounding = math.ceil if isinstance(node, exp.Ceil) else math.floor
        return _unary(node, lambda v: float(rounding(v)) if isinstance(v, float) else v)
    if isinstance(node, exp.Abs):
        return _unary(node, abs)  # type: ignore[arg-type]
    if isinstance(node, exp.Cast):
        return _cast(node)
    if isinstance(node, exp.DateDiff):
        return _date_diff(node)
    if isinstance(node, exp.ArrayContains):  # list_contains(list, x): NULL if either is
        items, item = _node(node.this), _node(node.expression)

        def contains(row: Row, at: int) -> object:
            listed, wanted = items(row, at), item(row, at)
            if listed is None or wanted is None:
                return None
            return wanted in listed  # type: ignore[operator]

        return contains
    raise UnsupportedSnippet(f"SQL {type(node).__name__} ({node.sql(dialect='duckdb')})")


def _column(name: str) -> Getter:
    if name == "as_of":
        return lambda row, at: at
    return lambda row, at: row.get(name)


def _literal(node: exp.Literal) -> object:
    if node.is_string:
        return str(node.this)
    text = str(node.this)
    return float(text) if any(c in text for c in ".eE") else int(text)


def _unary(node: exp.Expression, fn: Callable[[object], object]) -> Getter:
    inner = _node(node.this)
    return lambda row, at: None if (v := inner(row, at)) is None else fn(v)


def _binary(node: exp.Expression, fn: _Operator) -> Getter:
    left, right = _node(node.this), _node(node.expression)

    def compute(row: Row, at: int) -> object:
        a = left(row, at)
        if a is None:
            return None
        b = right(row, at)
        return None if b is None else fn(a, b)

    return compute


def _logic(node: exp.And | exp.Or) -> Getter:
    left, right = _node(node.this), _node(node.expression)
    if isinstance(node, exp.And):

        def both(row: Row, at: int) -> object:
            a = left(row, at)
            if a is False:
                return False
            b = right(row, at)
            if b is False:
                return False
            return None if a is None or b is None else True

        return both

    def either(row: Row, at: int) -> object:
        a = left(row, at)
        if a is True:
            return True
        b = right(row, at)
        if b is True:
            return True
        return None if a is None or b is None else False

    return either


def _in(node: exp.In) -> Getter:
    if node.args.get("query") is not None or not node.expressions:
        raise UnsupportedSnippet("IN with a subquery")
    inner = _node(node.this)
    if all(isinstance(e, exp.Literal) for e in node.expressions):
        choices = frozenset(_literal(e) for e in node.expressions)
        return lambda row, at: None if (v := inner(row, at)) is None else v in choices
    parts = [_node(e) for e in node.expressions]
    return lambda row, at: (
        None if (v := inner(row, at)) is None else v in {p(row, at) for p in parts}
    )


def _divide(a: object, b: object) -> object:
    """DuckDB's `/`: a double division, ±inf or NaN for a zero divisor."""
    x, y = float(a), float(b)  # type: ignore[arg-type]
    if y == 0:
        return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
    return x / y


def _arithmetic(node: exp.Expression) -> Getter:
    operators: dict[type[exp.Expression], _Operator] = {
        exp.Add: operator.add,
        exp.Sub: operator.sub,
        exp.Mul: operator.mul,
        exp.Div: _divide,
    }
    return _binary(node, operators[type(node)])


def _case(node: exp.Case) -> Getter:
    subject = _node(node.this) if node.args.get("this") is not None else None
    branches = [(_node(i.this), _node(i.args["true"])) for i in node.args.get("ifs") or []]
    default = _node(node.args["default"]) if node.args.get("default") is not None else None

    def compute(row: Row, at: int) -> object:
        value = subject(row, at) if subject is not None else True
        for test, then in branches:
            got = test(row, at)
            if (got is True) if subject is None else (value is not None and got == value):
                return then(row, at)
        return default(row, at) if default is not None else None

    return compute


def as_date(value: object) -> date:
    """A DATE from a date, a timestamp in microseconds or an ISO text.

    >>> as_date(86_400_000_000 + 5), as_date("2024-03-01")
    (datetime.date(1970, 1, 2), datetime.date(2024, 3, 1))
    """
    if isinstance(value, date):
        return value
    if isinstance(value, int):
        return _EPOCH + timedelta(days=value // US_PER_DAY)
    return date.fromisoformat(str(value)[:10])


def _cast(node: exp.Cast) -> Getter:
    to = node.to.this
    if to == exp.DataType.Type.DATE:
        return _unary(node, as_date)
    if to in (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT):
        return _unary(node, float)  # type: ignore[arg-type]
    if to in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
        return _unary(node, str)
    raise UnsupportedSnippet(f"CAST to {to.value}")


def _date_diff(node: exp.DateDiff) -> Getter:
    unit = node.args.get("unit")
    if unit is None or unit.name.lower() != "day":
        raise UnsupportedSnippet("date_diff in units other than days")
    end, start = _node(node.this), _node(node.expression)

    def compute(row: Row, at: int) -> object:
        a, b = end(row, at), start(row, at)
        return None if a is None or b is None else (as_date(a) - as_date(b)).days

    return compute


__all__ = [
    "US_PER_DAY",
    "US_PER_S",
    "Getter",
    "Row",
    "UnsupportedSnippet",
    "as_date",
    "compile_snippet",
]
