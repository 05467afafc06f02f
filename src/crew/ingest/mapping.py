"""Mapping files: how a user's columns and values land on the canonical tables.

A mapping file is YAML; `load_mapping` is the only reader and turns every problem into a
`MappingError` that names the file and the field (e.g. `sources[1].columns.ts.format`).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crew.errors import MappingError
from crew.types import Table

Scalar = str | int | float | bool | None
Shape = Literal["table", "snapshot", "transaction_log"]

DEFAULT_YES = ("yes", "y", "true", "1", "t", "是", "churn", "churned")
DEFAULT_NO = ("no", "n", "false", "0", "f", "否", "stay", "retained")


class ColumnSpec(BaseModel):
    """Where one canonical column comes from, and how its values are read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = Field(default=None, description="Source column to read.")
    value: Scalar = Field(
        default=None, description="Constant for every row instead of a column (e.g. kind)."
    )
    format: list[str] | None = Field(
        default=None,
        description="strptime formats tried in order for dates and times, e.g. '%d/%m/%Y %H:%M'.",
    )
    timezone: str | None = Field(
        default=None, description="IANA zone of naive timestamps in this column."
    )
    values: dict[str, Scalar] | None = Field(
        default=None,
        description="Value translation, source value -> canonical value (e.g. 投诉: complaint); "
        "values not listed pass through unchanged.",
    )
    multiply_by: str | None = Field(
        default=None,
        description="Second source column multiplied in, e.g. amount = UnitPrice x Quantity.",
    )

    @field_validator("format", mode="before")
    @classmethod
    def _one_format_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return _check_zone(value)

    @model_validator(mode="after")
    def _column_or_value(self) -> Self:
        if self.column is None and self.value is None:
            raise ValueError("give either 'column' (a source column) or 'value' (a constant)")
        if self.column is not None and self.value is not None:
            raise ValueError("give 'column' or 'value', not both")
        return self


