"""Silences kept in the operational store: added, listed while in force, ended early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crew.errors import SilenceNotFoundError
from crew.store.operational import OperationalStore
from crew.types import RiskType

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
WEEK = NOW + timedelta(days=7)


def test_a_silence_is_listed_until_it_ends_and_can_end_early() -> None:
    book = OperationalStore.in_memory().silences
    kept = book.add(
        customer_id="C1",
        risk_type=RiskType.CHURN,
        until=WEEK,
        reason=" talks ",
        actor="ana",
        at=NOW,
    )
    assert (kept.id, kept.matcher, kept.reason, kept.ends_at) == (
        1,
        "customer=C1 type=churn",
        "talks",
        WEEK,
    )
    assert [s.id for s in book.active(NOW)] == [1]
    assert book.active(WEEK) == [] and book.listing(WEEK) == []
    assert [s.id for s in book.listing(WEEK, include_ended=True)] == [1]
    ended = book.end(1, NOW + timedelta(hours=1))
    assert ended.ends_at == NOW + timedelta(hours=1)
    assert book.end(1, WEEK).ends_at == NOW + timedelta(hours=1)  # never extended
    assert book.active(NOW + timedelta(hours=2)) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "needs a customer, a risk type or a segment"),
        ({"segment": "north", "until": NOW}, "not ahead"),
        ({"segment": "north", "reason": "  "}, "needs a reason"),
    ],
)
def test_a_silence_must_match_something_end_ahead_and_say_why(
    fields: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {"until": WEEK, "reason": "r", "actor": "ana", "at": NOW} | fields
    with pytest.raises(ValueError, match=message):
        OperationalStore.in_memory().silences.add(**values)  # type: ignore[arg-type]


def test_ending_an_unknown_silence_names_it() -> None:
    with pytest.raises(SilenceNotFoundError, match=r"No silence 9\."):
        OperationalStore.in_memory().silences.end(9, NOW)
