"""The combining rule: how probability and fuzzy index become one index and one level.

Defaults live here; a workspace changes them, per industry profile if it wants, in
`catalog/scoring.yaml`:

    default: {fuzzy_share: 0.5, high_at: 95, medium_at: 90, low_at: 80, signal_floor: true}
    profiles:
      finance: {fuzzy_share: 0.7, min_tenure_days: 60}
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crew.errors import ConfigError
from crew.types import Industry, Level

SCORING_FILE = Path("catalog") / "scoring.yaml"


class CombineRule(BaseModel):
    """Weights of the two views, level bands of the risk index, evidence minimums."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fuzzy_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Weight of the fuzzy-index percentile in the risk index (the rest is the "
        "churn-probability percentile).",
    )
    high_at: float = Field(default=95.0, ge=0, le=100, description="Risk index from which HIGH.")
    medium_at: float = Field(
        default=90.0, ge=0, le=100, description="Risk index from which MEDIUM."
    )
    low_at: float = Field(default=80.0, ge=0, le=100, description="Risk index from which LOW.")
    min_tenure_days: float = Field(
        default=30.0, ge=0, description="Younger relationships get 'insufficient_evidence'."
    )
    min_coverage: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Minimum share of fuzzy weight observed, else 'insufficient_evidence'.",
    )
    reasons: int = Field(default=5, ge=1, le=10, description="Reasons attached per customer.")
    signal_floor: bool = Field(
        default=True,
        description="In 'crew run', a customer's level is at least that of its highest warning "
        "signal graded in the same run (any risk type), whose reason then comes first.",
    )

    @model_validator(mode="after")
    def _ordered_bands(self) -> Self:
        if not self.low_at < self.medium_at < self.high_at:
            raise ValueError(
                f"bands must rise: low_at ({self.low_at}) < medium_at ({self.medium_at}) "
                f"< high_at ({self.high_at})"
            )
        return self

    def level_for(self, index: float) -> Level:
        """Level of a risk index.

        >>> CombineRule().level_for(92.0)
        <Level.MEDIUM: 'medium'>
        """
        if math.isnan(index):
            return Level.NONE
        if index >= self.high_at:
            return Level.HIGH
        if index >= self.medium_at:
            return Level.MEDIUM
        return Level.LOW if index >= self.low_at else Level.NONE


class ScoringFile(BaseModel):
    """The shape of `catalog/scoring.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: dict[str, float | bool] = Field(
        default_factory=dict, description="Overrides for everyone."
    )
    profiles: dict[Industry, dict[str, float | bool]] = Field(
        default_factory=dict, description="Further overrides per industry profile."
    )


def load_combine_rule(workspace_root: Path | None, profile: Industry | None) -> CombineRule:
    """The rule for `profile`: defaults, then the file's `default`, then its profile entry."""
    path = workspace_root / SCORING_FILE if workspace_root is not None else None
    if path is None or not path.exists():
        return CombineRule()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        parsed = ScoringFile.model_validate(raw)
        values = dict(parsed.default)
        if profile is not None:
            values |= parsed.profiles.get(profile, {})
        return CombineRule.model_validate(values)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}).") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        parts = [str(p) for p in first["loc"]]
        message = first["msg"].removeprefix("Value error, ")
        if parts and parts[-1] in ("float", "bool"):  # a key of the file's value union
            parts, message = parts[:-1], "expected a number or true/false"
        where = ".".join(parts) or "file"
        raise ConfigError(
            f"{path}: {where}: {message}.",
            hint="docs/models.md ('Combining into one index and level') lists the keys.",
        ) from None


__all__ = ["SCORING_FILE", "CombineRule", "load_combine_rule"]
