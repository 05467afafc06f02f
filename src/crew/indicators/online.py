"""Online indicators: the catalog compiled for a stream, one customer's rows at a time.

`compile_online(catalog)` turns each aggregate of the catalog into an online aggregate
(its window, its filter and its column as Python functions of one row, see `_snippets`)
and each formula (expression, ratio, change) into a function of other values, with the
batch's rules (`_compile.py`): windows are `[as_of - window - offset, as_of - offset)`,
a contact's status and resolution are what they were at `as_of`, counts and sums default
to 0. An aggregate whose filter and column do not depend on `as_of` is *static*: its value
is kept per row as the row arrives, and answering is a slice of a sorted list. The others
(the resolution time of a ticket, the months since a purchase, a column computed over a
customer's earlier rows) keep the rows and are evaluated when asked.

Indicators that need what one customer's events cannot give are listed in `unsupported`
with the reason: those comparing customers (`segment_shock_index`) and formulas over them.
Indicators over `interaction_text` are online: the stream handler analyses an interaction's
text as it arrives and folds the analysis in as a row of that table.
`crew.indicators.online_state` holds the per-customer state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from crew.indicators._compile import _lookback
from crew.indicators._formulas import Formula, compile_formula, formula_order
from crew.indicators._snippets import US_PER_DAY, Getter, UnsupportedSnippet, compile_snippet
from crew.indicators.catalog import (
    CUSTOMER_COLUMNS,
    Aggregate,
    Catalog,
    IndicatorDef,
    parse_snippet,
    snippet_columns,
)
from crew.types import Table

STREAM_TABLES = (Table.TRANSACTIONS, Table.INTERACTIONS, Table.EVENTS)
"""The canonical tables whose rows arrive as events."""
ONLINE_TABLES = (*STREAM_TABLES, Table.INTERACTION_TEXT)
"""The tables the online state holds rows of: the events' and `interaction_text`, whose
row a stream handler derives from an interaction's text as the interaction arrives."""
POINT_IN_TIME = {Table.INTERACTIONS: frozenset({"status", "resolved_ts"})}
"""Columns whose value depends on as_of: a resolution after it had not happened yet."""
RECORD_ID = {
    Table.TRANSACTIONS: "txn_id",
    Table.INTERACTIONS: "interaction_id",
    Table.EVENTS: "event_id",
    Table.INTERACTION_TEXT: "interaction_id",
}
_RUNNING = {exp.Max: max, exp.Min: min}


@dataclass(frozen=True)
class RunningColumn:
    """A per-row column computed over the customer's earlier rows of a source (and peers).

    The catalog's `max(x) OVER (PARTITION BY customer_id ORDER BY ts RANGE BETWEEN
    UNBOUNDED PRECEDING AND CURRENT ROW)`: the running max (or min) of `x` in time order.
    """

    name: str
    reduce: Callable[[list[object]], object] | None  # None: a plain per-row column
    value: Getter


@dataclass(frozen=True)
class OnlineAggregate:
    """One aggregate indicator, ready to be fed rows and asked for its value."""

    id: str
    aggregate: Aggregate
    start_us: int  # the window starts this long before as_of (window + offset)
    end_us: int  # and ends this long before as_of (offset)
    where: Getter | None
    value: Getter | None  # None: every row counts as 1 (count(*), days since last)
    static: bool  # where and value do not depend on as_of: kept per row as it arrives
    default: float | None
    prefilter: Getter | None = None  # the static conjuncts of `where`: rows worth keeping


@dataclass(frozen=True)
class OnlineSource:
    """A catalog source (or a table) and the aggregates over it."""

    name: str
    table: Table
    where: Getter | None
    static: bool  # its filter can be applied when a row arrives
    columns: tuple[RunningColumn, ...]
    aggregates: tuple[OnlineAggregate, ...]

    @property
    def keeps_rows(self) -> bool:
        """True when some aggregate is evaluated over the rows when asked."""
        return any(not a.static for a in self.aggregates)

    @property
    def shares_rows(self) -> bool:
        """True when the rows are kept once for the source (its filter or columns are
        computed when asked); else each such aggregate keeps the rows it may count."""
        return not self.static or bool(self.columns)


@dataclass(frozen=True)
class Unsupported:
    """An indicator not computed online, and why."""

    id: str
    reason: str


