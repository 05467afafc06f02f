"""The data contract of an import: typed column expressions and the checks on them.

`plan_import` reads the canonical schema, the mapping and the source's column types and
returns SQL: one typed expression per canonical column and row-level checks, each with
the message and the hint a user sees when it fails.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from enum import StrEnum

from crew.errors import MappingError
from crew.ingest._sql import ident, literal
from crew.ingest._typing import as_text, typed_sql, value_map
from crew.ingest.mapping import ColumnSpec, Mapping, SourceSpec
from crew.ingest.sources import StagedSource
from crew.store.schema import CANONICAL, Column, TableSpec
from crew.types import Table, TxnType


@dataclass(frozen=True)
class ColumnPlan:
    """How one canonical column is computed from the source."""

    column: Column
    typed: str
    source: str | None = None
    raw: str | None = None
    parsed: bool = False
    expectation: str = ""


class CheckKind(StrEnum):
    """What a check looks at; it decides where the importer can run it."""

    MISSING = "missing"  # a required value is absent (rows are then not written)
    UNPARSABLE = "unparsable"  # needs the raw text, so runs on the source
    LABEL = "label"  # snapshot yes/no label, runs on the source
    NOT_ALLOWED = "not_allowed"  # the rest run on the written rows
    RANGE = "range"
    ORDER = "order"


@dataclass(frozen=True)
class Check:
    """A row-level rule: `condition` is true on a bad row; `value` shows the culprit."""

    kind: CheckKind
    column: str
    condition: str
    value: str
    problem: str
    hint: str

    @property
    def needs_source(self) -> bool:
        """True when the rule reads raw source text, not only the typed values."""
        return self.kind in (CheckKind.MISSING, CheckKind.UNPARSABLE, CheckKind.LABEL)


@dataclass(frozen=True)
class ImportPlan:
    """Everything the importer needs to load one staged source into one table."""

    table: TableSpec
    columns: tuple[ColumnPlan, ...]
    checks: tuple[Check, ...]
    attributes: tuple[tuple[str, str], ...] = ()
    pii_attributes: frozenset[str] = field(default_factory=frozenset)
    label: ColumnPlan | None = None
    yes_values: tuple[str, ...] = ()

    def select_sql(self, relation: str) -> str:
        """`SELECT` over the staged source giving canonical columns, raw texts and `_row`."""
        parts = ["_row"]
        for plan in self.columns:
            parts.append(f"{plan.typed} AS {ident(plan.column.name)}")
            if plan.raw is not None:
                parts.append(f"{plan.raw} AS {ident(raw_name(plan.column.name))}")
        if self.label is not None:
            parts.append(f"{self.label.raw} AS {ident(LABEL)}")
        parts.extend(f"{ident(src)} AS {ident('_attr_' + name)}" for src, name in self.attributes)
        return f"SELECT {', '.join(parts)} FROM {relation}"


LABEL = "_label"


def raw_name(column: str) -> str:
    """Name of the raw-text companion of a canonical column in the typed view."""
    return f"_raw_{column}"


def plan_import(staged: StagedSource, mapping: Mapping) -> ImportPlan:
    """Typed expressions and checks for loading `staged` as its mapping says."""
    spec = staged.item.spec
    table = CANONICAL[staged.item.table]
    _check_mapped_names(spec, table, staged)
    tz = spec.timezone or mapping.timezone
    plans: list[ColumnPlan] = []
    for col in table.columns:
        plans.append(_plan_column(col, spec, staged, mapping.date_formats, tz))
    plans = _apply_shape(plans, spec, staged)
    checks = [c for p in plans for c in _column_checks(p, spec)]
    if table.name == Table.INTERACTIONS:
        checks.append(
            Check(
                CheckKind.ORDER,
                next(p.source or "resolved_ts" for p in plans if p.column.name == "resolved_ts"),
                "resolved_ts < ts",
                "CAST(resolved_ts AS VARCHAR)",
                "resolved at {value}, before the interaction itself",
                "check the two columns' time zones and formats",
            )
        )
    label: ColumnPlan | None = None
    yes: tuple[str, ...] = ()
    if spec.shape == "snapshot":
        assert spec.label is not None
        label, yes = _plan_label(spec, staged), tuple(v.lower() for v in spec.label.yes)
        accepted = ", ".join(literal(v.lower()) for v in (*spec.label.yes, *spec.label.no))
        checks.append(
            Check(
                CheckKind.LABEL,
                spec.label.column,
                f"{LABEL} IS NULL OR lower({LABEL}) NOT IN ({accepted})",
                f"coalesce({LABEL}, '<empty>')",
                "'{value}' is neither yes nor no",
                f"list it under label.yes or label.no (yes: {', '.join(spec.label.yes)})",
            )
        )
    attributes = _attribute_columns(spec, table, plans, staged, label)
    unknown_pii = [c for c in spec.pii if c not in staged.columns]
    if unknown_pii:
        raise MappingError(
            f"{staged.item.label}: pii column '{unknown_pii[0]}' is not in the file"
            f"{_did_you_mean(unknown_pii[0], staged.columns)}.",
            hint=f"Columns: {', '.join(staged.columns)}.",
        )
    return ImportPlan(
        table=table,
        columns=tuple(plans),
        checks=tuple(checks),
        attributes=attributes,
        pii_attributes=frozenset(spec.pii),
        label=label,
        yes_values=yes,
    )


def _check_mapped_names(spec: SourceSpec, table: TableSpec, staged: StagedSource) -> None:
    for canonical, value in spec.columns.items():
        if canonical not in table.names:
            raise MappingError(
                f"{staged.item.label}: '{canonical}' is not a column of {table.name.value}"
                f"{_did_you_mean(canonical, table.names)}.",
                hint=f"Columns of {table.name.value}: {', '.join(table.names)}.",
            )
        cspec = ColumnSpec(column=value) if isinstance(value, str) else value
        for source_col in (cspec.column, cspec.multiply_by):
            if source_col is not None and source_col not in staged.columns:
                raise MappingError(
                    f"{staged.item.label}: columns.{canonical} names '{source_col}', which is "
                    f"not in the file{_did_you_mean(source_col, staged.columns)}.",
                    hint=f"Columns in the file: {', '.join(staged.columns)}.",
                )


def _did_you_mean(name: str, choices: object) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)  # type: ignore[call-overload]
    return f" (did you mean '{close[0]}'?)" if close else ""


def _source_column(col: Column, spec: SourceSpec, staged: StagedSource) -> ColumnSpec | None:
    explicit = spec.column_spec(col.name)
    if explicit is not None:
        return explicit
    if col.name in staged.columns:
        return ColumnSpec(column=col.name)
    for name in staged.columns:
        if name.strip().lower() == col.name:
            return ColumnSpec(column=name)
    return None


def _plan_column(
    col: Column, spec: SourceSpec, staged: StagedSource, formats: list[str], tz: str
) -> ColumnPlan:
    cspec = _source_column(col, spec, staged)
    if cspec is None:
        return ColumnPlan(col, f"CAST(NULL AS {col.sql_type})")
    if cspec.value is not None:
        text = literal(
            str(cspec.value).lower() if isinstance(cspec.value, bool) else str(cspec.value)
        )
        typed, _, expect = typed_sql(text, "VARCHAR", col, cspec.format or formats, tz)
        return ColumnPlan(
            col, typed, source=f"{col.name} (constant)", raw=text, parsed=True, expectation=expect
        )
    assert cspec.column is not None
    source_type = staged.columns[cspec.column]
    expr = ident(cspec.column)
    if cspec.values:
        expr, source_type = value_map(expr, source_type, cspec.values), "VARCHAR"
    zone = cspec.timezone or tz
    typed, parsed, expect = typed_sql(expr, source_type, col, cspec.format or formats, zone)
    raw = as_text(expr, source_type)
    if cspec.multiply_by is not None:
        other = ident(cspec.multiply_by)
        other_typed, other_parsed, _ = typed_sql(
            other, staged.columns[cspec.multiply_by], col, [], zone
        )
        typed = f"(({typed}) * ({other_typed}))"
        other_text = as_text(other, staged.columns[cspec.multiply_by])
        raw = f"({raw} || ' x ' || coalesce({other_text}, '<empty>'))"
        parsed = parsed or other_parsed
    return ColumnPlan(col, typed, source=cspec.column, raw=raw, parsed=parsed, expectation=expect)


def _apply_shape(
    plans: list[ColumnPlan], spec: SourceSpec, staged: StagedSource
) -> list[ColumnPlan]:
    """Defaults and rewrites that a shape or an option asks for."""
    if staged.item.table != Table.TRANSACTIONS:
        return plans
    by_name = {p.column.name: p for p in plans}
    txn_id, amount, kind = by_name["txn_id"], by_name["amount"], by_name["type"]
    if txn_id.source is None and spec.shape == "transaction_log":
        # Logs rarely carry line ids: file name and line make a stable, re-importable id.
        stem = staged.item.path.stem if staged.item.path is not None else staged.item.label
        by_name["txn_id"] = ColumnPlan(
            txn_id.column, f"({literal(stem + ':')} || CAST(_row AS VARCHAR))"
        )
    if kind.source is None:
        kind = ColumnPlan(kind.column, literal(TxnType.PURCHASE.value))
        by_name["type"] = kind
    if spec.negative_amounts == "refund":
        by_name["amount"] = ColumnPlan(
            amount.column,
            f"abs({amount.typed})",
            amount.source,
            amount.raw,
            amount.parsed,
            amount.expectation,
        )
        quantity = by_name["quantity"]
        by_name["quantity"] = ColumnPlan(
            quantity.column,
            f"abs({quantity.typed})",
            quantity.source,
            quantity.raw,
            quantity.parsed,
            quantity.expectation,
        )
        by_name["type"] = ColumnPlan(
            kind.column,
            f"(CASE WHEN ({amount.typed}) < 0 THEN 'refund' ELSE {kind.typed} END)",
            kind.source,
            kind.raw,
            kind.parsed,
            kind.expectation,
        )
    return [by_name[p.column.name] for p in plans]


def _column_checks(plan: ColumnPlan, spec: SourceSpec) -> list[Check]:
    col, name = plan.column, plan.source or plan.column.name
    typed, raw = ident(col.name), ident(raw_name(col.name))
    checks: list[Check] = []
    if col.required:
        missing = f"{typed} IS NULL" + (f" AND {raw} IS NULL" if plan.raw else "")
        hint = (
            f"every row needs a {col.name}"
            if plan.source
            else f"the file has no {col.name} column: map one under columns.{col.name}"
        )
        checks.append(Check(CheckKind.MISSING, name, missing, "''", "missing value", hint))
    if plan.parsed and plan.raw is not None:
        checks.append(
            Check(
                CheckKind.UNPARSABLE,
                name,
                f"{raw} IS NOT NULL AND {typed} IS NULL",
                raw,
                "'{value}' is not " + plan.expectation,
                _unparsable_hint(col),
            )
        )
    if col.allowed is not None:
        allowed = ", ".join(literal(a) for a in col.allowed)
        checks.append(
            Check(
                CheckKind.NOT_ALLOWED,
                name,
                f"{typed} NOT IN ({allowed})",
                typed,
                "'{value}' is not a known " + col.name + f" ({', '.join(col.allowed)})",
                f"translate it under columns.{col.name}.values in the mapping file",
            )
        )
    if col.minimum is not None:
        hint = (
            "amounts are never negative: record refunds as type 'refund', or set "
            "'negative_amounts: refund' in the mapping"
            if col.name == "amount" and spec.negative_amounts == "error"
            else f"{col.name} must be at least {col.minimum:g}"
        )
        checks.append(
            Check(
                CheckKind.RANGE,
                name,
                f"{typed} < {col.minimum}",
                f"CAST({typed} AS VARCHAR)",
                "{value} is below " + f"{col.minimum:g}",
                hint,
            )
        )
    if col.maximum is not None:
        checks.append(
            Check(
                CheckKind.RANGE,
                name,
                f"{typed} > {col.maximum}",
                f"CAST({typed} AS VARCHAR)",
                "{value} is above " + f"{col.maximum:g}",
                f"{col.name} ranges from {col.minimum:g} to {col.maximum:g}",
            )
        )
    return checks


def _unparsable_hint(col: Column) -> str:
    if col.sql_type in ("DATE", "TIMESTAMPTZ"):
        return (
            f"fix the value, or give its layout under columns.{col.name}.format "
            "(e.g. '%d/%m/%Y %H:%M')"
        )
    return f"fix the value, or translate it under columns.{col.name}.values"


def _plan_label(spec: SourceSpec, staged: StagedSource) -> ColumnPlan:
    assert spec.label is not None
    name = spec.label.column
    if name not in staged.columns:
        raise MappingError(
            f"{staged.item.label}: label column '{name}' is not in the file"
            f"{_did_you_mean(name, staged.columns)}.",
            hint=f"Columns in the file: {', '.join(staged.columns)}.",
        )
    raw = as_text(ident(name), staged.columns[name])
    typed = f"lower({raw})"
    return ColumnPlan(Column(name, "VARCHAR", "label"), typed, source=name, raw=raw)


def _attribute_columns(
    spec: SourceSpec,
    table: TableSpec,
    plans: list[ColumnPlan],
    staged: StagedSource,
    label: ColumnPlan | None,
) -> tuple[tuple[str, str], ...]:
    """(source column, attribute name) pairs kept as customer attributes."""
    if table.name != Table.CUSTOMERS or spec.attributes == "none":
        return ()
    used = {p.source for p in plans if p.source} | ({label.source} if label else set())
    used |= {c.multiply_by for c in spec.columns.values() if isinstance(c, ColumnSpec)}
    if spec.attributes == "rest":
        chosen = [c for c in staged.columns if c not in used]
    else:
        missing = [c for c in spec.attributes if c not in staged.columns]
        if missing:
            raise MappingError(
                f"{staged.item.label}: attribute column '{missing[0]}' is not in the file"
                f"{_did_you_mean(missing[0], staged.columns)}.",
                hint=f"Columns in the file: {', '.join(staged.columns)}.",
            )
        chosen = list(spec.attributes)
    return tuple((c, attribute_name(c)) for c in chosen)


def attribute_name(column: str) -> str:
    """Canonical attribute name of a source column: lower snake_case.

    >>> attribute_name("Monthly Charges ($)")
    'monthly_charges'
    """
    return re.sub(r"\W+", "_", column.strip()).strip("_").lower() or "attribute"


__all__ = [
    "LABEL",
    "Check",
    "CheckKind",
    "ColumnPlan",
    "ImportPlan",
    "attribute_name",
    "plan_import",
]
