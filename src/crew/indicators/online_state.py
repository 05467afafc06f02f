"""Per-customer online state: each row updates the windows it falls in; values at any instant.

For each static aggregate of `OnlinePlan` a customer keeps the (timestamp, value) pairs of
its matching rows, sorted by time and trimmed to the aggregate's longest reach; a count is
then two bisections, a sum a short slice. Sources with aggregates that depend on `as_of`
keep their rows instead. A row is identified by its event key (`table:record_id`); a key
already held is ignored, so feeding the same rows twice changes nothing.

Values follow the batch's conventions exactly: a row counts for `as_of` when
`as_of - window - offset <= ts < as_of - offset` (timestamps in integer microseconds).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum

from crew.indicators._aggregates import reduce_window
from crew.indicators._snippets import Row
from crew.indicators.online import POINT_IN_TIME, OnlineAggregate, OnlinePlan, OnlineSource
from crew.types import Table

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_TRIM_AT = 32  # expired entries tolerated at the head of a list before it is cut


def micros(ts: datetime) -> int:
    """An aware instant as integer microseconds since the epoch.

    >>> micros(datetime(1970, 1, 2, tzinfo=UTC))
    86400000000
    """
    return (ts - _EPOCH) // _ONE_US


def instant(us: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime (the inverse of `micros`)."""
    return _EPOCH + timedelta(microseconds=us)


@dataclass
class CustomerState:
    """What one customer's rows leave behind: per-aggregate series and, where needed, rows."""

    attributes: dict[str, object] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)  # event key -> ts
    series: dict[str, tuple[list[int], list[object]]] = field(default_factory=dict)
    rows: dict[str, tuple[list[int], list[Row]]] = field(default_factory=dict)
    latest: int = -(2**62)


class OnlineState:
    """The online state of every customer seen, for one plan."""

    def __init__(self, plan: OnlinePlan) -> None:
        self.plan = plan
        self.customers: dict[str, CustomerState] = {}
        self._sources: dict[Table, list[OnlineSource]] = {}
        for source in plan.sources:
            self._sources.setdefault(source.table, []).append(source)
        self._keep = max(plan.horizon_us.values(), default=0)

    def customer(self, customer_id: str) -> CustomerState:
        """The state of `customer_id` (created empty on first use)."""
        state = self.customers.get(customer_id)
        if state is None:
            state = self.customers[customer_id] = CustomerState()
        return state

    def add(self, customer_id: str, table: Table, key: str, row: Row) -> tuple[str, ...] | None:
        """Fold one row in: the aggregates it changed, or None when its key was held already."""
        state = self.customer(customer_id)
        if key in state.seen:
            return None
        ts = row["ts"]
        assert isinstance(ts, int)
        state.seen[key] = ts
        if ts > state.latest:
            state.latest = ts
        changed: list[str] = []
        for source in self._sources.get(table, ()):
            if source.static and source.where is not None and source.where(row, 0) is not True:
                continue
            horizon = state.latest - self.plan.horizon_us[table]
            if source.shares_rows:
                self._keep_row(state, source.name, ts, row, horizon)
                changed.extend(a.id for a in source.aggregates if not a.static)
            for agg in source.aggregates:
                if not agg.static:
                    if not source.shares_rows and (
                        agg.prefilter is None or agg.prefilter(row, 0) is True
                    ):
                        self._keep_row(state, agg.id, ts, row, horizon)
                        changed.append(agg.id)
                    continue
                if agg.where is not None and agg.where(row, 0) is not True:
                    continue
                value = 1 if agg.value is None else agg.value(row, 0)
                if value is not None:
                    ts_list, values = state.series.setdefault(agg.id, ([], []))
                    _insert(ts_list, values, ts, value)
                    _trim(ts_list, values, state.latest - agg.start_us)
                    changed.append(agg.id)
        if len(state.seen) > 2 * _TRIM_AT and len(state.seen) % _TRIM_AT == 0:
            state.seen = {k: t for k, t in state.seen.items() if t >= state.latest - self._keep}
        return tuple(changed)

    @staticmethod
    def _keep_row(state: CustomerState, key: str, ts: int, row: Row, oldest: int) -> None:
        ts_list, rows = state.rows.setdefault(key, ([], []))
        _insert(ts_list, rows, ts, row)
        _trim(ts_list, rows, oldest)

    def values(
        self, customer_id: str, at: int, wanted: Collection[str] | None = None
    ) -> dict[str, object]:
        """Every supported indicator (or `wanted` and their inputs) at instant `at` (µs)."""
        state = self.customers.get(customer_id) or CustomerState()
        needed = self.plan.needed_for(wanted) if wanted is not None else None
        out: dict[str, object] = {}
        for source in self.plan.sources:
            aggregates = [a for a in source.aggregates if needed is None or a.id in needed]
            if not aggregates:
                continue
            dynamic = [a for a in aggregates if not a.static]
            rows: list[dict[str, object]] = []
            if dynamic and source.shares_rows:
                since = at - max(a.start_us for a in dynamic)
                rows = self._rows_at(state, source.name, source, at, since)
            for agg in aggregates:
                if not agg.static and not source.shares_rows:
                    rows = self._rows_at(state, agg.id, source, at, at - agg.start_us)
                ts_list, values = self._window(state, agg, rows, at)
                value = reduce_window(agg.aggregate, ts_list, values, at)
                out[agg.id] = agg.default if value is None else value
        env: dict[str, object] = {**state.attributes, **out}
        for name, formula in self.plan.formulas.items():
            if needed is None or name in needed:
                out[name] = env[name] = formula(env, at)
        return out

    def window(self, customer_id: str, aggregate_id: str, at: int) -> list[int]:
        """Timestamps of the rows an aggregate counts at `at` (e.g. for weekly series)."""
        state = self.customers.get(customer_id) or CustomerState()
        agg = self.plan.aggregates[aggregate_id]
        source = next(s for s in self.plan.sources if agg in s.aggregates)
        key = source.name if source.shares_rows else agg.id
        rows = [] if agg.static else self._rows_at(state, key, source, at, at - agg.start_us)
        return self._window(state, agg, rows, at)[0]

    def _window(
        self, state: CustomerState, agg: OnlineAggregate, rows: list[dict[str, object]], at: int
    ) -> tuple[list[int], list[object]]:
        lo_ts, hi_ts = at - agg.start_us, at - agg.end_us
        if agg.static:
            ts_list, values = state.series.get(agg.id, ([], []))
            lo, hi = bisect_left(ts_list, lo_ts), bisect_left(ts_list, hi_ts)
            return ts_list[lo:hi], values[lo:hi]
        stamps: list[int] = []
        found: list[object] = []
        for row in rows:
            ts = row["ts"]
            assert isinstance(ts, int)
            if lo_ts <= ts < hi_ts and (agg.where is None or agg.where(row, at) is True):
                value = 1 if agg.value is None else agg.value(row, at)
                if value is not None:
                    stamps.append(ts)
                    found.append(value)
        return stamps, found

    def _rows_at(
        self, state: CustomerState, key: str, source: OnlineSource, at: int, since: int
    ) -> list[dict[str, object]]:
        """Rows kept under `key` with `since <= ts < at` as the batch sees them at `at`: as
        they were then, filtered by the source, with its columns (running columns over
        every row of the source's lookback, the earlier ones included)."""
        ts_list, kept = state.rows.get(key, ([], []))
        lo = bisect_left(ts_list, at - self.plan.horizon_us[source.table])
        mid = max(lo, bisect_left(ts_list, since))
        rows = self._as_of(source, kept[mid : bisect_left(ts_list, at)], at)
        for column in source.columns:
            if column.reduce is None:
                for r in rows:
                    r[column.name] = column.value(r, at)
                continue
            earlier = self._as_of(source, kept[lo:mid], at) if source.table in POINT_IN_TIME else [
                r for r in kept[lo:mid] if source.static or source.where is None
                or source.where(r, at) is True
            ]  # fmt: skip
            running = column.reduce([None, *(column.value(r, at) for r in earlier)])
            i = 0
            while i < len(rows):  # peers (same ts) share the value that includes them all
                j = i
                while j < len(rows) and rows[j]["ts"] == rows[i]["ts"]:
                    j += 1
                group = [column.value(r, at) for r in rows[i:j]]
                running = column.reduce([running, *group])
                for r in rows[i:j]:
                    r[column.name] = running
                i = j
        return rows

    @staticmethod
    def _as_of(source: OnlineSource, kept: list[Row], at: int) -> list[dict[str, object]]:
        if source.table in POINT_IN_TIME or source.columns:  # rows that change: copies
            rows = [row_as_of(source.table, r, at) for r in kept]
        else:
            rows = kept  # type: ignore[assignment]
        if not source.static and source.where is not None:
            rows = [r for r in rows if source.where(r, at) is True]
        return rows


