"""Judgement files: an analyst's pairwise comparisons for AHP, read and checked.

Pairwise judgements on Saaty's 1-9 scale, written in YAML (``crew weights ahp --matrix``)::

    # across dimensions (the criteria are dimension names) ...
    dimensions:
      criteria: [value, trust, complaints]
      matrix:
        - [1, 2, 3]
        - [1/2, 1, 2]
        - [1/3, 1/2, 1]
    # ... and, optionally, within each dimension
    indicators:
      complaints:
        criteria: [complaint_count_30d, complaint_growth, open_ticket_count]
        pairs: {complaint_count_30d/complaint_growth: 1/2,
                complaint_count_30d/open_ticket_count: 3,
                complaint_growth/open_ticket_count: 4}

Each block names its ``criteria`` and gives either the full reciprocal ``matrix`` (row i,
column j: how much more important criterion i is than criterion j) or only the upper
triangle as ``pairs`` ("a/b": how much more important a is than b; the reciprocal is
filled in). Entries are numbers or strings such as ``"1/3"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml

from crew.errors import WeightsError

RECIPROCAL_TOLERANCE = 1e-6
Matrix = Sequence[Sequence[float]] | npt.NDArray[np.float64]


@dataclass(frozen=True)
class JudgementBlock:
    """One pairwise-comparison block of a judgement file."""

    name: str  # "dimensions" or "indicators.<dimension>"
    criteria: tuple[str, ...]
    matrix: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Judgements:
    """A judgement file: across dimensions and, optionally, within each dimension."""

    dimensions: JudgementBlock
    indicators: Mapping[str, JudgementBlock] = field(default_factory=dict)
    source: Path | None = None


def load_judgements(path: Path) -> Judgements:
    """Read and check a judgement file (format in the module docstring and docs/weights.md)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WeightsError(
            f"Cannot read the judgement file {path}: {exc.strerror}.",
            hint="Check the path; docs/weights.md shows an example file.",
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WeightsError(
            f"{path}: not valid YAML ({exc}).", hint="Check indentation and brackets."
        ) from None
    if not isinstance(data, dict):
        raise WeightsError(
            f"{path}: expected a mapping with 'dimensions' (and optionally 'indicators').",
            hint="docs/weights.md shows an example file.",
        )
    _reject_unknown(path, "", data, {"dimensions", "indicators"})
    if "dimensions" not in data:
        raise WeightsError(
            f"{path}: the 'dimensions' block is missing.",
            hint="Compare the dimensions pairwise under 'dimensions: {criteria, matrix}'.",
        )
    dimensions = _block(path, "dimensions", data["dimensions"])
    raw_indicators = data.get("indicators") or {}
    if not isinstance(raw_indicators, dict):
        raise WeightsError(
            f"{path}: indicators: expected a mapping from dimension name to a block.",
            hint="Write 'indicators:' then one block per dimension, e.g. 'complaints:'.",
        )
    indicators: dict[str, JudgementBlock] = {}
    owner: dict[str, str] = {}
    for dim, raw in raw_indicators.items():
        if dim not in dimensions.criteria:
            raise WeightsError(
                f"{path}: indicators.{dim}: '{dim}' is not one of dimensions.criteria.",
                hint=f"Use one of: {', '.join(dimensions.criteria)}.",
            )
        block = _block(path, f"indicators.{dim}", raw)
        for item in block.criteria:
            if item in owner:
                raise WeightsError(
                    f"{path}: indicators.{dim}: '{item}' is also in indicators.{owner[item]}.",
                    hint="Each indicator belongs to exactly one dimension.",
                )
            owner[item] = str(dim)
        indicators[str(dim)] = block
    return Judgements(dimensions=dimensions, indicators=indicators, source=path)


def _reject_unknown(path: Path, where: str, data: Mapping[object, object], known: set[str]) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        prefix = f"{where}: " if where else ""
        raise WeightsError(
            f"{path}: {prefix}unknown key(s) {', '.join(unknown)}.",
            hint=f"Allowed here: {', '.join(sorted(known))}.",
        )


def _block(path: Path, name: str, raw: object) -> JudgementBlock:
    where = f"{path}: {name}"
    if not isinstance(raw, dict):
        raise WeightsError(
            f"{where}: expected 'criteria' and a 'matrix' or 'pairs'.",
            hint="docs/weights.md shows an example file.",
        )
    _reject_unknown(path, name, raw, {"criteria", "matrix", "pairs"})
    criteria = raw.get("criteria")
    if (
        not isinstance(criteria, list)
        or not criteria
        or not all(isinstance(c, str) and c for c in criteria)
    ):
        raise WeightsError(
            f"{where}.criteria: expected a non-empty list of names.",
            hint="e.g. criteria: [value, trust, complaints]",
        )
    duplicates = sorted({c for c in criteria if criteria.count(c) > 1})
    if duplicates:
        raise WeightsError(
            f"{where}.criteria: {', '.join(duplicates)} listed twice.",
            hint="List each criterion once.",
        )
    if ("matrix" in raw) == ("pairs" in raw):
        given = "both" if "matrix" in raw else "neither"
        raise WeightsError(
            f"{where}: give either 'matrix' or 'pairs', not {given}.",
            hint="'matrix' is the full square; 'pairs' maps 'a/b' to a judgement (upper triangle).",
        )
    if "matrix" in raw:
        matrix = _matrix_rows(where, raw["matrix"], len(criteria))
    else:
        matrix = _matrix_from_pairs(where, raw["pairs"], criteria)
    checked_matrix(matrix, criteria, f"{where}.matrix")
    return JudgementBlock(name=name, criteria=tuple(criteria), matrix=matrix)


def _matrix_rows(where: str, raw: object, n: int) -> tuple[tuple[float, ...], ...]:
    if not isinstance(raw, list) or len(raw) != n:
        size = len(raw) if isinstance(raw, list) else 0
        raise WeightsError(
            f"{where}.matrix: expected {n} rows (one per criterion), got {size}.",
            hint="Write one row per criterion, in the order of 'criteria'.",
        )
    rows = []
    for i, row in enumerate(raw, start=1):
        if not isinstance(row, list) or len(row) != n:
            size = len(row) if isinstance(row, list) else 1
            raise WeightsError(
                f"{where}.matrix row {i}: expected {n} entries, got {size}.",
                hint="Every row has one entry per criterion; the diagonal is 1.",
            )
        rows.append(
            tuple(
                _judgement(f"{where}.matrix row {i}, col {j}", v)
                for j, v in enumerate(row, start=1)
            )
        )
    return tuple(rows)


def _matrix_from_pairs(
    where: str, raw: object, criteria: Sequence[str]
) -> tuple[tuple[float, ...], ...]:
    if not isinstance(raw, dict):
        raise WeightsError(
            f"{where}.pairs: expected a mapping like {{'a/b': 3}}.",
            hint="Key 'a/b' says how much more important a is than b.",
        )
    index = {c: i for i, c in enumerate(criteria)}
    n = len(criteria)
    a = [[1.0] * n for _ in range(n)]
    seen: set[tuple[int, int]] = set()
    for key, value in raw.items():
        parts = str(key).split("/")
        if (
            len(parts) != 2
            or parts[0] not in index
            or parts[1] not in index
            or parts[0] == parts[1]
        ):
            raise WeightsError(
                f"{where}.pairs: '{key}' is not 'a/b' with two different criteria.",
                hint=f"Criteria: {', '.join(criteria)}.",
            )
        i, j = index[parts[0]], index[parts[1]]
        if (min(i, j), max(i, j)) in seen:
            raise WeightsError(
                f"{where}.pairs: {criteria[min(i, j)]} and {criteria[max(i, j)]} are judged twice.",
                hint="Give each pair once; the reverse is the reciprocal.",
            )
        seen.add((min(i, j), max(i, j)))
        v = _judgement(f"{where}.pairs['{key}']", value)
        a[i][j], a[j][i] = v, 1 / v
    missing = [
        f"{criteria[i]}/{criteria[j]}"
        for i in range(n)
        for j in range(i + 1, n)
        if (i, j) not in seen
    ]
    if missing:
        raise WeightsError(
            f"{where}.pairs: missing {', '.join(missing)}.",
            hint=f"Every pair of criteria needs one judgement: {n * (n - 1) // 2} in all.",
        )
    return tuple(tuple(row) for row in a)


def _judgement(where: str, value: object) -> float:
    """A number, or a string like "1/3", as a positive float.

    >>> _judgement("x", "1/3") == 1 / 3, _judgement("x", 5), _judgement("x", " 2 ")
    (True, 5.0, 2.0)
    """
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        parts = value.split("/")
        try:
            if len(parts) == 1:
                number = float(parts[0])
            elif len(parts) == 2:
                number = float(parts[0]) / float(parts[1])
        except (ValueError, ZeroDivisionError):
            number = None
    if number is None or not math.isfinite(number) or number <= 0:
        raise WeightsError(
            f"{where}: {value!r} is not a positive number or fraction like '1/3'.",
            hint="Use Saaty's scale: 1..9 or their reciprocals 1/2..1/9.",
        )
    return number


def checked_matrix(matrix: Matrix, criteria: Sequence[str] | None, label: str) -> np.ndarray:
    rows = [list(row) for row in matrix]
    n = len(rows)
    if n == 0:
        raise WeightsError(f"{label} is empty.", hint="Give at least one row of judgements.")
    for i, row in enumerate(rows, start=1):
        if len(row) != n:
            raise WeightsError(
                f"{label} is not square: row {i} has {len(row)} entries, expected {n}.",
                hint="Give one row per criterion and one column per criterion.",
            )
    if criteria is not None and len(criteria) != n:
        raise WeightsError(
            f"{label} has {n} rows but {len(criteria)} criteria.",
            hint="List exactly one criterion per row of the matrix.",
        )
    a = np.asarray(rows, dtype=np.float64)
    # Positivity first, so a zero or negative cell is named as such, not as non-reciprocal.
    for i, j in np.argwhere(~(np.isfinite(a) & (a > 0)))[:1]:
        raise WeightsError(
            f"{label} row {i + 1}, col {j + 1}{pair_name(criteria, i, j)} is {a[i, j]:g}; "
            "judgements must be positive numbers.",
            hint="Use Saaty's scale: 1 (equal) to 9 (extreme), or 1/3, 1/5, ... "
            "when the column criterion matters more.",
        )
    for i in range(n):
        for j in range(i, n):
            where = f"{label} row {i + 1}, col {j + 1}{pair_name(criteria, i, j)}"
            value = a[i, j]
            if i == j and abs(value - 1) > RECIPROCAL_TOLERANCE:
                raise WeightsError(
                    f"{where} is {value:g}; a criterion compared with itself must be 1.",
                    hint="Set every diagonal entry to 1.",
                )
            if i < j and abs(value * a[j, i] - 1) > RECIPROCAL_TOLERANCE:
                raise WeightsError(
                    f"{where} is {value:g} but row {j + 1}, col {i + 1} is {a[j, i]:g}; "
                    "the matrix must be reciprocal (a_ji = 1/a_ij).",
                    hint=f"Set row {j + 1}, col {i + 1} to 1/{value:g}, or give only the "
                    "upper triangle as 'pairs:' in the judgement file.",
                )
    return a


def pair_name(criteria: Sequence[str] | None, i: int, j: int) -> str:
    return f" ({criteria[i]} vs {criteria[j]})" if criteria is not None else ""


__all__ = [
    "JudgementBlock",
    "Judgements",
    "Matrix",
    "checked_matrix",
    "load_judgements",
    "pair_name",
]
