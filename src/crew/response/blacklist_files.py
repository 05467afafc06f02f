"""Blacklist export files exchanged between partners: JSON Lines or CSV, with a header.

JSON Lines: a header object `{"format": "crew-blacklist", "version": 1, "key_fingerprint":
..., "source": ..., "exported_at": ..., "entries": N}`, then one entry object per line. CSV: a
`# crew-blacklist version=1 key_fingerprint=... source=... exported_at=... entries=N` line, the
column names, then one entry per row. Entries carry hashes, reasons and dates, nothing else.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from crew.errors import InvalidBlacklistEntryError
from crew.store.blacklist import BlacklistEntry

FORMAT = "crew-blacklist"
VERSION = 1
FIELDS = (
    "identifier_type",
    "identifier_hash",
    "reason",
    "listed_on",
    "expires_on",
    "evidence",
    "ref",
)

ExportFormat = Literal["jsonl", "csv"]


@dataclass(frozen=True)
class ExportFile:
    """An export as read: its header and its entries as raw fields, with their line numbers."""

    header: dict[str, str]
    rows: list[dict[str, object]]
    lines: list[int]


def write_export(
    path: Path,
    entries: Sequence[BlacklistEntry],
    *,
    fingerprint: str,
    source: str,
    exported_at: datetime,
    fmt: ExportFormat,
) -> int:
    """Write `entries` (hashes, reasons, dates; nothing else) to `path`; how many were written."""
    header = {
        "format": FORMAT,
        "version": VERSION,
        "key_fingerprint": fingerprint,
        "source": source,
        "exported_at": exported_at.isoformat(),
        "entries": len(entries),
    }
    rows = [_row(e) for e in entries]
    if fmt == "jsonl":
        lines = [json.dumps(header, ensure_ascii=False)]
        lines += [json.dumps(r, ensure_ascii=False) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return len(rows)
    buffer = io.StringIO()
    fields = " ".join(f"{k}={v}" for k, v in header.items() if k != "format")
    buffer.write(f"# {FORMAT} {fields}\n")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return len(rows)


def _row(entry: BlacklistEntry) -> dict[str, object]:
    return {
        "identifier_type": entry.identifier_type.value,
        "identifier_hash": entry.identifier_hash,
        "reason": entry.reason,
        "listed_on": entry.listed_on.isoformat(),
        "expires_on": None if entry.expires_on is None else entry.expires_on.isoformat(),
        "evidence": entry.evidence,
        "ref": str(entry.id),
    }


def read_export(path: Path) -> ExportFile:
    """The header and rows of an export (JSON Lines or CSV, told apart by the first line)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidBlacklistEntryError(f"{path}: cannot be read ({exc}).") from None
    lines = text.splitlines()
    if lines and lines[0].startswith("#"):
        return _read_csv(path, lines)
    if lines and lines[0].lstrip().startswith("{"):
        return _read_jsonl(path, lines)
    raise InvalidBlacklistEntryError(
        f"{path}: line 1: not a crew blacklist export (no header line); nothing was imported.",
        hint="'crew blacklist export --out FILE' writes the format; docs/blacklist.md shows it.",
    )


def _read_jsonl(path: Path, lines: list[str]) -> ExportFile:
    items: list[dict[str, object]] = []
    numbers: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            raise refused(f"{path}: line {number}: not a JSON object")
        items.append(value)
        numbers.append(number)
    header = {str(k): str(v) for k, v in items[0].items()}
    return ExportFile(header, items[1:], numbers[1:])


def _read_csv(path: Path, lines: list[str]) -> ExportFile:
    words = lines[0].lstrip("#").split()
    header = {"format": words[0] if words else ""}
    for word in words[1:]:
        name, _, value = word.partition("=")
        header[name] = value
    reader = csv.DictReader(io.StringIO("\n".join(lines[1:])))
    unknown = [f for f in reader.fieldnames or () if f not in FIELDS]
    if unknown:
        raise refused(f"{path}: line 2: unknown column '{unknown[0]}'")
    rows: list[dict[str, object]] = []
    numbers: list[int] = []
    for row in reader:
        if None in row:
            raise refused(f"{path}: line {reader.line_num + 1}: more values than columns")
        rows.append({k: v for k, v in row.items() if v not in ("", None)})
        numbers.append(reader.line_num + 1)
    return ExportFile(header, rows, numbers)


def check_header(path: Path, header: Mapping[str, str], rows: int, fingerprint: str) -> None:
    """Refuse an export of another format or version, another key, or a truncated one."""
    if header.get("format") != FORMAT:
        raise refused(f"{path}: line 1: not a crew blacklist export (format is not '{FORMAT}')")
    if header.get("version") != str(VERSION):
        raise refused(
            f"{path}: line 1: format version {header.get('version')} is not supported "
            f"(this crew reads version {VERSION})"
        )
    theirs = header.get("key_fingerprint", "")
    if theirs != fingerprint:
        raise InvalidBlacklistEntryError(
            f"{path}: key fingerprint {theirs or '(none)'} does not match this workspace's key "
            f"({fingerprint}); nothing was imported.",
            hint="Both partners must hash with the same shared key; compare "
            "'crew blacklist fingerprint' on both sides.",
        )
    if header.get("entries") not in (None, str(rows)):
        raise refused(
            f"{path}: line 1: the header announces {header['entries']} entries, the file holds "
            f"{rows} (cut short?)"
        )


def refused(
    message: str, outcome: str = "nothing was imported", hint: str | None = None
) -> InvalidBlacklistEntryError:
    """The error refusing a whole import or push because of `message`."""
    return InvalidBlacklistEntryError(
        f"{message}; {outcome}.",
        hint=hint or "Fix the entry (docs/blacklist.md describes the fields) and send it again.",
    )


__all__ = [
    "FIELDS",
    "FORMAT",
    "VERSION",
    "ExportFile",
    "ExportFormat",
    "check_header",
    "read_export",
    "refused",
    "write_export",
]