def row_as_of(table: Table, row: Row, at: int) -> dict[str, object]:
    """A copy of `row` as it was at `at`: a later resolution had not happened yet.

    >>> row_as_of(Table.INTERACTIONS, {"ts": 1, "resolved_ts": 9, "status": "resolved"}, 5)
    {'ts': 1, 'resolved_ts': None, 'status': 'open'}
    """
    out = dict(row)
    if table in POINT_IN_TIME:
        resolved = row.get("resolved_ts")
        done = isinstance(resolved, int) and resolved < at
        out["resolved_ts"] = resolved if done else None
        out["status"] = "resolved" if done else "open"
    return out


def _insert(ts_list: list[int], items: list[object] | list[Row], ts: int, item: object) -> None:
    if not ts_list or ts >= ts_list[-1]:
        ts_list.append(ts)
        items.append(item)  # type: ignore[arg-type]
    else:
        i = bisect_right(ts_list, ts)
        ts_list.insert(i, ts)
        items.insert(i, item)  # type: ignore[arg-type]


def _trim(ts_list: list[int], items: list[object] | list[Row], oldest: int) -> None:
    """Cut what no instant at or after the latest row can see (only in chunks)."""
    if ts_list[0] < oldest and (cut := bisect_left(ts_list, oldest)) >= _TRIM_AT:
        del ts_list[:cut]
        del items[:cut]


def event_row(event: object, columns: Iterable[str]) -> dict[str, object]:
    """The columns of a canonical event as a row: timestamps in µs, enums as their values."""
    row: dict[str, object] = {}
    for name in columns:
        value = getattr(event, name, None)
        if isinstance(value, datetime):
            value = micros(value)
        elif isinstance(value, Enum):
            value = value.value
        row[name] = value
    return row


__all__ = [
    "CustomerState",
    "OnlineState",
    "event_row",
    "instant",
    "micros",
    "row_as_of",
]
