"""Risk episodes: who gets which episode, when, how it unfolds and how it ends.

The plan holds per-customer latent curves (rate decay, satisfaction drop, churn time) that
the generators of transactions, interactions and events read; the episode rows are the
ground truth written to `episodes`, never to the canonical tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from crew.simulator.arrivals import NEVER
from crew.simulator.churn import (
    background_churn_days,
    draw_fade,
    trait_factor,
    unhappiness_factor,
)
from crew.simulator.population import Population
from crew.simulator.profiles import IndustryProfile
from crew.simulator.world import World
from crew.types import OutcomeKind, RiskType

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

EPISODE_RATE_PER_MONTH = 0.0075
"""Hazard of a per-customer episode; about 16% of customers over 24 months."""
SHOCK_CHURN_SHARE = 0.06
"""Share of shock-affected customers (without their own episode) with a trait factor of 1
who churn because of it; the share scales with the factor."""
SHOCK_FACTOR_CAP = 5.0
"""Cap of the trait factor in the shock-churn share (at most 30% of a customer group)."""


DISENGAGEMENT_UNHAPPINESS_POWER = 0.6
"""A disengagement episode's hazard follows the satisfaction part of the churn hazard to this
power (x2 per standard deviation less satisfied); engagement plays no part, so that a
disengagement is as visible in the activity of the customers it strikes as before."""
OUTCOME_TRAIT_POWER = 0.5
"""A service failure ends in churn more often for a high trait factor: the churn share s
becomes 1 - (1 - s)^(factor^power / mean)."""
OUTCOME_TRAIT_MEAN = 0.7
"""Mean of factor^power over a population: s holds for a customer at that mean (the share over
all customers comes out lower, about 31% for s = 40%)."""
BASKET_ELASTICITY = 0.35
"""Purchase amounts scale with the rate factor to this power (at 20% of the rate, 0.57x)."""


class Kind(IntEnum):
    """Per-customer episode kinds (codes in the plan)."""

    NONE = 0
    DISENGAGEMENT = 1
    SERVICE_FAILURE = 2
    COMPLAINT_SURGE = 3
    FRAUD = 4
    DATA_EXPOSURE = 5


KIND_RISK = {
    Kind.DISENGAGEMENT: RiskType.CHURN,
    Kind.SERVICE_FAILURE: RiskType.SATISFACTION_DECLINE,
    Kind.COMPLAINT_SURGE: RiskType.COMPLAINT_SURGE,
    Kind.FRAUD: RiskType.FRAUD,
    Kind.DATA_EXPOSURE: RiskType.DATA_LEAKAGE,
}
_RISK_KIND = {risk: kind for kind, risk in KIND_RISK.items()}


class End(IntEnum):
    """How an episode ends (codes in the plan)."""

    NO_OUTCOME = 0
    CHURN = 1
    FRAUD_CONFIRMED = 2
    REGULATOR_CASE = 3
    DATA_INCIDENT = 4
    RECOVERED = 5


END_LABEL = {
    End.NO_OUTCOME: "no_outcome",
    End.CHURN: OutcomeKind.CHURN.value,
    End.FRAUD_CONFIRMED: OutcomeKind.FRAUD_CONFIRMED.value,
    End.REGULATOR_CASE: OutcomeKind.REGULATOR_CASE.value,
    End.DATA_INCIDENT: OutcomeKind.DATA_INCIDENT.value,
    End.RECOVERED: "recovered",
}


@dataclass(frozen=True)
class Plan:
    """Latent per-customer trajectories of one chunk (all times in days since start)."""

    a: IntArray
    b: IntArray
    churn_t: FloatArray
    kind: npt.NDArray[np.int8]
    onset: FloatArray
    rate_from: FloatArray
    phase_t: FloatArray
    end: npt.NDArray[np.int8]
    end_t: FloatArray
    rate_until: FloatArray
    floor: FloatArray
    tau: FloatArray
    sat_from: FloatArray
    sat_drop: FloatArray
    sat_ramp: FloatArray
    sat_until: FloatArray
    shock_t: FloatArray
    shock_mult: FloatArray
    staff: IntArray
    fake_c: IntArray
    fake_t: FloatArray
    fake_cluster: IntArray
    days: int


@dataclass(frozen=True)
class EpisodeRows:
    """Ground-truth episode rows of one chunk (customer -1 means segment-wide)."""

    c: IntArray
    segment: IntArray
    risk: list[str]
    onset: FloatArray
    outcome: list[str]
    outcome_t: FloatArray
    severity: IntArray
    description: list[str]


def rate_factor(plan: Plan, c: IntArray, t: FloatArray) -> FloatArray:
    """Multiplier (<= 1) of customers' activity rates at times `t` from episodes, fades and
    shocks."""
    on = plan.rate_from[c]
    active = (t >= on) & (t < plan.rate_until[c])
    dt = np.maximum(t - on, 0.0)
    floor = plan.floor[c]
    decay = floor + (1.0 - floor) * np.exp(-dt / plan.tau[c])
    f = np.where(active, decay, 1.0)
    return np.where(t >= plan.shock_t[c], f * plan.shock_mult[c], f)


def basket_factor(plan: Plan, c: IntArray, t: FloatArray) -> FloatArray:
    """Multiplier (<= 1) of purchase amounts: a customer buying less often also buys less.

    Baskets shrink less than purchase frequency (elasticity `BASKET_ELASTICITY`).
    """
    return np.asarray(rate_factor(plan, c, t) ** BASKET_ELASTICITY, dtype=np.float64)


def satisfaction_drop(plan: Plan, c: IntArray, t: FloatArray) -> FloatArray:
    """How far (standard deviations) episodes and fades pull satisfaction down at `t`."""
    ramp = np.clip((t - plan.sat_from[c]) / plan.sat_ramp[c], 0.0, 1.0)
    drop = plan.sat_drop[c] * ramp * np.where(t >= plan.sat_until[c], 0.3, 1.0)
    return np.asarray(drop, dtype=np.float64)


def satisfaction_at(pop: Population, plan: Plan, c: IntArray, t: FloatArray) -> FloatArray:
    """Latent satisfaction (standard-normal scale) of customers at times `t`."""
    shock = np.where(t >= plan.shock_t[c], 0.7, 0.0)
    return pop.satisfaction[c] - satisfaction_drop(plan, c, t) - shock


def churn_share(share: float, leaves: FloatArray) -> FloatArray:
    """Chance that an episode ends in churn: `share` for a customer whose `leaves` is 1,
    more for the less attached (1 - (1 - share)^leaves).

    >>> [round(float(p), 2) for p in churn_share(0.4, np.array([0.25, 1.0, 4.0]))]
    [0.12, 0.4, 0.87]
    """
    return np.asarray(1.0 - (1.0 - share) ** leaves, dtype=np.float64)


def _mix(profile: IndustryProfile) -> tuple[IntArray, FloatArray]:
    kinds = np.array([_RISK_KIND[risk] for risk, _ in profile.episode_mix], dtype=np.int64)
    p = np.array([share for _, share in profile.episode_mix])
    return kinds, p / p.sum()


def draw_plan(
    rng: np.random.Generator,
    pop: Population,
    world: World,
    profile: IndustryProfile,
    fake: BoolArray,
) -> tuple[Plan, EpisodeRows]:
    """Draw episodes, churn and shock exposure for one chunk of customers."""
    n, days = len(pop), world.days
    a = np.clip(pop.signup_day, 0, days).astype(np.int64)
    u = rng.random((n, 8))

    # Which customers get an episode, and when it starts: unhappy customers drift away more
    # often; the other kinds strike anyone.
    factor = trait_factor(pop)
    kinds, kind_p = _mix(profile)
    unhappy = unhappiness_factor(pop, DISENGAGEMENT_UNHAPPINESS_POWER)
    tilt = np.where(kinds == Kind.DISENGAGEMENT, unhappy[:, None], 1.0)
    weight = kind_p * tilt
    total = weight.sum(axis=1)
    room = days - 2.0 - (a + 10.0)
    months = np.maximum(days - a, 0) / 30.4
    has = (u[:, 0] < 1 - np.exp(-EPISODE_RATE_PER_MONTH * total * months)) & (room > 5) & ~fake
    cum = np.cumsum(weight / total[:, None], axis=1)
    pick = np.minimum((cum < rng.random(n)[:, None]).sum(axis=1), len(kinds) - 1)
    kind = np.where(has, kinds[pick], Kind.NONE).astype(np.int8)
    onset = np.where(has, a + 10.0 + u[:, 1] * np.maximum(room, 0), NEVER)

    phase_t = np.full(n, NEVER)
    end = np.zeros(n, dtype=np.int8)
    end_t = np.full(n, NEVER)
    rate_until = np.full(n, NEVER)
    floor = np.ones(n)
    tau = np.full(n, 30.0)
    sat_from = onset.copy()
    sat_drop = np.zeros(n)
    sat_ramp = np.ones(n)
    p_end, v1, v2 = u[:, 2], u[:, 3], u[:, 4]

    # Whether a service failure ends in churn also depends on how attached the customer was.
    leaves = factor**OUTCOME_TRAIT_POWER / OUTCOME_TRAIT_MEAN

    k = kind == Kind.DISENGAGEMENT
    lead = 50 + 130 * v1
    churns = k & (p_end < 0.82)
    end[churns], end_t[churns] = End.CHURN, (onset + lead)[churns]
    floor[churns] = 0.2 * v2[churns]
    tau[churns] = (lead / (2.0 + 2.0 * u[:, 5]))[churns]
    rec = k & ~churns
    end[rec], end_t[rec] = End.RECOVERED, (onset + 30 + 60 * v1)[rec]
    floor[rec], tau[rec] = (0.2 + 0.3 * v2)[rec], 20.0
    rate_until[rec] = end_t[rec]
    sat_drop[k], sat_ramp[k] = (0.5 + v2)[k], lead[k]

    k = kind == Kind.SERVICE_FAILURE
    churns = k & (p_end < churn_share(0.4, leaves))
    end[churns], end_t[churns] = End.CHURN, (onset + 20 + 80 * v1)[churns]
    rec = k & ~churns
    end[rec], end_t[rec] = End.RECOVERED, (onset + 30 + 70 * v1)[rec]
    rate_until[rec] = end_t[rec]
    floor[k] = np.where(churns, 0.15 + 0.3 * v2, 0.3 + 0.35 * v2)[k]
    tau[k] = (5 + 15 * u[:, 5])[k]
    sat_drop[k], sat_ramp[k] = (1.8 + 1.2 * v2)[k], 1.0

    k = kind == Kind.COMPLAINT_SURGE
    weeks = 3 + np.floor(3 * u[:, 5])
    phase_t[k] = (onset + 7 * weeks)[k]
    reg, churns = k & (p_end < 0.3), k & (p_end >= 0.3) & (p_end < 0.55)
    rec = k & (p_end >= 0.55)
    end[reg], end_t[reg] = End.REGULATOR_CASE, (phase_t + 5 + 25 * v1)[reg]
    end[churns], end_t[churns] = End.CHURN, (phase_t + 21 * v1)[churns]
    end[rec], end_t[rec] = End.RECOVERED, (phase_t + 7 * v1)[rec]
    rate_until[rec | reg] = end_t[rec | reg]
    floor[k], tau[k] = 0.6, 21.0
    sat_drop[k], sat_ramp[k] = 1.5, (7 * weeks)[k]

    k = kind == Kind.FRAUD
    phase_t[k] = (onset + 0.3 + 2.2 * v2)[k]
    conf = k & (p_end < 0.8)
    end[conf], end_t[conf] = End.FRAUD_CONFIRMED, (phase_t + 3 + 30 * v1)[conf]
    rec = k & ~conf
    end[rec], end_t[rec] = End.RECOVERED, (phase_t + 5 + 25 * v1)[rec]
    sat_from[k], sat_drop[k], sat_ramp[k] = phase_t[k], 0.8, 3.0

    k = kind == Kind.DATA_EXPOSURE
    phase_t[k] = (onset + 2 + 18 * v2)[k]  # the exposure becomes visible
    cut = [0.45, 0.65, 0.85]
    inc, reg = k & (p_end < cut[0]), k & (p_end >= cut[0]) & (p_end < cut[1])
    churns, rec = k & (p_end >= cut[1]) & (p_end < cut[2]), k & (p_end >= cut[2])
    end[inc], end_t[inc] = End.DATA_INCIDENT, (phase_t + 1 + 6 * v1)[inc]
    end[reg], end_t[reg] = End.REGULATOR_CASE, (phase_t + 15 + 45 * v1)[reg]
    end[churns], end_t[churns] = End.CHURN, (phase_t + 7 + 53 * v1)[churns]
    end[rec], end_t[rec] = End.RECOVERED, (phase_t + 30)[rec]
    floor[churns], tau[churns] = 0.4, 20.0
    onset_rate = np.where(churns, phase_t, onset)
    sat_from[k], sat_drop[k], sat_ramp[k] = phase_t[k], 1.5, 2.0

    sat_until = np.where(end == End.RECOVERED, end_t, NEVER)
    episode_churn = np.where(end == End.CHURN, end_t, NEVER)

    # Churn without an episode: a hazard set by satisfaction, engagement and tenure.
    at_risk = np.where(kind == Kind.NONE, a, np.maximum(a, onset)).astype(np.float64)
    base = background_churn_days(rng, pop.signup_day.astype(np.float64), at_risk, factor)
    base = np.where((kind != Kind.NONE) & (base <= end_t + 1), NEVER, base)
    base = np.where(fake, NEVER, base)

    # External shock: most of one segment at once; those already prone to leave churn.
    shocked = (pop.segment == world.shock_segment) & (u[:, 6] < world.shock_share) & ~fake
    shock_t = np.where(shocked, world.shock_day + 2 * u[:, 7], NEVER)
    shock_mult = np.where(shocked, rng.uniform(0.35, 0.7, n), 1.0)
    p_shock = SHOCK_CHURN_SHARE * np.minimum(factor, SHOCK_FACTOR_CAP)
    shock_churn = np.where(
        shocked & (kind == Kind.NONE) & (rng.random(n) < p_shock),
        shock_t + rng.uniform(20, 150, n),
        NEVER,
    )
    churn_t = np.minimum(np.minimum(episode_churn, base), shock_churn)
    churn_t = np.where(churn_t >= days, NEVER, churn_t)
    b = np.minimum(np.floor(churn_t), days).astype(np.int64)

    # Churn without an episode mostly comes after a fade that starts months before (a shock
    # churner's not before the shock).
    fade = draw_fade(rng, churn_t, (kind == Kind.NONE) & (churn_t < NEVER))
    begin = np.where(churn_t == shock_churn, np.maximum(fade.begin, shock_t), fade.begin)
    quiet = fade.fades
    onset_rate = np.where(quiet, begin, onset_rate)
    floor = np.where(quiet, fade.floor, floor)
    tau = np.where(quiet, np.minimum(fade.tau, (churn_t - begin) / 2), tau)
    sat_from = np.where(quiet, begin, sat_from)
    sat_drop = np.where(quiet, fade.sat_drop, sat_drop)
    sat_ramp = np.where(quiet, np.maximum(churn_t - begin, 1.0), sat_ramp)

    staff = world.rogue_staff[rng.integers(0, len(world.rogue_staff), n)]
    fake_c, fake_t, fake_cluster = _fake_reviews(rng, pop, world, fake)
    plan = Plan(
        a, b, churn_t, kind, onset, onset_rate, phase_t, end, end_t, rate_until, floor, tau,
        sat_from, sat_drop, sat_ramp, sat_until, shock_t, shock_mult, staff, fake_c, fake_t,
        fake_cluster, days,
    )  # fmt: skip
    rows = _episode_rows(rng, pop, plan, world, fake_c, fake_t, fake_cluster)
    return plan, rows


def _fake_reviews(
    rng: np.random.Generator, pop: Population, world: World, fake: BoolArray
) -> tuple[IntArray, FloatArray, IntArray]:
    members = np.flatnonzero(fake)
    pos = np.searchsorted(world.fake_members, pop.index[members])
    cluster = world.fake_cluster[pos]
    counts = rng.integers(1, 4, len(members))
    who = np.repeat(np.arange(len(members)), counts)
    t = world.cluster_day[cluster[who]] + rng.random(len(who)) * 4.0
    return members[who].astype(np.int64), t, cluster[who].astype(np.int64)


def _severity(rng: np.random.Generator, pop: Population, c: IntArray, base: IntArray) -> IntArray:
    bump = (pop.tier[c] == 0).astype(np.int64) + (rng.random(len(c)) < 0.3)
    return np.asarray(np.clip(base + bump, 1, 5), dtype=np.int64)


_BASE_SEVERITY = {
    Kind.DISENGAGEMENT: 2, Kind.SERVICE_FAILURE: 2, Kind.COMPLAINT_SURGE: 3, Kind.FRAUD: 3,
    Kind.DATA_EXPOSURE: 3,
}  # fmt: skip

_STORY = {
    Kind.DISENGAGEMENT: "gradual disengagement: activity decays to {floor:.0%} of normal",
    Kind.SERVICE_FAILURE: "service failure, then satisfaction collapse",
    Kind.COMPLAINT_SURGE: "complaints double weekly for {weeks:.0f} weeks",
    Kind.FRAUD: "fraud burst: new device, failed logins, night-time outsized amounts",
    Kind.DATA_EXPOSURE: "staff {staff} over-accessed the record, data exposed on day {phase:.0f}",
}


def _episode_rows(
    rng: np.random.Generator,
    pop: Population,
    plan: Plan,
    world: World,
    fake_c: IntArray,
    fake_t: FloatArray,
    fake_cluster: IntArray,
) -> EpisodeRows:
    days, onset = plan.days, plan.onset
    c = np.flatnonzero(plan.kind != Kind.NONE).astype(np.int64)
    ended = plan.end_t[c] < days
    outcome = [
        END_LABEL[End(e)] if ok else "no_outcome" for e, ok in zip(plan.end[c], ended, strict=True)
    ]
    outcome_t = np.where(ended, plan.end_t[c], np.nan)
    base = np.array([_BASE_SEVERITY[Kind(k)] for k in plan.kind[c]], dtype=np.int64)
    severity = _severity(rng, pop, c, base)
    weeks = (plan.phase_t[c] - onset[c]) / 7
    description = [
        _STORY[Kind(k)].format(floor=f, weeks=w, staff=f"S{s:04d}", phase=p)
        + (f", ends in {o}" if o != "no_outcome" else ", no outcome within the period")
        for k, f, w, s, p, o in zip(
            plan.kind[c],
            plan.floor[c],
            weeks,
            plan.staff[c],
            plan.phase_t[c],
            outcome,
            strict=True,
        )
    ]
    risk = [KIND_RISK[Kind(k)].value for k in plan.kind[c]]

    # One row per fake-review account, at its first review.
    order = np.lexsort((fake_t, fake_c))
    first = order[np.r_[True, fake_c[order][1:] != fake_c[order][:-1]]] if len(order) else order
    fc = fake_c[first]
    fr = world.cluster_rating[fake_cluster[first]]
    f_desc = [
        f"fake-review ring {cl}: near-duplicate {r:.0f}-star reviews from young accounts"
        for cl, r in zip(fake_cluster[first], fr, strict=True)
    ]
    keep = fake_t[first] < days
    fc, f_onset = fc[keep], fake_t[first][keep]
    f_desc = [d for d, k in zip(f_desc, keep, strict=True) if k]
    f_sev = np.full(len(fc), 2, dtype=np.int64)

    seg = pop.segment.astype(np.int64)
    return EpisodeRows(
        c=np.concatenate([c, fc]),
        segment=np.concatenate([seg[c], seg[fc]]),
        risk=risk + [RiskType.FAKE_REVIEW.value] * len(fc),
        onset=np.concatenate([onset[c], f_onset]),
        outcome=outcome + ["no_outcome"] * len(fc),
        outcome_t=np.concatenate([outcome_t, np.full(len(fc), np.nan)]),
        severity=np.concatenate([severity, f_sev]),
        description=description + f_desc,
    )


def shock_row(world: World, segment_names: tuple[str, ...]) -> EpisodeRows:
    """The one segment-wide external-shock episode of the run."""
    name = segment_names[world.shock_segment]
    text = (
        f"external shock on segment {name}: about {world.shock_share:.0%} of its customers cut "
        "activity to 35-70% and complain more from the same day; about 5% of the affected, "
        "the less attached more often, churn within 20-150 days"
    )
    return EpisodeRows(
        c=np.array([-1], dtype=np.int64),
        segment=np.array([world.shock_segment], dtype=np.int64),
        risk=[RiskType.EXTERNAL_SHOCK.value],
        onset=np.array([world.shock_day]),
        outcome=["no_outcome"],
        outcome_t=np.array([np.nan]),
        severity=np.array([4], dtype=np.int64),
        description=[text],
    )
