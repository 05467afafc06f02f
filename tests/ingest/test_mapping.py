"""Mapping files: strict, typed, and errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from crew.config import ApiSettings, Settings, StoreSettings
from crew.errors import MappingError
from crew.ingest.mapping import ColumnSpec, LabelSpec, Mapping, SourceSpec, load_mapping


def _load(tmp_path: Path, text: str) -> Mapping:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)[0]


def test_yes_and_no_stay_text_in_yaml(tmp_path: Path) -> None:
    mapping = _load(
        tmp_path,
        "sources:\n  - path: a.csv\n    shape: snapshot\n    snapshot_date: 2024-06-30\n"
        "    label: {column: Churn, yes: [Yes, Y], no: [No, N]}\n"
        "    columns: {segment: {column: s, values: {on: active, off: dormant, yes: y}}}\n",
    )
    label = mapping.sources[0].label
    assert label is not None and label.yes == ["Yes", "Y"] and label.no == ["No", "N"]
    spec = mapping.sources[0].column_spec("segment")
    assert spec is not None and spec.values == {"on": "active", "off": "dormant", "yes": "y"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: []\n", "sources: List should have at least 1 item after validation"),
        (
            "sources:\n  - path: a.csv\n    colums: {}\n",
            "sources[0].colums: Extra inputs are not permitted",
        ),
        (
            "sources:\n  - path: a.csv\n    url: postgresql://x/y\n",
            "sources[0]: give either 'path'",
        ),
        ("sources:\n  - url: postgresql://x/y\n", "sources[0]: 'url' needs 'sql_table'"),
        (
            "sources:\n  - path: a.csv\n    columns: {ts: {format: '%d'}}\n",
            "sources[0].columns.ts: give either 'column' (a source column) or 'value'",
        ),
        (
            "timezone: Mars/Olympus\nsources:\n  - path: a.csv\n",
            "timezone: unknown time zone 'Mars/Olympus' (use an IANA name like Asia/Shanghai)",
        ),
        (
            "sources:\n  - path: a.csv\n    shape: snapshot\n    label: {column: c}\n",
            "sources[0]: a snapshot needs 'snapshot_date'",
        ),
        (
            "sources:\n  - path: a.csv\n    label: {column: c}\n",
            "sources[0]: 'label' is only for shape: snapshot",
        ),
        (
            "sources:\n  - path: a.csv\n    shape: snapshot\n    snapshot_date: 2024-01-01\n"
            "    label: {column: c, yes: [a], no: [A]}\n",
            "sources[0].label: values ['a'] are listed under both 'yes' and 'no'",
        ),
        ("sources:\n  - path: a.csv\n    table: orders\n", "sources[0].table: Input should be"),
    ],
)
def test_invalid_mappings_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(MappingError) as caught:
        _load(tmp_path, text)
    assert str(caught.value).startswith(f"{tmp_path / 'mapping.yaml'}: {message}")


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"mapping.yaml:3: not valid YAML"):
        _load(tmp_path, "sources:\n  - path: a.csv\n\t  table: customers\n")


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="not found"):
        load_mapping(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "model",
    [ColumnSpec, LabelSpec, SourceSpec, Mapping, Settings, StoreSettings, ApiSettings],
)
def test_every_setting_is_documented_where_declared(model: type[BaseModel]) -> None:
    undocumented = [name for name, f in model.model_fields.items() if not f.description]
    assert undocumented == []
