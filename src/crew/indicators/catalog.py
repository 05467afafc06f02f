"""The indicator catalog (风险识别指标体系): dimensions, sources and indicator definitions.

Declarative YAML, loaded into frozen pydantic models. The built-in catalog ships with the
package (`builtin.yaml`); a workspace adds or overrides indicators in
`<workspace>/catalog/indicators.yaml` without touching Python. Every definition is checked
when it is loaded, and a bad one gets a `CatalogError` naming the indicator and the problem.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from enum import StrEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Self

import sqlglot
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlglot import exp

from crew.errors import CatalogError
from crew.store.schema import TABLES
from crew.types import Industry, Table

WORKSPACE_CATALOG = Path("catalog") / "indicators.yaml"
CUSTOMER_COLUMNS = ("segment", "tier", "industry", "region", "signup_date")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_WINDOW = re.compile(r"^(\d+)\s*([dw])$")


class Direction(StrEnum):
    """Which way an indicator points to risk."""

    HIGHER_IS_RISKIER = "higher_is_riskier"
    LOWER_IS_RISKIER = "lower_is_riskier"
    NEUTRAL = "neutral"


class Aggregate(StrEnum):
    """Aggregates over a customer's rows in a window."""

    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    COUNT_DISTINCT = "count_distinct"
    STDDEV = "stddev"
    SLOPE = "slope"  # least-squares slope of `column` per 30 days
    LAST = "last"  # value at the latest timestamp (mean of ties)
    DAYS_SINCE_LAST = "days_since_last"


class ChangeMethod(StrEnum):
    """How a recent value is compared with the customer's own baseline."""

    RELATIVE = "relative"
    SYMMETRIC = "symmetric"
    DIFFERENCE = "difference"
    SMOOTHED = "smoothed"


class Label(BaseModel):
    """A name in English and 简体中文."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1, description="English label.")
    zh: str = Field(min_length=1, description="简体中文 label.")


class ChangeSpec(BaseModel):
    """A recent window against the customer's own baseline window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    recent: str = Field(description="Indicator holding the recent value.")
    baseline: str = Field(description="Indicator holding the baseline value.")
    method: ChangeMethod = Field(
        default=ChangeMethod.RELATIVE,
        description="relative: (r-b)/b; symmetric: (r-b)/mean(|r|,|b|); difference: r-b; "
        "smoothed: (r+k)/(b+k)-1. See docs/indicators.md for zero baselines.",
    )
    per_day: bool = Field(
        default=False,
        description="Scale the baseline to the recent window's length before comparing "
        "(for counts and sums over windows of different lengths).",
    )
    pseudo_count: float = Field(
        default=1.0, gt=0, description="k of the smoothed method (a count added to both)."
    )


class RatioSpec(BaseModel):
    """One indicator divided by another."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    numerator: str = Field(description="Indicator on top.")
    denominator: str = Field(
        description="Indicator below; a zero or missing one gives `when_zero`."
    )
    when_zero: float | None = Field(
        default=None, description="Value when the denominator is 0 or missing (default: missing)."
    )


class SourceDef(BaseModel):
    """A named row set that indicators aggregate: a canonical table, filtered and extended."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: Table = Field(description="Canonical table the rows come from.")
    where: str | None = Field(default=None, description="SQL condition keeping some rows.")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Extra per-row columns: SQL expressions, window functions allowed "
        "(they see only rows before as_of).",
    )


