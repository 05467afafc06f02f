"""Signal definitions (预警信号): what each detector watches, as data analysts can edit.

The built-in set lives in `signals.yaml` beside this module; a workspace adds or overrides
signals by name in `catalog/signals.yaml`. Scores are numbers, higher = riskier; which score
becomes a warning, and at which level, is decided by `crew.grading`, never here.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crew.config import parse_yaml_rules
from crew.indicators.catalog import Label
from crew.store.series import SERIES
from crew.types import Industry, RiskType

SIGNALS_FILE = Path("catalog") / "signals.yaml"


class Detector(StrEnum):
    """How a signal's score is computed."""

    SERIES_DROP = "series_drop"  # own weekly baseline vs recent weeks (Poisson z, CUSUM, EWMA)
    SERIES_SPIKE = "series_spike"  # own weekly baseline vs recent weeks, upwards
    SURGE = "surge"  # exponential growth of weekly counts
    INDICATOR = "indicator"  # an expression over indicator values
    QUADRANT = "quadrant"  # peer percentile x velocity
    MODEL = "model"  # the registered churn model's probability
    ISOLATION = "isolation"  # multivariate Isolation Forest per segment
    CONFIRMED = "confirmed"  # a signal's score, kept only where a second one agrees


class Statistic(StrEnum):
    """Which baseline statistic a series detector reports as its score."""

    POISSON = "poisson"
    ROBUST_Z = "robust_z"
    CUSUM = "cusum"
    EWMA = "ewma"
    STEP = "step"  # likelihood ratio of a step down at the most likely recent week
    FADE = "fade"  # Bayes factor of an exponential fade at any recent onset and speed


class SignalSpec(BaseModel):
    """One signal: its detector, the risk it points at and what it shows as evidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Unique snake_case name of the signal.")
    risk_type: RiskType = Field(description="Risk the signal points at.")
    label: Label = Field(description="Short label in English and 简体中文.")
    detector: Detector = Field(description="How the score is computed.")
    measure: str | None = Field(
        default=None,
        description="Weekly measure of a series detector: purchases, spend, complaints.",
    )
    statistic: Statistic = Field(
        default=Statistic.POISSON, description="Score of a series detector."
    )
    recent_weeks: int = Field(default=4, ge=1, le=12, description="Weeks judged as recent.")
    min_history_weeks: int = Field(
        default=8, ge=2, description="Baseline weeks a customer needs before it is judged."
    )
    min_baseline_total: float = Field(
        default=6, ge=0, description="Events (or amount) the baseline needs to be judged."
    )
    min_total: int = Field(default=3, ge=1, description="Events a surge needs in its weeks.")
    confirm_weeks: int = Field(
        default=0,
        ge=0,
        le=4,
        description="Step and fade: the drop must also show when judged 1..N weeks earlier "
        "(the score is the smallest of them): a one-week lull is not a drop.",
    )
    min_drop: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Step and fade: share of the baseline rate that must be lost (0.5: the "
        "recent rate is at most half the baseline); smaller dips score 0.",
    )
    score: str | None = Field(
        default=None, description="Indicator expression (indicator detector), e.g. '-nps_change'."
    )
    signal: str | None = Field(
        default=None,
        description="Confirmed detector: the signal whose score this one reports.",
    )
    confirm: str | None = Field(
        default=None,
        description="Confirmed detector: the signal that must agree (e.g. churn_model).",
    )
    top_share: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="Confirmed detector: `confirm` agrees when its score is among this share "
        "of the highest scores of the run (0.05: the top 5%).",
    )
    position: str | None = Field(
        default=None, description="Quadrant: indicator ranked against segment peers."
    )
    velocity: str | None = Field(
        default=None, description="Quadrant: indicator of the period-over-period change."
    )
    evidence: tuple[str, ...] = Field(
        default=(), description="Indicators shown as evidence with the score."
    )
    profiles: tuple[Industry, ...] = Field(
        default=(), description="Industry profiles using the signal (empty: all)."
    )

    @model_validator(mode="after")
    def _fields_of_detector(self) -> Self:
        needs = {
            Detector.SERIES_DROP: ("measure",),
            Detector.SERIES_SPIKE: ("measure",),
            Detector.SURGE: ("measure",),
            Detector.INDICATOR: ("score",),
            Detector.QUADRANT: ("position", "velocity"),
            Detector.CONFIRMED: ("signal", "confirm"),
        }.get(self.detector, ())
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.detector.value} signal needs {', '.join(missing)}")
        if self.measure is not None and self.measure not in SERIES:
            raise ValueError(f"unknown measure '{self.measure}' ({', '.join(SERIES)})")
        if self.statistic in (Statistic.STEP, Statistic.FADE) and self.measure == "spend":
            raise ValueError(f"the {self.statistic.value} statistic is for counts, not spend")
        return self

    def applies_to(self, profile: Industry | None) -> bool:
        """Whether the signal runs for `profile` (None: every signal runs)."""
        return profile is None or not self.profiles or profile in self.profiles


class SignalsFile(BaseModel):
    """The YAML file of signal definitions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signals: list[SignalSpec] = Field(default_factory=list, description="Signal definitions.")


def load_signals(workspace_root: Path | None = None) -> list[SignalSpec]:
    """Built-in signals, with the workspace's `catalog/signals.yaml` replacing them by name."""
    text = resources.files("crew.signals").joinpath("signals.yaml").read_text("utf-8")
    specs = {s.name: s for s in _parse(text, "crew/signals/signals.yaml").signals}
    if workspace_root is not None and (workspace_root / SIGNALS_FILE).exists():
        path = workspace_root / SIGNALS_FILE
        for spec in _parse(path.read_text(encoding="utf-8"), str(path)).signals:
            specs[spec.name] = spec
    return list(specs.values())


def _parse(text: str, where: str) -> SignalsFile:
    return parse_yaml_rules(
        text, where, SignalsFile, hint="docs/signals.md lists the fields of a signal."
    )


__all__ = ["SIGNALS_FILE", "Detector", "SignalSpec", "Statistic", "load_signals"]
