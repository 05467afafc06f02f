"""Tables of the operational store (Core handles; the migrations create them) and run writes.

`write_run` turns a run's frames of opened, updated and closed warnings into bulk statements.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from crew.errors import DuplicateWarningError
from crew.types import Level, RiskType, WarningState

if TYPE_CHECKING:
    from crew.store.operational import RunRecord

ACTIVE_STATES = tuple(s.value for s in WarningState if s.is_active)
ACTIVE_SQL = "state IN (" + ", ".join(f"'{s}'" for s in ACTIVE_STATES) + ")"


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC (naive on SQLite) and always read back as aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _utc(value, "timestamp")
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(value: object, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name}: expected a time-zone-aware timestamp, got {value!r}")
    to_python = getattr(value, "to_pydatetime", None)  # pandas.Timestamp
    return (to_python() if to_python is not None else value).astimezone(UTC)


def dump_json(value: object) -> str:
    """JSON text of a payload: readable Chinese, numpy scalars and timestamps allowed."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData()

warnings_table = sa.Table(
    "warnings",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=True),
    sa.Column("segment", sa.Text, nullable=True),
    sa.Column("risk_type", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("first_seen", UtcDateTime, nullable=False),
    sa.Column("last_seen", UtcDateTime, nullable=False),
    sa.Column("level_changed_at", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Column("cooldown_until", UtcDateTime, nullable=True),
    sa.Column("parent_id", sa.Text, nullable=True),
    sa.Column("signals", JSON_TYPE, nullable=False),
    sa.Column("evidence", JSON_TYPE, nullable=False),
    sa.Column("reasons", JSON_TYPE, nullable=False),
    sa.Column("recommended_action", sa.Text, nullable=True),
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("assignee", sa.Text, nullable=True),
    sa.Index(
        "uq_warnings_active_subject",
        sa.func.coalesce(sa.column("customer_id"), ""),
        sa.func.coalesce(sa.column("segment"), ""),
        "risk_type",
        unique=True,
        sqlite_where=sa.text(ACTIVE_SQL),
        postgresql_where=sa.text(ACTIVE_SQL),
    ),
    sa.Index("ix_warnings_state_level", "state", "level"),
    sa.Index("ix_warnings_risk_type", "risk_type"),
    sa.Index("ix_warnings_customer_id", "customer_id"),
    sa.Index("ix_warnings_last_seen", "last_seen"),
    sa.Index("ix_warnings_parent_id", "parent_id"),
)

history_table = sa.Table(
    "warning_history",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("warning_id", sa.Text, sa.ForeignKey("warnings.id"), nullable=False, index=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("old_value", sa.Text, nullable=True),
    sa.Column("new_value", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
)

runs_table = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("as_of", UtcDateTime, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("config_fingerprint", sa.Text, nullable=False),
    sa.Column("counts", JSON_TYPE, nullable=False),
)

TIMESTAMP_COLUMNS = tuple(c.name for c in warnings_table.columns if isinstance(c.type, UtcDateTime))
JSON_COLUMNS = ("signals", "evidence", "reasons")

_SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's own DATETIME text on SQLite: sortable
_STAMPS = {*TIMESTAMP_COLUMNS, "at"}
_ACTOR = "crew run"
_CHUNK = 900  # ids per IN (...) list: below SQLite's oldest limit of 999 parameters
_RANK = {level.value: rank for rank, level in enumerate(Level)}
_NAMES = tuple(c.name for c in warnings_table.columns)


def raw_columns(names: Sequence[str], dialect: str) -> list[sa.ColumnElement[object]]:
    """Columns of `warnings` as the driver returns them (JSON as text): fast for big reads."""
    result: list[sa.ColumnElement[object]] = []
    for name in names:
        column: sa.ColumnElement[object] = warnings_table.c[name]
        if name in JSON_COLUMNS:
            column = sa.cast(column, sa.Text)
        elif name in TIMESTAMP_COLUMNS:
            column = sa.type_coerce(column, sa.Text if dialect == "sqlite" else sa.DateTime(True))
        result.append(column.label(name))
    return result


def decode_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Parse the JSON text and timestamps that `raw_columns` left as the driver gave them."""
    for name in frame.columns:
        if name in JSON_COLUMNS:
            # One parse of the whole column is several times faster than one per cell.
            frame[name] = pd.Series(
                json.loads("[" + ",".join(frame[name].tolist()) + "]"),
                index=frame.index,
                dtype=object,
            )
        elif name in TIMESTAMP_COLUMNS:
            text = pd.api.types.is_string_dtype(frame[name]) or frame[name].dtype == object
            parsed = pd.to_datetime(frame[name], utc=True, format="ISO8601" if text else None)
            frame[name] = parsed.dt.as_unit("us")
    return frame


def write_run(
    engine: sa.Engine,
    run: RunRecord,
    opened: pd.DataFrame,
    updated: pd.DataFrame,
    closed: pd.DataFrame,
    *,
    on_changes: Callable[[sa.Connection, pd.DataFrame], None] | None = None,
) -> None:
    """Close, update and insert warnings, their history and the `runs` row in one transaction.

    `on_changes` is called inside the transaction with the history rows written (the
    notifications are written there, so they commit with the changes or not at all).
    """
    new = _opened(opened, run.run_id)
    changes = _updated(updated, run.run_id)
    closures = _closed(closed)
    dialect = engine.dialect.name
    try:
        with engine.begin() as conn:
            conn.execute(
                runs_table.insert().values(
                    run_id=run.run_id,
                    as_of=run.as_of,
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                    dry_run=run.dry_run,
                    config_fingerprint=run.config_fingerprint,
                    counts={str(k): int(v) for k, v in run.counts.items()},
                )
            )
            # Closures first: they free their subjects for warnings this run opens.
            history = [_close(conn, closures, dialect), _update(conn, changes, dialect)]
            if not new.empty:
                sql = _insert_sql("warnings", list(new.columns), dialect)
                conn.exec_driver_sql(sql, _params(new, dialect))
                history.append(_created(new))
            changed = [h for h in history if not h.empty]
            entries = pd.DataFrame()
            if changed:
                entries = pd.concat(changed, ignore_index=True).assign(actor=_ACTOR)
                sql = _insert_sql("warning_history", list(entries.columns), dialect)
                conn.exec_driver_sql(sql, _params(entries, dialect))
            if on_changes is not None:
                on_changes(conn, entries)
    except IntegrityError:
        closing = set(closures["id"]) if not closures.empty else set()
        error = _duplicate_error(engine, run, new, closing)
        if error is None:
            raise
        raise error from None


def _close(conn: sa.Connection, closures: pd.DataFrame, dialect: str) -> pd.DataFrame:
    if closures.empty:
        return closures
    old = _current(conn, closures["id"])
    closing: pd.DataFrame = closures[
        old.loc[closures["id"], "state"].isin(ACTIVE_STATES).to_numpy()
    ]
    if closing.empty:  # all closed by someone else since the run read them
        return closing
    b = functools.partial(_bind, dialect=dialect)
    conn.exec_driver_sql(
        f"UPDATE warnings SET state = {b('state')}, resolved_at = {b('resolved_at')}, "
        f"cooldown_until = {b('cooldown_until')} WHERE id = {b('id')} AND {ACTIVE_SQL}",
        _params(closing, dialect),
    )
    return pd.DataFrame(
        {
            "warning_id": closing["id"],
            "at": closing["resolved_at"],
            "field": "state",
            "old_value": old.loc[closing["id"], "state"].to_numpy(),
            "new_value": closing["state"],
            "note": None,
        }
    )


def _update(conn: sa.Connection, changes: pd.DataFrame, dialect: str) -> pd.DataFrame:
    if changes.empty:
        return changes
    old = _current(conn, changes["id"]).loc[changes["id"], "level"].to_numpy()
    b = functools.partial(_bind, dialect=dialect)
    conn.exec_driver_sql(
        f"UPDATE warnings SET level = {b('level')}, score = {b('score')}, "
        f"last_seen = {b('last_seen')}, level_changed_at = CASE WHEN level <> {b('level')} "
        f"THEN {b('last_seen')} ELSE level_changed_at END, signals = {b('signals')}, "
        f"evidence = {b('evidence')}, reasons = {b('reasons')}, "
        f"recommended_action = {b('recommended_action')}, run_id = {b('run_id')} "
        f"WHERE id = {b('id')}",
        _params(changes, dialect),
    )
    moved = changes[changes["level"].to_numpy() != old]
    old_moved = old[changes["level"].to_numpy() != old]
    higher = moved["level"].map(_RANK).to_numpy() > pd.Series(old_moved).map(_RANK).to_numpy()
    return pd.DataFrame(
        {
            "warning_id": moved["id"],
            "at": moved["last_seen"],
            "field": "level",
            "old_value": old_moved,
            "new_value": moved["level"],
            "note": ["escalated" if h else "de-escalated" for h in higher],
        }
    )


def _created(new: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "warning_id": new["id"],
            "at": new["first_seen"],
            "field": "created",
            "old_value": None,
            "new_value": new["state"],
            "note": "opened at level " + new["level"],
        }
    )


def _current(conn: sa.Connection, ids: pd.Series) -> pd.DataFrame:
    """Level and state of the warnings `ids`, indexed by id; ValueError if one is missing."""
    w = warnings_table.c
    wanted = ids.tolist()
    parts = [
        pd.read_sql(sa.select(w.id, w.level, w.state).where(w.id.in_(wanted[i : i + _CHUNK])), conn)
        for i in range(0, len(wanted), _CHUNK)
    ]
    found = pd.concat(parts, ignore_index=True).set_index("id")
    missing = sorted(set(wanted) - set(found.index))
    if missing:
        raise ValueError(f"no stored warning with the id(s) {missing[:5]}")
    return found


def _opened(frame: pd.DataFrame, run_id: str) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame()
    _require(frame, ("risk_type", "level", "score", "first_seen"), "opened")
    new = frame.reset_index(drop=True)[[c for c in frame.columns if c in _NAMES]].copy()
    for name in set(_NAMES) - set(new.columns):
        new[name] = None
    first_seen = _utc_series(new["first_seen"], "first_seen")
    new["first_seen"] = first_seen
    for name in ("last_seen", "level_changed_at"):
        new[name] = _utc_series(new[name], name).fillna(first_seen)
    new["state"] = _enum(new["state"].fillna(WarningState.OPEN.value), WarningState, "state")
    new["risk_type"] = _enum(new["risk_type"], RiskType, "risk_type")
    new["level"] = _warning_level(new["level"])
    new["score"] = new["score"].astype(float)
    new["run_id"] = new["run_id"].fillna(run_id)
    _fill_json(new)
    if (new["customer_id"].isna() == new["segment"].isna()).any():
        raise ValueError("opened: every warning needs either a customer_id or a segment")
    if new["id"].isna().any():
        subject = new["customer_id"].fillna("seg." + new["segment"].fillna("").astype(str))
        day = first_seen.dt.strftime("%Y%m%d")
        new["id"] = new["id"].fillna(new["risk_type"] + "-" + subject.astype(str) + "-" + day)
    return new[list(_NAMES)]


def _updated(frame: pd.DataFrame, run_id: str) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame()
    names = ("id", "level", "score", "last_seen", "signals", "evidence", "reasons")
    _require(frame, names, "updated")
    frame = frame.reset_index(drop=True)
    changes = frame[list(names)].copy()
    changes["level"] = _warning_level(changes["level"])
    changes["score"] = changes["score"].astype(float)
    changes["last_seen"] = _utc_series(changes["last_seen"], "last_seen")
    changes["recommended_action"] = frame.get("recommended_action")
    _fill_json(changes)
    changes["run_id"] = frame["run_id"].fillna(run_id) if "run_id" in frame else run_id
    return changes


def _closed(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame()
    _require(frame, ("id", "resolved_at", "cooldown_until"), "closed")
    frame = frame.reset_index(drop=True)
    closures = frame[["id", "resolved_at", "cooldown_until"]].copy()
    closures["resolved_at"] = _utc_series(closures["resolved_at"], "resolved_at")
    closures["cooldown_until"] = _utc_series(closures["cooldown_until"], "cooldown_until")
    closures["state"] = frame.get("state", WarningState.RESOLVED.value)
    closures["state"] = _enum(closures["state"], WarningState, "state")
    if closures["state"].isin(ACTIVE_STATES).any():
        raise ValueError("closed: a closed warning cannot get an active state")
    return closures


def _fill_json(frame: pd.DataFrame) -> None:
    """Empty lists and dicts where the JSON columns have nothing."""
    for name in JSON_COLUMNS:
        empty = dict if name == "evidence" else list
        frame[name] = [empty() if _missing(v) else v for v in frame[name]]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _require(frame: pd.DataFrame, names: Sequence[str], what: str) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing}")


def _enum(values: pd.Series, kind: type[StrEnum], name: str) -> pd.Series:
    """`values` as their enum's plain strings; ValueError naming any value not in `kind`."""
    text = values.map(lambda v: v.value if isinstance(v, StrEnum) else v).astype(object)
    unknown = set(text.dropna()) - {member.value for member in kind}
    if unknown or text.isna().any():
        raise ValueError(f"{name}: not a {kind.__name__}: {sorted(map(str, unknown))}")
    return text


def _warning_level(values: pd.Series) -> pd.Series:
    levels = _enum(values, Level, "level")
    if (levels == Level.NONE.value).any():
        raise ValueError("level: 'none' is no warning; close the warning instead")
    return levels


def _utc_series(series: pd.Series, name: str) -> pd.Series:
    """Time-zone-aware timestamps (or missing) as UTC; ValueError for naive ones."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        converted: pd.Series = series.dt.tz_convert("UTC")
        return converted
    present = series.dropna()
    if series.dtype == object and all(
        isinstance(v, datetime) and v.tzinfo is not None for v in present
    ):
        return pd.to_datetime(series, utc=True) if len(present) else _no_stamps(series)
    if present.empty:
        return _no_stamps(series)
    raise ValueError(f"{name}: expected time-zone-aware timestamps, got {series.dtype}")


def _no_stamps(series: pd.Series) -> pd.Series:
    return pd.Series(pd.NaT, index=series.index, dtype="datetime64[us, UTC]")


def _params(frame: pd.DataFrame, dialect: str) -> list[dict[str, object]]:
    """Driver-ready rows: JSON as text, timestamps as SQLite text or aware datetimes.

    Value by value in Python: a run writes one row per warning, a stream batch a handful,
    and pandas' column methods cost more per call than these loops per value.
    """
    columns: dict[str, list[object]] = {}
    for name in map(str, frame.columns):
        values = frame[name].tolist()
        if name in _STAMPS:
            columns[name] = [_stamp(v, name, dialect) for v in values]
        elif name in JSON_COLUMNS:
            columns[name] = [dump_json(v) for v in values]
        else:
            columns[name] = [None if _absent(v) else v for v in values]
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _stamp(value: object, name: str, dialect: str) -> object:
    """One timestamp for the driver (None when missing); ValueError for a naive one."""
    if _absent(value):
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name}: expected time-zone-aware timestamps, got {value!r}")
    utc = value.astimezone(UTC)
    if dialect == "sqlite":
        return utc.strftime(_SQLITE_STAMP)
    return utc.to_pydatetime() if isinstance(utc, pd.Timestamp) else utc


def _absent(value: object) -> bool:
    return value is None or value is pd.NaT or value is pd.NA or _missing(value)


def _insert_sql(table: str, names: Sequence[str], dialect: str) -> str:
    values = ", ".join(_bind(name, dialect) for name in names)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values})"


def _bind(name: str, dialect: str) -> str:
    """The driver's own placeholder (bulk rows skip SQLAlchemy's per-row work); jsonb cast."""
    if dialect == "sqlite":
        return f":{name}"
    return f"CAST(%({name})s AS JSONB)" if name in JSON_COLUMNS else f"%({name})s"


def _duplicate_error(
    engine: sa.Engine, run: RunRecord, new: pd.DataFrame, closing: set[str]
) -> DuplicateWarningError | None:
    """Name what an IntegrityError was about, read after the rollback (None: not known)."""
    w = warnings_table.c
    with engine.connect() as conn:
        exists = sa.select(runs_table.c.run_id).where(runs_table.c.run_id == run.run_id)
        if conn.execute(exists).first() is not None:
            return DuplicateWarningError(
                f"Run '{run.run_id}' is already stored; nothing was written.",
                hint="Every run needs its own run id.",
            )
        ids = set(conn.execute(sa.select(w.id)).scalars())
        active = pd.read_sql(
            sa.select(w.id, w.customer_id, w.segment, w.risk_type).where(
                w.state.in_(ACTIVE_STATES)
            ),
            conn,
        )
    if new.empty:
        return None
    taken = new["id"][new["id"].isin(ids) | new["id"].duplicated()]
    if not taken.empty:
        return DuplicateWarningError(
            f"Run '{run.run_id}' would open warning '{taken.iloc[0]}', but that id exists; "
            "nothing was written.",
            hint="A warning closed today cannot reopen under the same id before tomorrow.",
        )
    still_active = active[~active["id"].isin(closing)]
    subjects = pd.concat(
        [still_active, new[new["state"].isin(ACTIVE_STATES)]], ignore_index=True
    ).astype(object)
    key = (
        subjects["customer_id"].fillna("").astype(str)
        + "|"
        + subjects["segment"].fillna("").astype(str)
        + "|"
        + subjects["risk_type"].astype(str)
    )
    twice = subjects[key.duplicated(keep=False)]
    if twice.empty:
        return None
    first = twice.iloc[0]
    subject = first["customer_id"] if pd.notna(first["customer_id"]) else f"seg.{first['segment']}"
    return DuplicateWarningError(
        f"Run '{run.run_id}' would open a second active {first['risk_type']} warning for "
        f"{subject} ({', '.join(twice['id'].head(2))}); nothing was written.",
        hint="Another 'crew run' may have written it meanwhile; run again.",
    )


__all__ = [
    "ACTIVE_SQL",
    "ACTIVE_STATES",
    "JSON_COLUMNS",
    "JSON_TYPE",
    "TIMESTAMP_COLUMNS",
    "UtcDateTime",
    "decode_frame",
    "dump_json",
    "history_table",
    "metadata",
    "raw_columns",
    "runs_table",
    "warnings_table",
    "write_run",
]