class IndicatorDef(BaseModel):
    """One indicator: an aggregate over a source, or a formula over other indicators."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Unique snake_case name, with unit and window in it.")
    dimension: str = Field(description="Dimension (维度) the indicator belongs to.")
    label: Label = Field(description="Short label in English and Chinese.")
    description: str = Field(min_length=1, description="What it measures, in one sentence.")
    direction: Direction = Field(description="Which way points to risk.")
    unit: str = Field(description="Unit of the value: count, days, currency, share, ...")
    profiles: list[Industry] | None = Field(
        default=None, description="Industry profiles using it; empty means every profile."
    )
    output: bool = Field(default=True, description="False for helpers used only by formulas.")
    source: str | None = Field(default=None, description="Table or catalog source to aggregate.")
    aggregate: Aggregate | None = Field(default=None, description="Aggregate over the window.")
    column: str | None = Field(default=None, description="SQL expression aggregated.")
    where: str | None = Field(default=None, description="SQL condition on the source rows.")
    window: str | None = Field(default=None, description="Window length before as_of: 30d, 4w.")
    offset: str | None = Field(
        default=None, description="Window end before as_of (a baseline window): 30d."
    )
    default: float | None = Field(
        default=None, description="Value when the customer has no rows (counts and sums: 0)."
    )
    expression: str | None = Field(
        default=None, description="SQL over other indicators and customer columns."
    )
    change: ChangeSpec | None = Field(default=None, description="Recent against baseline.")
    ratio: RatioSpec | None = Field(default=None, description="Numerator over denominator.")

    @field_validator("id")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"'{value}' is not a snake_case name (a-z, 0-9, _)")
        return value

    @field_validator("window", "offset")
    @classmethod
    def _window_syntax(cls, value: str | None) -> str | None:
        if value is not None and not _WINDOW.match(value.strip()):
            raise ValueError(f"'{value}' is not a window like 30d or 4w")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = [
            k
            for k, v in (
                ("aggregate", self.aggregate),
                ("expression", self.expression),
                ("change", self.change),
                ("ratio", self.ratio),
            )
            if v is not None
        ]
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            raise ValueError(f"give exactly one of aggregate, expression, change, ratio ({found})")
        if self.aggregate is not None:
            if self.source is None or self.window is None:
                raise ValueError("an aggregate needs 'source' and 'window'")
            needs_column = self.aggregate not in (Aggregate.COUNT, Aggregate.DAYS_SINCE_LAST)
            if needs_column and self.column is None:
                raise ValueError(f"aggregate '{self.aggregate.value}' needs 'column'")
        elif any(v is not None for v in (self.source, self.column, self.where, self.window)):
            raise ValueError("source, column, where and window belong to aggregates only")
        return self

    @property
    def kind(self) -> str:
        """aggregate, expression, change or ratio."""
        for name in ("aggregate", "expression", "change", "ratio"):
            if getattr(self, name) is not None:
                return name
        raise AssertionError("validated model has a kind")

    @property
    def window_days(self) -> int:
        """Window length in days (0 for formulas)."""
        return days(self.window) if self.window else 0

    @property
    def offset_days(self) -> int:
        """Window end before as_of, in days."""
        return days(self.offset) if self.offset else 0

    def references(self) -> tuple[str, ...]:
        """Indicators this one is computed from."""
        if self.change is not None:
            return (self.change.recent, self.change.baseline)
        if self.ratio is not None:
            return (self.ratio.numerator, self.ratio.denominator)
        if self.expression is not None:
            return tuple(sorted(snippet_columns(self.expression) - {"as_of", *CUSTOMER_COLUMNS}))
        return ()

    def formula(self) -> str:
        """A one-line human description of how it is computed."""
        if self.aggregate is not None:
            what = f"{self.aggregate.value}({self.column or '*'})"
            window = f"last {self.window}" + (
                f" ending {self.offset} before as_of" if self.offset else ""
            )
            where = f" where {self.where}" if self.where else ""
            return f"{what} over {self.source}{where}, {window}"
        if self.change is not None:
            scale = ", per day" if self.change.per_day else ""
            return (
                f"{self.change.method.value} change of {self.change.recent} against "
                f"{self.change.baseline}{scale}"
            )
        if self.ratio is not None:
            return f"{self.ratio.numerator} / {self.ratio.denominator}"
        return str(self.expression)

    def used_by(self, profile: Industry | None) -> bool:
        """True when the indicator belongs to `profile` (None: every indicator)."""
        return profile is None or self.profiles is None or profile in self.profiles


class CatalogFile(BaseModel):
    """The shape of a catalog YAML file (built-in or workspace)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dimensions: dict[str, Label] = Field(
        default_factory=dict, description="Dimension name -> labels."
    )
    sources: dict[str, SourceDef] = Field(
        default_factory=dict, description="Named row sets beyond the canonical tables."
    )
    indicators: list[IndicatorDef] = Field(
        default_factory=list, description="Definitions; a workspace entry replaces one by id."
    )
    disable: list[str] = Field(
        default_factory=list, description="Workspace only: built-in indicators to leave out."
    )


