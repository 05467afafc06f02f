"""SQL that reads a source value as a canonical type: numbers, dates, times, JSON, texts.

Every expression returns NULL rather than failing on a value it cannot read, so that the
importer can list the bad values with their rows instead of stopping at the first one.
"""

from __future__ import annotations

import re

from crew.errors import MappingError
from crew.ingest._sql import literal
from crew.ingest.mapping import Scalar
from crew.store.schema import Column

_NUMERIC = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U\w*INT|FLOAT|DOUBLE|DECIMAL.*)$")
_EXACT_INT = {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"}
_NAIVE_TS = {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATETIME"}
# A text timestamp that carries its own offset, e.g. 2024-03-05T14:03:11+08:00 or ...Z.
_OFFSET_RE = r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?)$"


def value_map(expr: str, source_type: str, values: dict[str, Scalar]) -> str:
    """SQL translating source values (as text); values not listed pass through unchanged.

    >>> print(value_map("k", "BIGINT", {"1": "complaint"}))
    (CASE CAST(k AS VARCHAR) WHEN '1' THEN 'complaint' ELSE CAST(k AS VARCHAR) END)
    """
    text = as_text(expr, source_type)
    whens = " ".join(
        f"WHEN {literal(str(k))} THEN {'NULL' if v is None else literal(_scalar_text(v))}"
        for k, v in values.items()
    )
    return f"(CASE {text} {whens} ELSE {text} END)"


def _scalar_text(value: Scalar) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def as_text(expr: str, source_type: str) -> str:
    """SQL giving a source value as text, blank strings as NULL.

    >>> as_text('"amount"', "DOUBLE")
    'CAST("amount" AS VARCHAR)'
    """
    if source_type == "VARCHAR":
        return f"NULLIF(trim({expr}), '')"
    return f"CAST({expr} AS VARCHAR)"


def typed_sql(
    expr: str, source_type: str, col: Column, formats: list[str], tz: str
) -> tuple[str, bool, str]:
    """(typed SQL, can-fail-on-a-value, what a good value looks like)."""
    target = col.sql_type
    text = as_text(expr, source_type)
    zone = literal(tz)
    if target == "VARCHAR":
        return text, False, "text"
    if target in ("DOUBLE", "INTEGER"):
        number = f"TRY_CAST({text} AS DOUBLE)" if source_type == "VARCHAR" else expr
        if target == "DOUBLE":
            exact = bool(_NUMERIC.match(source_type))
            return (
                f"CAST({expr} AS DOUBLE)" if exact else f"TRY_CAST({number} AS DOUBLE)",
                not exact,
                "a number",
            )
        if source_type in _EXACT_INT:
            return f"CAST({expr} AS INTEGER)", False, "a whole number"
        return (
            f"(CASE WHEN ({number}) = round({number}) THEN TRY_CAST({number} AS INTEGER) END)",
            True,
            "a whole number",
        )
    if target == "TIMESTAMPTZ":
        return _timestamp_sql(expr, source_type, text, formats, zone)
    if target == "DATE":
        if source_type == "DATE":
            return expr, False, "a date"
        if source_type in _NAIVE_TS:
            return f"CAST({expr} AS DATE)", False, "a date"
        if source_type == "TIMESTAMP WITH TIME ZONE":
            return f"CAST(timezone({zone}, {expr}) AS DATE)", False, "a date"
        if formats:
            fmts = "[" + ", ".join(literal(f) for f in formats) + "]"
            return (
                f"CAST(try_strptime({text}, {fmts}) AS DATE)",
                True,
                f"a date in the format {' or '.join(formats)}",
            )
        return (
            f"coalesce(TRY_CAST({text} AS DATE), CAST(TRY_CAST({text} AS TIMESTAMP) AS DATE))",
            True,
            "a date like 2024-03-05",
        )
    if target == "JSON":
        if source_type.startswith(("STRUCT", "MAP")):
            return f"to_json({expr})", False, "a JSON object"
        return (
            f"(CASE WHEN json_valid({text}) THEN CAST({text} AS JSON) END)",
            True,
            "a JSON object",
        )
    raise AssertionError(f"no parsing rule for {target}")


def _timestamp_sql(
    expr: str, source_type: str, text: str, formats: list[str], zone: str
) -> tuple[str, bool, str]:
    if source_type == "TIMESTAMP WITH TIME ZONE":
        return expr, False, "a timestamp"
    if source_type in _NAIVE_TS or source_type == "DATE":
        return f"timezone({zone}, CAST({expr} AS TIMESTAMP))", False, "a timestamp"
    if formats:
        aware = ["%z" in f or "%Z" in f for f in formats]
        fmts = "[" + ", ".join(literal(f) for f in formats) + "]"
        expect = f"a date/time in the format {' or '.join(formats)}"
        if all(aware):
            return f"CAST(try_strptime({text}, {fmts}) AS TIMESTAMPTZ)", True, expect
        if not any(aware):
            return f"timezone({zone}, try_strptime({text}, {fmts}))", True, expect
        raise MappingError(
            f"Formats {formats} mix zone-aware (%z) and naive layouts.",
            hint="Split them: give one source per layout, or use only one kind.",
        )
    return (
        f"(CASE WHEN regexp_matches({text}, {literal(_OFFSET_RE)}) "
        f"THEN TRY_CAST({text} AS TIMESTAMPTZ) "
        f"ELSE timezone({zone}, TRY_CAST({text} AS TIMESTAMP)) END)",
        True,
        "a date/time like 2024-03-05 14:03:11",
    )


__all__ = ["as_text", "typed_sql", "value_map"]