class LabelSpec(BaseModel):
    """The yes/no outcome column of a snapshot file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(description="Source column holding the yes/no label, e.g. Churn.")
    outcome: str = Field(default="churn", description="Outcome kind recorded for 'yes' rows.")
    yes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_YES),
        description="Values meaning yes (case-insensitive).",
    )
    no: list[str] = Field(
        default_factory=lambda: list(DEFAULT_NO),
        description="Values meaning no (case-insensitive).",
    )

    @field_validator("yes", "no", mode="before")
    @classmethod
    def _as_strings(cls, value: object) -> object:
        if isinstance(value, list):
            return [str(v).lower() if isinstance(v, bool) else str(v) for v in value]
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        both = {v.lower() for v in self.yes} & {v.lower() for v in self.no}
        if both:
            raise ValueError(f"values {sorted(both)} are listed under both 'yes' and 'no'")
        return self


class SourceSpec(BaseModel):
    """One input: a file, folder or glob, or a database table, and how it maps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(
        default=None, description="CSV or Parquet file, folder or glob, relative to the mapping."
    )
    url: str | None = Field(
        default=None, description="SQLAlchemy URL of a database, e.g. postgresql://host/db."
    )
    sql_table: str | None = Field(
        default=None, description="Table (or schema.table) to read from 'url'."
    )
    table: Table | None = Field(
        default=None,
        description="Canonical table to fill; defaults to the file name (customers.csv -> "
        "customers), 'customers' for snapshots and 'transactions' for transaction logs.",
    )
    shape: Shape = Field(
        default="table",
        description="'table': rows of one canonical table; 'snapshot': one row per customer "
        "with attributes and a yes/no label; 'transaction_log': purchases only, customers "
        "derived from them.",
    )
    delimiter: str | None = Field(default=None, description="CSV delimiter; sniffed if empty.")
    encoding: Literal["utf-8", "utf-16", "latin-1"] = Field(
        default="utf-8", description="CSV text encoding."
    )
    timezone: str | None = Field(
        default=None, description="IANA zone of naive timestamps in this source."
    )
    columns: dict[str, str | ColumnSpec] = Field(
        default_factory=dict,
        description="Canonical column -> source column name, or a full column spec. Source "
        "columns already named like a canonical column map themselves.",
    )
    attributes: Literal["rest", "none"] | list[str] = Field(
        default="rest",
        description="Customers and snapshots: extra source columns kept as customer "
        "attributes (model features): 'rest' = every unmapped column, 'none', or a list.",
    )
    pii: list[str] = Field(
        default_factory=list, description="Source attribute columns that hold personal data."
    )
    label: LabelSpec | None = Field(
        default=None, description="Snapshot only: the yes/no outcome column."
    )
    snapshot_date: date | None = Field(
        default=None,
        description="Snapshot only: the day the snapshot was taken; 'yes' outcomes are dated "
        "to it.",
    )
    negative_amounts: Literal["error", "refund"] = Field(
        default="error",
        description="Transactions: a negative amount is an error, or a refund of its absolute "
        "value (typical of transaction logs where returns are negative lines).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return _check_zone(value)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if (self.path is None) == (self.url is None):
            raise ValueError("give either 'path' (a file, folder or glob) or 'url' (a database)")
        if self.url is not None and self.sql_table is None:
            raise ValueError("'url' needs 'sql_table', the table to read")
        if self.shape == "snapshot":
            if self.label is None:
                raise ValueError("a snapshot needs 'label' (the yes/no outcome column)")
            if self.snapshot_date is None:
                raise ValueError("a snapshot needs 'snapshot_date' (the day it was taken)")
            if self.table not in (None, Table.CUSTOMERS):
                raise ValueError("a snapshot fills the customers table")
        elif self.label is not None:
            raise ValueError("'label' is only for shape: snapshot")
        if self.shape == "transaction_log" and self.table not in (None, Table.TRANSACTIONS):
            raise ValueError("a transaction log fills the transactions table")
        if self.table == Table.INTERACTION_TEXT:
            raise ValueError("interaction_text is derived by 'crew text analyze', not imported")
        return self

    def column_spec(self, canonical: str) -> ColumnSpec | None:
        """The explicit spec of a canonical column, or None when it is not mapped."""
        spec = self.columns.get(canonical)
        if isinstance(spec, str):
            return ColumnSpec(column=spec)
        return spec


class Mapping(BaseModel):
    """A whole mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = Field(default=1, description="Mapping file format version.")
    timezone: str = Field(
        default="UTC", description="IANA zone of naive timestamps, unless a source says otherwise."
    )
    date_formats: list[str] = Field(
        default_factory=list,
        description="strptime formats tried for every date/time column without its own.",
    )
    sources: list[SourceSpec] = Field(min_length=1, description="The inputs, imported in order.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        checked = _check_zone(value)
        assert checked is not None
        return checked


def _check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown time zone '{value}' (use an IANA name like Asia/Shanghai)"
        raise ValueError(message) from None
    return value


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false, so `yes:`, `no:`, `Y` and `on` stay strings."""


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_mapping(path: Path) -> tuple[Mapping, str]:
    """The mapping in `path` and the SHA-256 of its text (kept as import provenance)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"Mapping file {path} not found.", hint="Check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"Cannot read mapping file {path}: {exc}.") from None
    try:
        raw = yaml.load(text, Loader=_Yaml12Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise MappingError(
            f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)}).",
            hint="Check indentation and quoting; README.md has a mapping example.",
        ) from None
    if not isinstance(raw, dict):
        raise MappingError(
            f"{path}: a mapping file is a YAML object with a 'sources' list.",
            hint="See 'Mapping files' in README.md.",
        )
    try:
        mapping = Mapping.model_validate(raw)
    except ValidationError as exc:
        raise MappingError(_describe(path, exc), hint="See 'Mapping files' in README.md.") from None
    return mapping, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _describe(path: Path, exc: ValidationError) -> str:
    """`file: field.path: message` for the first problem, plus how many more there are."""
    # Of a failed `str | ColumnSpec` union, the ColumnSpec branch says what is wrong.
    errors = [e for e in exc.errors() if "str" not in e["loc"]] or exc.errors()
    first = errors[0]
    where = ""
    for part in first["loc"]:
        if isinstance(part, int):
            where += f"[{part}]"
        elif part in ("str", "ColumnSpec") or part.startswith("function-"):
            continue  # pydantic's union branch names are noise to a user
        else:
            where += f".{part}" if where else str(part)
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{path}: {where}: {message}{more}."


__all__ = ["ColumnSpec", "LabelSpec", "Mapping", "Shape", "SourceSpec", "load_mapping"]