class Catalog(BaseModel):
    """A checked catalog: every reference resolves, every snippet parses."""

    model_config = ConfigDict(frozen=True)

    dimensions: dict[str, Label]
    sources: dict[str, SourceDef]
    indicators: tuple[IndicatorDef, ...]
    sha256: str

    @cached_property
    def by_id(self) -> dict[str, IndicatorDef]:
        """Indicators by id."""
        return {i.id: i for i in self.indicators}

    def get(self, indicator_id: str) -> IndicatorDef:
        """The indicator `indicator_id`, or UnknownIndicatorError with a suggestion."""
        from crew.errors import UnknownIndicatorError

        try:
            return self.by_id[indicator_id]
        except KeyError:
            close = difflib.get_close_matches(indicator_id, list(self.by_id), n=1)
            hint = f"Did you mean '{close[0]}'? " if close else ""
            raise UnknownIndicatorError(
                f"Unknown indicator '{indicator_id}'.",
                hint=hint + "'crew indicators list' shows all.",
            ) from None

    def source_table(self, source: str) -> Table:
        """Canonical table behind a source name."""
        return self.sources[source].table if source in self.sources else Table(source)

    def needed_for(self, profile: Industry | None) -> list[IndicatorDef]:
        """Indicators of `profile` plus everything they are computed from, in catalog order."""
        wanted = {i.id for i in self.indicators if i.used_by(profile)}
        stack = list(wanted)
        while stack:
            for ref in self.by_id[stack.pop()].references():
                if ref not in wanted:
                    wanted.add(ref)
                    stack.append(ref)
        return [i for i in self.indicators if i.id in wanted]

    def outputs(self, profile: Industry | None) -> list[IndicatorDef]:
        """Indicators shown for `profile`."""
        return [i for i in self.indicators if i.output and i.used_by(profile)]


def days(window: str) -> int:
    """Days in a window string.

    >>> days("30d"), days("4w")
    (30, 28)
    """
    match = _WINDOW.match(window.strip())
    assert match is not None
    n, unit = int(match.group(1)), match.group(2)
    return n * 7 if unit == "w" else n


def snippet_columns(sql: str) -> set[str]:
    """Column names a SQL snippet refers to.

    >>> sorted(snippet_columns("type = 'refund' AND amount > 2 * x"))
    ['amount', 'type', 'x']
    """
    return {c.name for c in parse_snippet(sql).find_all(exp.Column)}


def parse_snippet(sql: str) -> exp.Expression:
    """Parse a SQL expression (DuckDB dialect); ValueError when it is not a plain expression."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        detail = exc.errors[0] if exc.errors else {}
        what = str(detail.get("description", "")).split(" for <")[0].rstrip(".")
        if what.startswith("Required keyword"):
            what = "incomplete expression"
        where = f" at column {detail['col']}" if detail.get("col") else ""
        raise ValueError(f"SQL '{sql}' does not parse ({what or 'syntax error'}{where})") from None
    if isinstance(tree, exp.Query) or tree.find(exp.Select, exp.Table, exp.Subquery):
        raise ValueError(f"SQL '{sql}' must be an expression, without SELECT or tables")
    assert isinstance(tree, exp.Expression)
    return tree


def load_catalog(workspace_root: Path | None = None) -> Catalog:
    """The built-in catalog, with the workspace's additions and overrides when it has any."""
    builtin_text = resources.files("crew.indicators").joinpath("builtin.yaml").read_text("utf-8")
    builtin = _parse_file(builtin_text, "crew/indicators/builtin.yaml")
    texts = [builtin_text]
    dimensions, sources = dict(builtin.dimensions), dict(builtin.sources)
    indicators = {i.id: i for i in builtin.indicators}
    origin = {i.id: "crew/indicators/builtin.yaml" for i in builtin.indicators}
    if workspace_root is not None and (workspace_root / WORKSPACE_CATALOG).exists():
        path = workspace_root / WORKSPACE_CATALOG
        text = path.read_text("utf-8")
        texts.append(text)
        extra = _parse_file(text, str(path))
        dimensions.update(extra.dimensions)
        sources.update(extra.sources)
        for ind in extra.indicators:
            indicators[ind.id] = ind
            origin[ind.id] = str(path)
        for gone in extra.disable:
            if gone not in indicators:
                raise CatalogError(f"{path}: disable: unknown indicator '{gone}'.")
            del indicators[gone]
    catalog = Catalog(
        dimensions=dimensions,
        sources=sources,
        indicators=tuple(indicators.values()),
        sha256=hashlib.sha256("\n---\n".join(texts).encode()).hexdigest(),
    )
    check_catalog(catalog, origin)
    return catalog