@dataclass(frozen=True)
class OnlinePlan:
    """The online form of a catalog: sources with their aggregates, formulas, what is left out."""

    catalog_sha256: str
    sources: tuple[OnlineSource, ...]
    formulas: dict[str, Formula]  # in an order where inputs come first
    references: dict[str, tuple[str, ...]]
    unsupported: tuple[Unsupported, ...]
    horizon_us: dict[Table, int]  # how long rows of each table are kept (the batch lookback)
    columns: dict[Table, tuple[str, ...]]  # row columns the plan reads, per table
    order: tuple[str, ...] = field(default=())  # supported ids in catalog order
    _needed: dict[frozenset[str], frozenset[str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def aggregates(self) -> dict[str, OnlineAggregate]:
        """Every online aggregate by id."""
        return {a.id: a for s in self.sources for a in s.aggregates}

    def needed_for(self, wanted: Iterable[str]) -> frozenset[str]:
        """`wanted` and every indicator they are computed from."""
        asked = frozenset(wanted)
        found = self._needed.get(asked)
        if found is None:
            needed: set[str] = set()
            stack = list(asked)
            while stack:
                name = stack.pop()
                if name not in needed:
                    needed.add(name)
                    stack.extend(self.references.get(name, ()))
            found = self._needed[asked] = frozenset(needed)
        return found


def compile_online(catalog: Catalog, extra: Sequence[IndicatorDef] = ()) -> OnlinePlan:
    """The online plan of every indicator of `catalog` (plus `extra` aggregates) it can serve.

    >>> from crew.indicators.catalog import load_catalog
    >>> plan = compile_online(load_catalog())
    >>> "complaint_count_30d" in plan.order, "segment_shock_index" in plan.order
    (True, False)
    """
    unsupported: dict[str, str] = {}
    definitions = [*catalog.indicators, *extra]
    by_source: dict[str, list[OnlineAggregate]] = {}
    for ind in definitions:
        if ind.aggregate is None:
            continue
        table = catalog.source_table(str(ind.source))
        if table not in ONLINE_TABLES:
            unsupported[ind.id] = f"its source table {table.value} does not arrive as events"
            continue
        try:
            aggregate = _aggregate(catalog, ind, table)
        except UnsupportedSnippet as exc:
            unsupported[ind.id] = f"its SQL has no online form: {exc}"
            continue
        by_source.setdefault(str(ind.source), []).append(aggregate)
    sources = []
    for name, aggregates in by_source.items():
        try:
            sources.append(_source(catalog, name, aggregates))
        except UnsupportedSnippet as exc:
            for a in aggregates:
                unsupported[a.id] = f"its source '{name}' has no online form: {exc}"
    formulas: dict[str, Formula] = {}
    references = {i.id: i.references() for i in definitions}
    for ind in formula_order(definitions):
        missing = [r for r in ind.references() if r in unsupported]
        if missing:
            unsupported[ind.id] = f"it is computed from {missing[0]}, which is not online"
            continue
        try:
            formulas[ind.id] = compile_formula(catalog, ind)
        except UnsupportedSnippet as exc:
            unsupported[ind.id] = str(exc)
    columns = {t: _row_columns(catalog, t, definitions) for t in ONLINE_TABLES}
    return OnlinePlan(
        catalog_sha256=catalog.sha256,
        sources=tuple(s for s in sources if s.aggregates),
        formulas=formulas,
        references=references,
        unsupported=tuple(
            Unsupported(i.id, unsupported[i.id]) for i in catalog.indicators if i.id in unsupported
        ),
        horizon_us={t: _lookback(catalog, t) * US_PER_DAY for t in ONLINE_TABLES},
        columns=columns,
        order=tuple(i.id for i in catalog.indicators if i.id not in unsupported),
    )


def _dynamic_columns(table: Table, source_columns: Sequence[str]) -> set[str]:
    return {"as_of", *POINT_IN_TIME.get(table, ()), *source_columns}


def _aggregate(catalog: Catalog, ind: IndicatorDef, table: Table) -> OnlineAggregate:
    extra = catalog.sources[ind.source].columns if ind.source in catalog.sources else {}
    dynamic = _dynamic_columns(table, list(extra))
    used = set().union(*(snippet_columns(s) for s in (ind.where, ind.column) if s is not None))
    prefilter = None
    if ind.where and used & dynamic:
        tree = parse_snippet(ind.where)
        parts = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
        kept = [p for p in parts if not ({c.name for c in p.find_all(exp.Column)} & dynamic)]
        prefilter = compile_snippet(exp.and_(*kept)) if kept else None  # type: ignore[arg-type]
    return OnlineAggregate(
        id=ind.id,
        aggregate=ind.aggregate or Aggregate.COUNT,
        start_us=(ind.window_days + ind.offset_days) * US_PER_DAY,
        end_us=ind.offset_days * US_PER_DAY,
        where=compile_snippet(ind.where) if ind.where else None,
        value=compile_snippet(ind.column) if ind.column else None,
        static=not (used & dynamic),
        default=_default(ind),
        prefilter=prefilter,
    )


def _default(ind: IndicatorDef) -> float | None:
    """The batch's value for a customer without rows (`_compile._default`)."""
    if ind.default is not None:
        return ind.default
    counted = (Aggregate.COUNT, Aggregate.COUNT_DISTINCT, Aggregate.SUM)
    return 0 if ind.aggregate in counted else None


def _source(catalog: Catalog, name: str, aggregates: list[OnlineAggregate]) -> OnlineSource:
    table = catalog.source_table(name)
    spec = catalog.sources.get(name)
    where = spec.where if spec is not None else None
    columns = tuple(_running(col, sql) for col, sql in (spec.columns if spec else {}).items())
    static = where is None or not (snippet_columns(where) & _dynamic_columns(table, []))
    if not static:  # the filter is applied when asked: every aggregate keeps rows
        aggregates = [_replace_static(a) for a in aggregates]
    return OnlineSource(
        name=name,
        table=table,
        where=compile_snippet(where) if where else None,
        static=static,
        columns=columns,
        aggregates=tuple(aggregates),
    )


def _replace_static(aggregate: OnlineAggregate) -> OnlineAggregate:
    return OnlineAggregate(**{**aggregate.__dict__, "static": False})


def _running(name: str, sql: str) -> RunningColumn:
    tree = parse_snippet(sql)
    if not isinstance(tree, exp.Window):
        if tree.find(exp.Window) is not None:
            raise UnsupportedSnippet(f"column {name} nests a window function")
        return RunningColumn(name, None, compile_snippet(tree))
    spec = tree.args.get("spec")
    order = tree.args.get("order")
    partition = [p.sql() for p in tree.args.get("partition_by") or []]
    ordered = [o.this.sql() for o in order.expressions] if order is not None else []
    reduce = _RUNNING.get(type(tree.this))
    cumulative = (
        spec is not None
        and str(spec.args.get("kind")).upper() == "RANGE"
        and str(spec.args.get("start")).upper() == "UNBOUNDED"
        and str(spec.args.get("end")).upper() == "CURRENT ROW"
    )
    if reduce is None or partition != ["customer_id"] or ordered != ["ts"] or not cumulative:
        raise UnsupportedSnippet(
            f"column {name}: only a running max/min per customer in time order is supported"
        )
    pick = reduce

    def running(values: list[object]) -> object:
        present = [v for v in values if v is not None]
        return pick(present) if present else None  # type: ignore[type-var]

    return RunningColumn(name, running, compile_snippet(tree.this.this))


def _row_columns(
    catalog: Catalog, table: Table, definitions: Sequence[IndicatorDef]
) -> tuple[str, ...]:
    used = {"ts"}
    for src in catalog.sources.values():
        if src.table == table:
            for sql in (src.where, *src.columns.values()):
                used |= snippet_columns(sql) if sql else set()
    for ind in definitions:
        if ind.aggregate is not None and catalog.source_table(str(ind.source)) == table:
            for sql in (ind.where, ind.column):
                used |= snippet_columns(sql) if sql else set()
    if used & POINT_IN_TIME.get(table, frozenset()):
        used.add("resolved_ts")  # the status at as_of is derived from the resolution time
    extra = {c for s in catalog.sources.values() if s.table == table for c in s.columns}
    return tuple(sorted(used - extra - {"as_of", *CUSTOMER_COLUMNS} | {"customer_id"}))


__all__ = [
    "ONLINE_TABLES",
    "POINT_IN_TIME",
    "RECORD_ID",
    "STREAM_TABLES",
    "OnlineAggregate",
    "OnlinePlan",
    "OnlineSource",
    "RunningColumn",
    "Unsupported",
    "compile_online",
]
