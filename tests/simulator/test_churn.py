"""Churn without an episode: who leaves, when, and how they fade first."""

from __future__ import annotations

from datetime import date

import numpy as np

from crew.simulator.churn import (
    FADE_LEAD_DAYS,
    FADE_SHARE,
    background_churn_days,
    draw_fade,
    trait_factor,
)
from crew.simulator.population import Population, draw_population
from crew.simulator.profiles import profile_for
from crew.types import Industry

N = 200_000


def _population(n: int = 20_000) -> Population:
    rng = np.random.default_rng(3)
    profile = profile_for(Industry.ECOMMERCE)
    return draw_population(
        rng, np.arange(n), profile, 731, np.datetime64(date(2024, 1, 1), "D"), 0.25
    )


def test_trait_factor_averages_about_one_and_ranks_the_marginal_higher() -> None:
    pop = _population()
    factor = trait_factor(pop)
    assert 0.8 < factor.mean() < 1.2
    unhappy = pop.satisfaction < np.quantile(pop.satisfaction, 0.2)
    rare = pop.engagement < np.quantile(pop.engagement, 0.2)
    assert np.median(factor[unhappy]) > 2 * np.median(factor)
    assert np.median(factor[rare]) > 2 * np.median(factor)


def test_background_hazard_scales_with_the_factor_and_is_higher_early_in_life() -> None:
    rng = np.random.default_rng(5)
    start = np.zeros(N)
    mature = np.full(N, -3650.0)  # signed up ten years ago

    def share_within_a_year(signup: np.ndarray, factor: float) -> float:
        days = background_churn_days(rng, signup, start, np.full(N, factor))
        return float(np.mean(days < 365))

    low, high = share_within_a_year(mature, 1.0), share_within_a_year(mature, 4.0)
    assert 3.0 < high / low < 4.5
    assert share_within_a_year(start, 1.0) > 1.5 * low


def test_most_background_churners_fade_months_before_they_leave() -> None:
    rng = np.random.default_rng(7)
    churn_t = rng.uniform(200, 700, N)
    churns = rng.random(N) < 0.5
    fade = draw_fade(rng, churn_t, churns)
    assert not fade.fades[~churns].any()
    assert abs(fade.fades[churns].mean() - FADE_SHARE) < 0.01
    lead = (churn_t - fade.begin)[fade.fades]
    assert FADE_LEAD_DAYS[0] <= lead.min() and lead.max() <= FADE_LEAD_DAYS[1]