def _parse_file(text: str, where: str) -> CatalogFile:
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise CatalogError(f"{where}: not valid YAML ({exc}).") from None
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first["loc"])
        name = ""
        if len(loc) >= 2 and loc[0] == "indicators" and isinstance(loc[1], int):
            entry = raw.get("indicators", [])[loc[1]] if isinstance(raw, dict) else {}
            name = f" indicator '{entry.get('id', '?')}'" if isinstance(entry, dict) else ""
        path = ".".join(str(p) for p in loc)
        message = first["msg"].removeprefix("Value error, ")
        raise CatalogError(
            f"{where}:{name} {path}: {message}.",
            hint="docs/indicators.md describes every field.",
        ) from None


def check_catalog(catalog: Catalog, origin: dict[str, str] | None = None) -> None:
    """Resolve every reference and parse every snippet; CatalogError on the first problem."""
    origin = origin or {}
    ids = {i.id for i in catalog.indicators}
    for name, src in catalog.sources.items():
        allowed = set(TABLES[src.table].names) | {"as_of"}
        for sql in (src.where, *src.columns.values()):
            if sql is not None:
                _check_snippet(sql, allowed, f"source '{name}'", "catalog")
        allowed |= set(src.columns)
    for ind in catalog.indicators:
        where = origin.get(ind.id, "catalog")

        def fail(
            problem: str, hint: str | None = None, _ind: IndicatorDef = ind, _where: str = where
        ) -> CatalogError:
            return CatalogError(f"{_where}: indicator '{_ind.id}': {problem}.", hint=hint)

        if ind.dimension not in catalog.dimensions:
            raise fail(
                f"unknown dimension '{ind.dimension}'",
                f"Dimensions: {', '.join(catalog.dimensions)}.",
            )
        if ind.source is not None:
            if ind.source not in catalog.sources and ind.source not in {t.value for t in Table}:
                raise fail(
                    f"unknown source '{ind.source}'",
                    f"Use a table ({', '.join(t.value for t in Table)}) or a catalog "
                    f"source ({', '.join(catalog.sources)}).",
                )
            table = catalog.source_table(ind.source)
            allowed = set(TABLES[table].names) | {"as_of"}
            if ind.source in catalog.sources:
                allowed |= set(catalog.sources[ind.source].columns)
            for sql in (ind.column, ind.where):
                if sql is not None:
                    try:
                        _check_snippet(sql, allowed, "", "")
                    except CatalogError as exc:
                        raise fail(exc.message.strip(": ")) from None
        if ind.expression is not None:
            try:
                parse_snippet(ind.expression)
            except ValueError as exc:
                raise fail(str(exc)) from None
        for ref in ind.references():
            if ref not in ids:
                close = difflib.get_close_matches(ref, list(ids), n=1)
                raise fail(
                    f"refers to unknown indicator '{ref}'",
                    f"Did you mean '{close[0]}'?" if close else None,
                )
    _check_cycles(catalog)


def _check_snippet(sql: str, allowed: set[str], what: str, where: str) -> None:
    try:
        columns = snippet_columns(sql)
    except ValueError as exc:
        raise CatalogError(f"{where}: {what}: {exc}") from None
    unknown = sorted(columns - allowed)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
        suggestion = f" (did you mean '{close[0]}'?)" if close else ""
        raise CatalogError(
            f"{where}: {what}: SQL '{sql}' uses unknown column '{unknown[0]}'{suggestion}"
        )


def _check_cycles(catalog: Catalog) -> None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = " -> ".join([*path[path.index(node) :], node])
            raise CatalogError(f"Indicators refer to each other in a circle: {cycle}.")
        state[node] = 1
        for ref in catalog.by_id[node].references():
            visit(ref, [*path, node])
        state[node] = 2

    for ind in catalog.indicators:
        visit(ind.id, [])


__all__ = [
    "Aggregate",
    "Catalog",
    "ChangeMethod",
    "ChangeSpec",
    "Direction",
    "IndicatorDef",
    "Label",
    "RatioSpec",
    "SourceDef",
    "days",
    "load_catalog",
    "parse_snippet",
    "snippet_columns",
]
