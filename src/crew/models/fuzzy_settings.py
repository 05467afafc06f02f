"""Settings of the fuzzy comprehensive evaluation: comment set, operator, breakpoints."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crew.errors import ConfigError
from crew.models._membership import (
    DEFAULT_QUANTILES,
    CompositionOperator,
    Grade,
    IndicatorMembership,
    check_comment_set,
    comment_set,
    point_count_ok,
)


class FuzzySettings(BaseModel):
    """Settings of the fuzzy comprehensive evaluation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grades: tuple[Grade, ...] = Field(
        default_factory=lambda: comment_set(3),
        description="Comment set (评语集), safest first: 3, 4 or 5 for a default set, or a "
        "list of {name, label: {en, zh}, score, level}.",
    )
    operator: CompositionOperator = Field(
        default=CompositionOperator.WEIGHTED_AVERAGE,
        description="Composition operator: weighted_average (B = W·R) or max_min (M(∧,∨)).",
    )
    quantiles: tuple[float, ...] | None = Field(
        default=None,
        description="Quantiles (0-1, increasing, on the risk scale) where fitted breakpoints "
        "sit; m or 2(m-1) of them. Default for 3 grades: 0.5, 0.75, 0.9, 0.975.",
    )
    memberships: tuple[IndicatorMembership, ...] = Field(
        default=(), description="Indicators with configured breakpoints; the rest are fitted."
    )

    @field_validator("grades", mode="before")
    @classmethod
    def _default_set(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            if value not in DEFAULT_QUANTILES:
                raise ValueError(f"a default comment set has 3, 4 or 5 grades, not {value}")
            return comment_set(value)
        return value

    @field_validator("grades")
    @classmethod
    def _valid_set(cls, value: tuple[Grade, ...]) -> tuple[Grade, ...]:
        return check_comment_set(value)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        m = len(self.grades)
        counts = f"{m} or {2 * (m - 1)}"
        q = self.quantiles
        if q is not None:
            if not point_count_ok(len(q), m):
                raise ValueError(f"give {counts} quantiles for {m} grades, not {len(q)}")
            if not all(0 <= v <= 1 for v in q) or any(b <= a for a, b in pairwise(q)):
                raise ValueError(f"quantiles must increase within 0..1: {list(q)}")
        seen: set[str] = set()
        for i, item in enumerate(self.memberships):
            if item.indicator in seen:
                raise ValueError(f"memberships[{i}]: indicator '{item.indicator}' appears twice")
            seen.add(item.indicator)
            if not point_count_ok(len(item.breakpoints), m):
                raise ValueError(
                    f"memberships[{i}] ('{item.indicator}'): give {counts} breakpoints "
                    f"for {m} grades, not {len(item.breakpoints)}"
                )
        return self

    @property
    def fit_quantiles(self) -> tuple[float, ...]:
        """Quantiles used for fitted breakpoints."""
        return self.quantiles or DEFAULT_QUANTILES[len(self.grades)]


def parse_fuzzy_settings(raw: Mapping[str, object] | None, source: str) -> FuzzySettings:
    """Settings from parsed YAML/TOML; ConfigError naming `source` and the field.

    >>> parse_fuzzy_settings({"grades": 5}, "catalog/fuzzy.yaml").grades[-1].name
    'very_high'
    >>> parse_fuzzy_settings({"memberships": [{"indicator": "x", "breakpoints": [1]}]}, "f.yaml")
    Traceback (most recent call last):
    crew.errors.ConfigError: f.yaml: memberships[0].breakpoints: Tuple should have at least 2 items after validation, not 1 (got [1]).
    """  # noqa: E501
    try:
        return FuzzySettings.model_validate(dict(raw or {}))
    except ValidationError as exc:
        raise _config_error(exc, source) from None


def _config_error(exc: ValidationError, source: str) -> ConfigError:
    first = exc.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    got = "" if first["type"] == "value_error" else f" (got {first['input']!r})"
    return ConfigError(
        f"{source}: {where.removeprefix('.') or '(top level)'}: {message}{got}.",
        hint="docs/fuzzy.md describes every field.",
    )


__all__ = ["FuzzySettings", "parse_fuzzy_settings"]
