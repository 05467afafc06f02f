"""Silences: whether a user asked that a warning go untold for now (pure, no I/O).

A silence matches a warning when every field it names (customer, risk type, segment) equals
the warning's; it holds from `starts_at` up to, not including, `ends_at`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from crew.store.silences import Silence
from crew.types import RiskType


class Subject(Protocol):
    """What a silence looks at: a warning's customer, segment and risk type."""

    @property
    def customer_id(self) -> str | None: ...

    @property
    def segment(self) -> str | None: ...

    @property
    def risk_type(self) -> RiskType: ...


def silence_matches(silence: Silence, warning: Subject) -> bool:
    """Whether every field `silence` names equals the warning's (time is not looked at)."""
    return (
        (silence.customer_id is None or silence.customer_id == warning.customer_id)
        and (silence.risk_type is None or silence.risk_type == warning.risk_type)
        and (silence.segment is None or silence.segment == warning.segment)
    )


def silence_for(warning: Subject, silences: Iterable[Silence], at: datetime) -> Silence | None:
    """The silence in force at `at` that matches `warning` and ends last, if any."""
    found = [s for s in silences if s.starts_at <= at < s.ends_at and silence_matches(s, warning)]
    return max(found, key=lambda s: (s.ends_at, s.id)) if found else None


def is_silenced(warning: Subject, silences: Iterable[Silence], at: datetime) -> bool:
    """Whether a silence in force at `at` matches `warning`.

    >>> from datetime import UTC
    >>> from types import SimpleNamespace
    >>> mute = Silence(1, "C1", None, None, datetime(2024, 5, 1, tzinfo=UTC),
    ...                datetime(2024, 5, 8, tzinfo=UTC), "on holiday", "ana")
    >>> churn = SimpleNamespace(customer_id="C1", segment=None, risk_type=RiskType.CHURN)
    >>> is_silenced(churn, [mute], datetime(2024, 5, 7, tzinfo=UTC))
    True
    >>> is_silenced(churn, [mute], datetime(2024, 5, 8, tzinfo=UTC))  # expired
    False
    """
    return silence_for(warning, silences, at) is not None


__all__ = ["Subject", "is_silenced", "silence_for", "silence_matches"]
