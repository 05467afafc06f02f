"""Contacts: tickets, calls, chats, complaints, surveys and reviews, plus episode traces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from crew.simulator.arrivals import NEVER, RowBuffer, arrival_days, spread, times_of_day
from crew.simulator.episodes import (
    End,
    Kind,
    Plan,
    rate_factor,
    satisfaction_at,
    satisfaction_drop,
)
from crew.simulator.population import Population
from crew.simulator.profiles import IndustryProfile
from crew.simulator.texts import Topic
from crew.simulator.world import World
from crew.types import InteractionKind

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Columns = dict[str, npt.NDArray[Any]]

KINDS = tuple(k.value for k in InteractionKind)
STATUSES = (None, "resolved", "open", "escalated")
FAKE_SUFFIXES = ("", "!", "!!", " 👍", "～", "!!!", " 10/10", "。")
_K = {k: i for i, k in enumerate(InteractionKind)}
_RESOLVED, _OPEN, _ESCALATED = 1, 2, 3
_SURVEY_RATE_PER_DAY = 1 / 100
_REVIEW_SHARE = 0.1
_COMPLAINT_LOG_RATE = 0.6  # complaint rate x e^(-0.6 * satisfaction)
_FADE_GRUMBLES = 0.4  # mean extra complaints over a fade without an episode


def _buffer() -> RowBuffer:
    return RowBuffer(
        {
            "c": (np.int64, 0),
            "t": (np.float64, 0.0),
            "kind": (np.int8, 0),
            "severity": (np.int8, 0),
            "status": (np.int8, 0),
            "resolve_h": (np.float64, np.nan),
            "nps": (np.int8, -1),
            "csat": (np.int8, -1),
            "rating": (np.float64, np.nan),
            "topic": (np.int16, -1),
            "variant": (np.int64, 0),
            "lang": (np.int8, -1),
            "suffix": (np.int8, 0),
        }
    )


def _status(
    rng: np.random.Generator,
    n: int,
    p_resolved: float | FloatArray,
    p_escalated: float | FloatArray,
    median_h: float,
) -> tuple[IntArray, FloatArray]:
    u = rng.random(n)
    status = np.where(u < p_resolved, _RESOLVED, np.where(u < p_resolved + p_escalated, 3, 2))
    hours = np.where(status == _RESOLVED, rng.lognormal(np.log(median_h), 0.9, n), np.nan)
    return status.astype(np.int64), hours


def _topics(rng: np.random.Generator, n: int, topics: Mapping[Topic, float]) -> IntArray:
    p = np.array(list(topics.values()))
    return np.array([int(t) for t in topics], dtype=np.int64)[rng.choice(len(p), n, p=p / p.sum())]


def _severity(rng: np.random.Generator, n: int, p: tuple[float, ...]) -> IntArray:
    return rng.choice(len(p), n, p=np.array(p) / sum(p)).astype(np.int64) + 1


def _background(
    rng: np.random.Generator, buf: RowBuffer, pop: Population, plan: Plan, profile: IndustryProfile
) -> None:
    flat = np.arange(plan.days + 1, dtype=np.float64)
    hours = profile.hour_weights
    service = {
        "ticket": (profile.ticket_rate_per_day, {Topic.INQUIRY: 50, Topic.BILLING: 20,
                   Topic.PRODUCT_QUALITY: 15, Topic.SERVICE_FAILURE: 15}, (0.5, 0.35, 0.15), 20.0),
        "call": (profile.call_rate_per_day, {Topic.INQUIRY: 60, Topic.BILLING: 25,
                 Topic.SERVICE_QUALITY: 15}, (), 0.3),
        "chat": (profile.chat_rate_per_day, {Topic.INQUIRY: 55, Topic.BILLING: 15,
                 Topic.PRODUCT_QUALITY: 15, Topic.SERVICE_FAILURE: 10, Topic.CANCELLATION: 5},
                 (), 0.5),
    }  # fmt: skip
    for name, (rate, topics, sev_p, median_h) in service.items():
        who, day = arrival_days(rng, rate * (0.6 + 0.4 * pop.engagement), plan.a, plan.b, flat)
        t = times_of_day(rng, day, hours)
        keep = rng.random(len(t)) < np.sqrt(rate_factor(plan, who, t))
        who, t = who[keep], t[keep]
        n = len(who)
        status, res_h = _status(rng, n, 0.93, 0.02, median_h)
        severity = _severity(rng, n, sev_p) if sev_p else 0
        buf.add(
            c=who, t=t, kind=_K[InteractionKind(name)], severity=severity, status=status,
            resolve_h=res_h, topic=_topics(rng, n, topics), variant=rng.integers(0, 64, n),
        )  # fmt: skip
    # Unhappy customers complain more, also while an episode or a fade sours them (the
    # shock's complaints are drawn apart): thinning from the customer's lowest satisfaction.
    low = pop.satisfaction - plan.sat_drop
    complaint_rate = profile.complaint_rate_per_day * np.exp(-_COMPLAINT_LOG_RATE * low)
    who, day = arrival_days(rng, complaint_rate, plan.a, plan.b, flat)
    t = times_of_day(rng, day, hours)
    excess = _COMPLAINT_LOG_RATE * (plan.sat_drop[who] - satisfaction_drop(plan, who, t))
    keep = rng.random(len(t)) < np.exp(-excess)
    who, t = who[keep], t[keep]
    topics = {Topic.BILLING: 30, Topic.SERVICE_QUALITY: 25, Topic.PRODUCT_QUALITY: 20,
              Topic.SERVICE_FAILURE: 20, Topic.PRIVACY: 5}  # fmt: skip
    _add_complaints(rng, buf, who, t, topics, (0.3, 0.35, 0.25, 0.1))
    # Surveys answer from the customer's current latent satisfaction.
    survey_rate = np.full(len(pop), _SURVEY_RATE_PER_DAY)
    who, day = arrival_days(rng, survey_rate, plan.a, plan.b, flat)
    t = times_of_day(rng, day, hours)
    keep = rng.random(len(t)) < np.sqrt(rate_factor(plan, who, t))
    _add_surveys(rng, buf, pop, plan, who[keep], t[keep])


def _add_complaints(
    rng: np.random.Generator,
    buf: RowBuffer,
    who: IntArray,
    t: FloatArray,
    topics: Mapping[Topic, float],
    sev_p: tuple[float, ...],
    escalated: float = 0.12,
) -> None:
    n = len(who)
    status, res_h = _status(rng, n, 0.8, escalated, 60.0)
    buf.add(
        c=who, t=t, kind=_K[InteractionKind.COMPLAINT], severity=_severity(rng, n, sev_p) + 1,
        status=status, resolve_h=res_h, topic=_topics(rng, n, topics),
        variant=rng.integers(0, 64, n),
    )  # fmt: skip


def _add_surveys(
    rng: np.random.Generator,
    buf: RowBuffer,
    pop: Population,
    plan: Plan,
    who: IntArray,
    t: FloatArray,
) -> None:
    n = len(who)
    s = satisfaction_at(pop, plan, who, t)
    nps = np.clip(np.round(7.3 + 1.7 * s + rng.normal(0, 1.1, n)), 0, 10)
    csat = np.clip(np.round(3.95 + 0.75 * s + rng.normal(0, 0.6, n)), 1, 5)
    is_nps = rng.random(n) < 0.5
    buf.add(
        c=who, t=t, kind=_K[InteractionKind.SURVEY], nps=np.where(is_nps, nps, -1),
        csat=np.where(is_nps, -1, csat),
    )  # fmt: skip


def _add_reviews(
    rng: np.random.Generator, buf: RowBuffer, pop: Population, plan: Plan, txn: Columns
) -> None:
    bought = np.flatnonzero((txn["type"] == 0) & (txn["status"] == 0))
    bought = bought[rng.random(len(bought)) < _REVIEW_SHARE]
    who = txn["c"][bought]
    t = txn["t"][bought] + rng.uniform(2.0, 12.0, len(who))
    s = satisfaction_at(pop, plan, who, t)
    rating = np.clip(np.round(4.3 + 0.6 * s + rng.normal(0, 0.8, len(who))), 1, 5)
    topic = np.where(
        rating >= 4,
        Topic.REVIEW_POSITIVE,
        np.where(rating == 3, Topic.REVIEW_NEUTRAL, Topic.REVIEW_NEGATIVE),
    )
    buf.add(
        c=who, t=t, kind=_K[InteractionKind.REVIEW], rating=rating, topic=topic,
        variant=rng.integers(0, 64, len(who)),
    )  # fmt: skip


def _add_cancellation_chats(
    rng: np.random.Generator, buf: RowBuffer, plan: Plan, c: IntArray, share: float
) -> None:
    c = c[(plan.churn_t[c] < plan.days) & (rng.random(len(c)) < share)]
    t = plan.b[c] - rng.uniform(0.05, 4.0, len(c))
    buf.add(
        c=c, t=t, kind=_K[InteractionKind.CHAT], status=_RESOLVED,
        resolve_h=rng.uniform(0.1, 2.0, len(c)), topic=Topic.CANCELLATION,
        variant=rng.integers(0, 64, len(c)),
    )  # fmt: skip


def _episodes(rng: np.random.Generator, buf: RowBuffer, pop: Population, plan: Plan) -> None:
    kind, onset, phase, end, end_t = plan.kind, plan.onset, plan.phase_t, plan.end, plan.end_t
    grumbles = {Topic.SERVICE_QUALITY: 40, Topic.BILLING: 30, Topic.PRODUCT_QUALITY: 30}

    c = np.flatnonzero(kind == Kind.DISENGAGEMENT)
    stop = np.minimum(end_t[c], plan.days)
    k, t = spread(rng, rng.poisson(0.6, len(c)), onset[c], np.maximum(stop - onset[c], 1.0))
    _add_complaints(rng, buf, c[k], t, grumbles, (0.4, 0.4, 0.2))
    _add_cancellation_chats(rng, buf, plan, c, 0.45)

    # Some customers grumble while they fade away without an episode, as in a disengagement.
    c = np.flatnonzero((kind == Kind.NONE) & (plan.rate_from < NEVER))
    stop = np.minimum(plan.churn_t[c], plan.days)
    k, t = spread(
        rng, rng.poisson(_FADE_GRUMBLES, len(c)), plan.rate_from[c], stop - plan.rate_from[c]
    )
    _add_complaints(rng, buf, c[k], t, grumbles, (0.4, 0.4, 0.2))

    c = np.flatnonzero(kind == Kind.SERVICE_FAILURE)
    n = len(c)
    status, res_h = _status(rng, n, 0.75, 0.25, 96.0)
    buf.add(
        c=c, t=onset[c], kind=_K[InteractionKind.TICKET], severity=rng.integers(3, 5, n),
        status=status, resolve_h=res_h, topic=Topic.SERVICE_FAILURE,
        variant=rng.integers(0, 64, n),
    )  # fmt: skip
    _add_surveys(rng, buf, pop, plan, c, onset[c] + rng.uniform(1.0, 7.0, n))
    k, t = spread(rng, rng.poisson(1.8, n), onset[c] + 0.5, np.full(n, 30.0))
    failure = {Topic.SERVICE_FAILURE: 50, Topic.SERVICE_QUALITY: 35, Topic.BILLING: 15}
    _add_complaints(rng, buf, c[k], t, failure, (0.1, 0.4, 0.35, 0.15), escalated=0.25)
    _add_cancellation_chats(rng, buf, plan, c, 0.5)

    _complaint_surge(rng, buf, plan)

    c = np.flatnonzero(
        (kind == Kind.FRAUD) & ((end == End.FRAUD_CONFIRMED) | (rng.random(len(kind)) < 0.6))
    )
    t = phase[c] + rng.uniform(0.0, 1.5, len(c))
    buf.add(
        c=c, t=t, kind=_K[InteractionKind.DISPUTE], severity=rng.integers(4, 6, len(c)),
        status=_RESOLVED, resolve_h=np.maximum(end_t[c] - t, 0.1) * 24,
        topic=Topic.FRAUD_SECURITY, variant=rng.integers(0, 64, len(c)),
    )  # fmt: skip

    c = np.flatnonzero(kind == Kind.DATA_EXPOSURE)
    counts = np.where(rng.random(len(c)) < 0.6, rng.integers(1, 3, len(c)), 0)
    k, t = spread(rng, counts, phase[c] + 0.5, np.full(len(c), 10.0))
    _add_complaints(rng, buf, c[k], t, {Topic.PRIVACY: 1.0}, (0.0, 0.3, 0.4, 0.3), 0.3)
    _add_cancellation_chats(rng, buf, plan, c[end[c] == End.CHURN], 0.5)
    _regulator_complaints(rng, buf, plan, c)


def _complaint_surge(rng: np.random.Generator, buf: RowBuffer, plan: Plan) -> None:
    c = np.flatnonzero(plan.kind == Kind.COMPLAINT_SURGE)
    weeks = np.round((plan.phase_t[c] - plan.onset[c]) / 7).astype(np.int64)
    start = rng.uniform(0.35, 0.8, len(c))
    main = rng.choice(
        [Topic.BILLING, Topic.SERVICE_QUALITY, Topic.PRODUCT_QUALITY, Topic.SERVICE_FAILURE], len(c)
    )
    row = np.repeat(np.arange(len(c)), weeks)
    week = np.arange(len(row)) - np.repeat(np.cumsum(weeks) - weeks, weeks)
    # The weekly complaint rate doubles: start * 2**week.
    counts = rng.poisson(start[row] * 2.0**week)
    k = np.repeat(row, counts)
    w = np.repeat(week, counts)
    t = plan.onset[c[k]] + 7 * w + 7 * rng.random(len(k))
    n = len(k)
    last = w == weeks[k] - 1
    topic = np.where(rng.random(n) < 0.75, main[k], Topic.SERVICE_QUALITY)
    topic = np.where(last & (rng.random(n) < 0.3), Topic.REGULATOR, topic)
    severity = np.clip(2 + w // 2 + (rng.random(n) < 0.3), 1, 5)
    escalate = np.asarray(0.1 + 0.1 * w, dtype=np.float64)
    status, res_h = _status(rng, n, 0.85 - 0.1 * np.minimum(w, 5), escalate, 72.0)
    buf.add(
        c=c[k], t=t, kind=_K[InteractionKind.COMPLAINT], severity=severity, status=status,
        resolve_h=res_h, topic=topic, variant=rng.integers(0, 64, n),
    )  # fmt: skip
    _add_cancellation_chats(rng, buf, plan, c[plan.end[c] == End.CHURN], 0.6)
    _regulator_complaints(rng, buf, plan, c)


def _regulator_complaints(
    rng: np.random.Generator, buf: RowBuffer, plan: Plan, c: IntArray
) -> None:
    c = c[plan.end[c] == End.REGULATOR_CASE]
    t = plan.phase_t[c] + (plan.end_t[c] - plan.phase_t[c]) * rng.uniform(0.1, 0.6, len(c))
    buf.add(
        c=c, t=t, kind=_K[InteractionKind.REGULATOR_COMPLAINT], severity=5, status=_ESCALATED,
        topic=Topic.REGULATOR, variant=rng.integers(0, 64, len(c)),
    )  # fmt: skip


def _shock(rng: np.random.Generator, buf: RowBuffer, plan: Plan, profile: IndustryProfile) -> None:
    c = np.flatnonzero(plan.shock_t < plan.days)
    counts = rng.poisson(profile.complaint_rate_per_day * 2.5 * 90, len(c))
    k, t = spread(rng, counts, plan.shock_t[c], np.full(len(c), 90.0))
    topics = {
        Topic.BILLING: 40,
        Topic.SERVICE_QUALITY: 30,
        Topic.CANCELLATION: 15,
        Topic.PRODUCT_QUALITY: 15,
    }
    _add_complaints(rng, buf, c[k], t, topics, (0.3, 0.4, 0.2, 0.1))


def _fake_reviews(rng: np.random.Generator, buf: RowBuffer, plan: Plan, world: World) -> None:
    cl = plan.fake_cluster
    n = len(cl)
    rating = world.cluster_rating[cl]
    buf.add(
        c=plan.fake_c, t=plan.fake_t, kind=_K[InteractionKind.REVIEW], rating=rating,
        topic=np.where(rating >= 5, Topic.FAKE_POSITIVE, Topic.FAKE_NEGATIVE),
        variant=world.cluster_template[cl], lang=world.cluster_chinese[cl].astype(np.int8),
        suffix=rng.integers(0, len(FAKE_SUFFIXES), n),
    )  # fmt: skip


def draw_interactions(
    rng: np.random.Generator,
    pop: Population,
    plan: Plan,
    profile: IndustryProfile,
    world: World,
    txn: Columns,
) -> Columns:
    """All contacts of one chunk, restricted to each customer's active window."""
    buf = _buffer()
    _background(rng, buf, pop, plan, profile)
    _episodes(rng, buf, pop, plan)
    _shock(rng, buf, plan, profile)
    if profile.reviews:
        _add_reviews(rng, buf, pop, plan, txn)
        _fake_reviews(rng, buf, plan, world)
    cols = buf.build()
    c, t = cols["c"], cols["t"]
    keep = (t >= plan.a[c]) & (t < plan.b[c])
    cols = {k: v[keep] for k, v in cols.items()}
    resolved_t = cols["t"] + cols["resolve_h"] / 24
    late = resolved_t >= plan.days
    cols["resolved_t"] = np.where(late, np.nan, resolved_t)
    cols["status"] = np.where(late & (cols["status"] == _RESOLVED), _OPEN, cols["status"])
    return cols
