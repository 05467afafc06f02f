"""Churn without an episode: a hazard set by the traits that also shape what customers do.

Real customer bases do not lose customers at random. Those who buy rarely, who are unhappy
and who joined recently leave more often, and most of them slow down first. The background
hazard here is therefore proportional to a per-customer *trait factor* (satisfaction and
engagement, the latents that also drive surveys, complaints, purchases and logins) times an
early-life factor that decays with tenure; a churner without an episode mostly fades over
the months before leaving. docs/simulator.md gives the formulas and the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crew.simulator.arrivals import NEVER
from crew.simulator.population import Population

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DAYS_PER_MONTH = 30.4

BASE_CHURN_PER_MONTH = 0.003
"""Background hazard of a mature customer whose trait factor is 1 (about the average)."""
SATISFACTION_LOG_HAZARD = 1.2
"""Log-hazard per standard deviation of latent satisfaction (lower satisfaction, more churn)."""
ENGAGEMENT_OFFSET = 0.3
"""Keeps the hazard finite for customers who almost never act."""
ENGAGEMENT_POWER = 2.0
"""The hazard falls like (engagement + offset)^-power: rare buyers churn more."""
ENGAGEMENT_SCALE = 0.665
"""Makes the engagement term average about 1 (engagement is Gamma, mean 1, shape 1.6)."""
EARLY_LIFE_MULT = 5.0
"""Extra hazard at signup, as a multiple of the mature hazard; it decays with tenure."""
EARLY_LIFE_DAYS = 90.0
"""Time constant (days) of the early-life decay."""
FADE_SHARE = 0.85
"""Share of background churners whose activity fades before they leave; the rest just go."""
FADE_LEAD_DAYS = (45.0, 150.0)
"""Range (uniform) of how long before churn the fade starts."""


def unhappiness_factor(pop: Population, power: float = 1.0) -> FloatArray:
    """Relative hazard from latent satisfaction alone, to `power` (mean 1 for N(0, 1)).

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> pop = SimpleNamespace(satisfaction=np.array([0.0, -1.0]))
    >>> f = unhappiness_factor(pop)
    >>> round(float(f[1] / f[0]), 2)  # one SD less satisfied
    3.32
    """
    b = SATISFACTION_LOG_HAZARD * power
    return np.asarray(np.exp(-b * pop.satisfaction - b * b / 2), dtype=np.float64)


def trait_factor(pop: Population) -> FloatArray:
    """Relative churn hazard of each customer from satisfaction and engagement (mean near 1).

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> pop = SimpleNamespace(satisfaction=np.zeros(2), engagement=np.array([1.0, 0.2]))
    >>> f = trait_factor(pop)
    >>> round(float(f[1] / f[0]), 2)  # a customer five times less active
    6.76
    """
    engagement = ENGAGEMENT_SCALE * (pop.engagement + ENGAGEMENT_OFFSET) ** -ENGAGEMENT_POWER
    return np.asarray(unhappiness_factor(pop) * engagement, dtype=np.float64)


def background_churn_days(
    rng: np.random.Generator, signup_day: FloatArray, start: FloatArray, factor: FloatArray
) -> FloatArray:
    """Day of churn without an episode for customers at risk from `start` on.

    The hazard per day is h·(1 + A·e^(-tenure/T)) with h the mature hazard times `factor`:
    two competing risks, a constant one and an early-life one whose cumulative hazard
    h·A·T·(e^(-tenure0/T) - e^(-tenure/T)) inverts in closed form (never, when its total
    mass from `start` is spent).
    """
    n = len(start)
    h = BASE_CHURN_PER_MONTH / DAYS_PER_MONTH * factor
    constant = start + rng.exponential(1.0, n) / h
    mass = h * EARLY_LIFE_MULT * EARLY_LIFE_DAYS
    left = np.exp(-np.maximum(start - signup_day, 0.0) / EARLY_LIFE_DAYS) - rng.exponential(
        1.0, n
    ) / np.maximum(mass, 1e-300)
    tenure = -EARLY_LIFE_DAYS * np.log(np.where(left > 0, left, 1.0))
    early = np.where(left > 0, signup_day + tenure, NEVER)
    return np.asarray(np.minimum(constant, early), dtype=np.float64)


@dataclass(frozen=True)
class Fade:
    """The pre-churn fade of background churners: who fades, from when, how deep."""

    fades: BoolArray
    begin: FloatArray
    floor: FloatArray
    tau: FloatArray
    sat_drop: FloatArray


def draw_fade(rng: np.random.Generator, churn_t: FloatArray, churns: BoolArray) -> Fade:
    """Fades of the background churners `churns` (churning at `churn_t`)."""
    n = len(churn_t)
    lo, hi = FADE_LEAD_DAYS
    lead = rng.uniform(lo, hi, n)
    fades = churns & (rng.random(n) < FADE_SHARE)
    return Fade(
        fades=fades,
        begin=churn_t - lead,
        floor=rng.uniform(0.05, 0.3, n),
        tau=lead / rng.uniform(1.0, 2.0, n),
        sat_drop=rng.uniform(0.5, 1.2, n),
    )


__all__ = [
    "BASE_CHURN_PER_MONTH",
    "Fade",
    "background_churn_days",
    "draw_fade",
    "trait_factor",
    "unhappiness_factor",
]
