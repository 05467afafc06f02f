"""Ingest: files, folders and database tables -> validated rows of the canonical tables."""

from crew.ingest.importer import ImportedSource, Problem, import_sources, plan_sources
from crew.ingest.mapping import ColumnSpec, LabelSpec, Mapping, SourceSpec, load_mapping

__all__ = [
    "ColumnSpec",
    "ImportedSource",
    "LabelSpec",
    "Mapping",
    "Problem",
    "SourceSpec",
    "import_sources",
    "load_mapping",
    "plan_sources",
]
