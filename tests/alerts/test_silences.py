"""Silence matching: every named field must match, and only while the silence holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.alerts.test_routing import notification

from crew.alerts.silences import is_silenced, silence_for, silence_matches
from crew.store.silences import Silence
from crew.types import RiskType

START = datetime(2024, 5, 1, tzinfo=UTC)
END = START + timedelta(days=7)


def silence(
    id: int = 1,
    *,
    customer: str | None = None,
    risk_type: RiskType | None = None,
    segment: str | None = None,
    ends: datetime = END,
) -> Silence:
    return Silence(id, customer, risk_type, segment, START, ends, "holiday", "ana")


def test_every_field_a_silence_names_must_match() -> None:
    churn_c1 = notification(customer="C1", risk_type=RiskType.CHURN)
    assert silence_matches(silence(customer="C1"), churn_c1)
    assert silence_matches(silence(risk_type=RiskType.CHURN), churn_c1)
    assert silence_matches(silence(customer="C1", risk_type=RiskType.CHURN), churn_c1)
    assert not silence_matches(silence(customer="C1", risk_type=RiskType.FRAUD), churn_c1)
    assert not silence_matches(silence(customer="C2"), churn_c1)
    assert not silence_matches(silence(segment="north"), churn_c1)  # names no segment
    shock = notification(customer=None, segment="north", risk_type=RiskType.EXTERNAL_SHOCK)
    assert silence_matches(silence(segment="north"), shock)


def test_a_silence_holds_from_its_start_until_just_before_its_end() -> None:
    churn_c1 = notification(customer="C1")
    mute = [silence(customer="C1")]
    assert not is_silenced(churn_c1, mute, START - timedelta(seconds=1))
    assert is_silenced(churn_c1, mute, START)
    assert is_silenced(churn_c1, mute, END - timedelta(microseconds=1))
    assert not is_silenced(churn_c1, mute, END)  # expired


def test_the_matching_silence_that_ends_last_is_named() -> None:
    later = END + timedelta(days=3)
    mutes = [silence(1, customer="C1"), silence(2, risk_type=RiskType.CHURN, ends=later)]
    found = silence_for(notification(customer="C1"), mutes, START)
    assert found is not None and found.id == 2
    assert silence_for(notification(customer="C1"), mutes, later) is None
