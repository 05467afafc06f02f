"""Trigger thresholds (风险触发阈值): when a signal's score becomes a warning, at which level.

Built-in rules live in `thresholds.yaml` beside this module; a workspace replaces them by
signal in `catalog/thresholds.yaml`, and a rule may be limited to some industry profiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crew.config import parse_yaml_rules
from crew.errors import ConfigError
from crew.types import Industry, Level

THRESHOLDS_FILE = Path("catalog") / "thresholds.yaml"
LEVELS = (Level.LOW, Level.MEDIUM, Level.HIGH)


class Method(StrEnum):
    """How a rule's limits are read."""

    FIXED = "fixed"  # limits are scores
    K_SIGMA = "k_sigma"  # limits are k: mean + k * sd of this run's scores
    QUANTILE = "quantile"  # limits are quantiles (0..1) of this run's scores
    CAPACITY = "capacity"  # limits come from the team's capacity and the value at stake


class ThresholdRule(BaseModel):
    """Limits of one signal per level, with hysteresis and a cooldown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signal: str = Field(description="Name of the signal the rule grades.")
    method: Method = Field(default=Method.FIXED, description="How the limits are read.")
    low_at: float | None = Field(default=None, description="Limit from which the level is LOW.")
    medium_at: float | None = Field(
        default=None, description="Limit from which the level is at least MEDIUM."
    )
    high_at: float | None = Field(default=None, description="Limit from which the level is HIGH.")
    exit_factor: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Hysteresis: a warning keeps its level until the score falls below "
        "this share of the level's limit (fixed and k_sigma limits; 1 = no hysteresis).",
    )
    cooldown_days: int = Field(
        default=28, ge=0, description="Days after a warning closes before the same one reopens."
    )
    capacity_per_day: float | None = Field(
        default=None, gt=0, description="Capacity method: warnings the team can work per day."
    )
    save_rate: float = Field(
        default=0.3, gt=0, le=1, description="Capacity method: share of warned losses saved."
    )
    action_cost: float = Field(
        default=0.0, ge=0, description="Capacity method: cost of working one warning."
    )
    profiles: tuple[Industry, ...] = Field(
        default=(), description="Industry profiles the rule applies to (empty: all)."
    )

    @model_validator(mode="after")
    def _limits_ascend(self) -> Self:
        limits = [v for v in self.limits if v is not None]
        if self.method != Method.CAPACITY and not limits:
            raise ValueError("give at least one of low_at, medium_at, high_at")
        if any(b <= a for a, b in pairwise(limits)):
            raise ValueError(f"limits must rise from low to high (got {limits})")
        if self.method == Method.QUANTILE and any(not 0 < v < 1 for v in limits):
            raise ValueError("quantile limits lie strictly between 0 and 1")
        if self.method == Method.CAPACITY and self.capacity_per_day is None:
            raise ValueError("the capacity method needs capacity_per_day")
        return self

    @property
    def limits(self) -> tuple[float | None, float | None, float | None]:
        """Limits of LOW, MEDIUM, HIGH (None: the rule never gives that level)."""
        return (self.low_at, self.medium_at, self.high_at)


class ThresholdsFile(BaseModel):
    """The YAML file of threshold rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[ThresholdRule] = Field(default_factory=list, description="Threshold rules.")


def load_thresholds(
    workspace_root: Path | None, profile: Industry | None, *, path: Path | None = None
) -> dict[str, ThresholdRule]:
    """Rules by signal: built-ins, then the workspace file (or `path`), profile rules winning."""
    text = resources.files("crew.grading").joinpath("thresholds.yaml").read_text("utf-8")
    layers = [_parse(text, "crew/grading/thresholds.yaml").rules]
    extra = path or (workspace_root / THRESHOLDS_FILE if workspace_root is not None else None)
    if extra is not None and extra.exists():
        layers.append(_parse(extra.read_text(encoding="utf-8"), str(extra)).rules)
    elif path is not None:
        raise ConfigError(f"{path}: no such file.", hint="Give the path of a thresholds YAML.")
    rules: dict[str, ThresholdRule] = {}
    for layer in layers:
        for generic in (True, False):  # profile-specific rules win over generic ones
            for rule in layer:
                if (not rule.profiles) == generic and _applies(rule, profile):
                    rules[rule.signal] = rule
    return rules


def check_signals(rules: dict[str, ThresholdRule], signals: Sequence[str], where: str) -> None:
    """Refuse a rule naming a signal that does not exist."""
    for name in rules:
        if name not in signals:
            raise ConfigError(
                f"{where}: threshold rule for unknown signal '{name}'.",
                hint=f"Known signals: {', '.join(sorted(signals))}.",
            )


def _applies(rule: ThresholdRule, profile: Industry | None) -> bool:
    return not rule.profiles or profile is None or profile in rule.profiles


def _parse(text: str, where: str) -> ThresholdsFile:
    return parse_yaml_rules(
        text,
        where,
        ThresholdsFile,
        hint="docs/signals.md ('Thresholds') lists the fields of a rule.",
    )


__all__ = [
    "LEVELS",
    "THRESHOLDS_FILE",
    "Method",
    "ThresholdRule",
    "ThresholdsFile",
    "check_signals",
    "load_thresholds",
]
