"""Things drawn once per run from the seed: staff, the segment shock, fake-review rings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crew.simulator.profiles import IndustryProfile

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

WORLD_STREAM = 2**31 - 1
"""SeedSequence spawn key of the global draws; chunks use their index (0, 1, ...)."""


@dataclass(frozen=True)
class World:
    """Global facts of one run, shared by every customer chunk."""

    days: int
    staff_count: int
    rogue_staff: IntArray
    shock_segment: int
    shock_day: float
    shock_share: float
    fake_members: IntArray
    fake_cluster: IntArray
    cluster_day: FloatArray
    cluster_rating: npt.NDArray[np.float64]
    cluster_template: IntArray
    cluster_chinese: npt.NDArray[np.bool_]
    cluster_signup: IntArray


def draw_world(seed: int, customers: int, days: int, profile: IndustryProfile) -> World:
    """Draw the run-wide facts; they depend only on the seed and the config."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(WORLD_STREAM,)))
    staff_count = int(np.clip(customers // 400, 20, 9999))
    rogue = rng.choice(staff_count, size=min(4, staff_count), replace=False).astype(np.int64)
    shock_segment = int(rng.integers(0, len(profile.segments)))
    shock_day = float(np.floor(days / 2 + rng.random() * max(days / 2 - 45, days / 6)))
    shock_share = float(rng.uniform(0.55, 0.8))
    clusters = max(1, round(customers / 2500)) if profile.reviews and customers >= 50 else 0
    sizes = rng.integers(5, 21, clusters)
    total = min(int(sizes.sum()), customers // 10)
    members = np.sort(rng.choice(customers, size=total, replace=False)).astype(np.int64)
    cluster = rng.integers(0, max(clusters, 1), total).astype(np.int64)
    lo = min(60.0, days / 3)
    cluster_day = np.floor(lo + rng.random(clusters) * max(days - 5 - lo, 1))
    rating = np.where(rng.random(clusters) < 0.8, 5.0, 1.0)
    template = rng.integers(0, 1000, clusters).astype(np.int64)
    chinese = rng.random(clusters) < 0.8
    # Ring accounts are young: opened a few days to two months before their burst.
    signup = (cluster_day[cluster] - rng.integers(3, 60, total)).astype(np.int64)
    return World(
        days, staff_count, rogue, shock_segment, shock_day, shock_share, members, cluster,
        cluster_day, rating, template, chinese, signup,
    )  # fmt: skip
