"""Urgency (紧急程度) of a contact, 0 (none) to 1 (act now), and its level.

A transparent sum of cues, each capped, so a reason can say why a text is urgent:
threat topics (a regulator, cancelling, fraud, a data leak), negative sentiment, words
that ask for speed ("immediately", "马上"), shouting (!!!, CAPITALS), repeated contact
("third time", "又"), and the contact itself (a regulator complaint or a dispute, its
severity when known). Levels: low below 0.4, medium below 0.7, high from 0.7.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

MEDIUM_AT = 0.4
HIGH_AT = 0.7

_TOPIC_WEIGHT = {
    "regulator_threat": 0.45,
    "fraud_security": 0.4,
    "cancellation_intent": 0.35,
    "privacy_data": 0.3,
}
_KIND_WEIGHT = {"regulator_complaint": 0.35, "dispute": 0.2, "complaint": 0.1}
_SPEED = re.compile(
    r"\b(?:urgent(?:ly)?|immediately|right now|asap|at once|today|emergency|straight away|"
    r"without delay|as soon as possible|final warning|last warning|last chance)\b"
    r"|紧急|马上|立即|立刻|尽快|赶紧|今天之内|最后一次|十万火急|急",
    re.IGNORECASE,
)
_REPEAT = re.compile(
    r"\b(?:again|third time|fourth time|(?:many|several|multiple) times|still|yet another)\b"
    r"|又|再次|第[二三四五]次|多次|几次|一直|还是没",
    re.IGNORECASE,
)
_SHOUT = re.compile(r"!{2,}|！{2,}|\b[A-Z]{4,}\b")


class UrgencyLevel(StrEnum):
    """Urgency bands."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def urgency_level(value: float) -> UrgencyLevel:
    """Band of an urgency value.

    >>> urgency_level(0.2), urgency_level(0.5), urgency_level(0.7)
    (<UrgencyLevel.LOW: 'low'>, <UrgencyLevel.MEDIUM: 'medium'>, <UrgencyLevel.HIGH: 'high'>)
    """
    if value >= HIGH_AT:
        return UrgencyLevel.HIGH
    if value >= MEDIUM_AT:
        return UrgencyLevel.MEDIUM
    return UrgencyLevel.LOW


def urgency_for(
    text: str,
    *,
    sentiment: float,
    topics: Sequence[str] = (),
    kind: str | None = None,
    severity: int | None = None,
) -> float:
    """Urgency 0..1 of a text from its cues, its sentiment, topics and contact.

    >>> urgency_for("Where is my invoice?", sentiment=0.0)
    0.0
    >>> urgency_for("Fix it TODAY or I go to the regulator!!", sentiment=-0.6,
    ...             topics=["regulator_threat"], kind="complaint")
    1.0
    """
    value = max((_TOPIC_WEIGHT.get(t, 0.0) for t in topics), default=0.0)
    value += 0.1 * sum(1 for t in topics if t in _TOPIC_WEIGHT) - (0.1 if topics else 0.0)
    value += 0.3 * max(0.0, -sentiment)
    value += 0.2 if _SPEED.search(text) else 0.0
    value += 0.1 if _REPEAT.search(text) else 0.0
    value += 0.1 if _SHOUT.search(text) else 0.0
    value += _KIND_WEIGHT.get(kind or "", 0.0)
    if severity is not None:
        value += 0.05 * max(0, severity - 2)
    return round(min(max(value, 0.0), 1.0), 4)


__all__ = ["HIGH_AT", "MEDIUM_AT", "UrgencyLevel", "urgency_for", "urgency_level"]
