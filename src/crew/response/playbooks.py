"""Response playbooks (应对策略): which case a warning opens, with its steps, owners and deadlines.

Built-in rules live in `crew/response/playbooks.yaml`; a workspace adds or replaces rules by
name (and teams by id) in `catalog/playbooks.yaml`. The first rule that matches a warning's
risk type, level, customer tier (客户分级) and industry profile wins.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crew.config import parse_yaml_rules
from crew.errors import ConfigError
from crew.types import Industry, Level, RiskType

PLAYBOOKS_FILE = "catalog/playbooks.yaml"
_HINT = "docs/response.md lists the fields of a playbook."


class Tier(StrEnum):
    """Customer tier (客户分级), by value."""

    KEY = "key"  # 重点客户
    IMPORTANT = "important"  # 重要客户
    REGULAR = "regular"  # 普通客户


class Channel(StrEnum):
    """How a step reaches the customer, or that it is internal work."""

    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    IN_APP = "in_app"
    INTERNAL = "internal"


class Text(BaseModel):
    """A message in English and 简体中文; `{customer}` and `{reason}` are filled in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1, description="English text.")
    zh: str = Field(min_length=1, description="简体中文 text.")


class Step(BaseModel):
    """One thing to do, by whom, how, and by when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="What to do, e.g. retention_offer, care_call, fraud_hold, notify_dpo.",
    )
    team: str = Field(description="Owning team (an id under `teams`).")
    sla_hours: float = Field(gt=0, description="Deadline, in hours after the previous step.")
    channel: Channel = Field(description="phone, email, sms, in_app or internal.")
    message: Text = Field(description="Message or work instruction, English and Chinese.")
    escalate_to: str | None = Field(
        default=None, description="Team that takes over when the deadline passes."
    )


class Match(BaseModel):
    """Which warnings a playbook takes; an empty list matches anything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    risk_types: list[RiskType] = Field(default_factory=list, description="Warning risk types.")
    levels: list[Level] = Field(default_factory=list, description="Warning levels.")
    tiers: list[Tier] = Field(default_factory=list, description="Customer tiers.")
    profiles: list[Industry] = Field(default_factory=list, description="Industry profiles.")


class Playbook(BaseModel):
    """A named rule: what it matches and the steps of the case it opens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Unique name of the rule.")
    match: Match = Field(default_factory=Match, description="Which warnings it takes.")
    steps: list[Step] = Field(min_length=1, description="Steps of the case, in order.")

    def matches(
        self, risk_type: RiskType, level: Level, tier: Tier, profile: Industry | None
    ) -> bool:
        """Whether a warning of this type and level, for a customer of `tier`, falls under it."""
        m = self.match
        return (
            (not m.risk_types or risk_type in m.risk_types)
            and (not m.levels or level in m.levels)
            and (not m.tiers or tier in m.tiers)
            and (not m.profiles or profile is None or profile in m.profiles)
        )


class Tiers(BaseModel):
    """How customers without a tier of their own are tiered by CLV."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_share: float = Field(default=0.05, gt=0, lt=1, description="Top share that is key.")
    important_share: float = Field(
        default=0.2, gt=0, lt=1, description="Next share that is important."
    )


class PlaybookBook(BaseModel):
    """Everything `playbooks.yaml` holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    teams: dict[str, Text] = Field(default_factory=dict, description="Teams by id.")
    tiers: Tiers = Field(default_factory=Tiers, description="Tiering by CLV.")
    playbooks: list[Playbook] = Field(default_factory=list, description="Rules, first match wins.")

    @model_validator(mode="after")
    def _teams_exist(self) -> Self:
        for i, playbook in enumerate(self.playbooks):
            for j, step in enumerate(playbook.steps):
                for team in (step.team, step.escalate_to):
                    if team is not None and team not in self.teams:
                        raise ValueError(
                            f"playbooks[{i}] ({playbook.name}) step {j + 1}: unknown team "
                            f"'{team}'; known: {', '.join(sorted(self.teams))}"
                        )
        return self

    def find(
        self, risk_type: RiskType, level: Level, tier: Tier, profile: Industry | None
    ) -> Playbook | None:
        """The first playbook that takes this warning, or None."""
        return next((p for p in self.playbooks if p.matches(risk_type, level, tier, profile)), None)


def load_playbooks(workspace_root: Path | None = None) -> PlaybookBook:
    """Built-in playbooks, with the workspace's `catalog/playbooks.yaml` layered on top."""
    text = resources.files("crew.response").joinpath("playbooks.yaml").read_text("utf-8")
    book = parse_yaml_rules(text, "crew/response/playbooks.yaml", PlaybookBook, hint=_HINT)
    if workspace_root is None or not (workspace_root / PLAYBOOKS_FILE).exists():
        return book
    path = workspace_root / PLAYBOOKS_FILE
    raw = parse_yaml_rules(path.read_text(encoding="utf-8"), str(path), _Overlay, hint=_HINT)
    by_name = {p.name: p for p in book.playbooks}
    for playbook in raw.playbooks:
        by_name[playbook.name] = playbook
    # A workspace's own rules come first, so they can narrow a built-in one.
    own = [p.name for p in raw.playbooks]
    ordered = [by_name[n] for n in own] + [p for n, p in by_name.items() if n not in own]
    try:
        return PlaybookBook(
            teams={**book.teams, **raw.teams}, tiers=raw.tiers or book.tiers, playbooks=ordered
        )
    except ValueError as exc:
        message = str(exc).split("Value error, ")[-1].split("\n")[0]
        raise ConfigError(f"{path}: {message}.", hint=_HINT) from None


class _Overlay(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    teams: dict[str, Text] = Field(default_factory=dict, description="Teams added or renamed.")
    tiers: Tiers | None = Field(default=None, description="Tiering by CLV, if changed.")
    playbooks: list[Playbook] = Field(default_factory=list, description="Rules added or replaced.")


__all__ = [
    "PLAYBOOKS_FILE",
    "Channel",
    "Match",
    "Playbook",
    "PlaybookBook",
    "Step",
    "Text",
    "Tier",
    "Tiers",
    "load_playbooks",
]
