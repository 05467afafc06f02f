"""Uplift of treated over control: difference of rates with a bootstrap interval."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Uplift:
    """Retention of treated vs control and what the difference is worth."""

    treated_n: int
    control_n: int
    treated_rate: float | None
    control_rate: float | None
    uplift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # two-proportion z-test, two-sided
    saved_value: float | None  # uplift x value of the treated

    def as_dict(self) -> dict[str, float | int | None]:
        """Plain numbers for JSON."""
        return asdict(self)


def uplift(
    treated: npt.ArrayLike,
    control: npt.ArrayLike,
    *,
    treated_value: npt.ArrayLike | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> Uplift:
    """Rate difference treated − control of 0/1 outcomes, with a 95% percentile bootstrap.

    Each group is resampled on its own (they are independent samples); the number of
    retained in a resample of n 0/1 outcomes is Binomial(n, observed rate), drawn directly.
    """
    t = np.asarray(treated, dtype=float)
    c = np.asarray(control, dtype=float)
    if not len(t) or not len(c):
        rates = [float(x.mean()) if len(x) else None for x in (t, c)]
        return Uplift(len(t), len(c), rates[0], rates[1], None, None, None, None, None)
    rng = np.random.default_rng(seed)
    boot_t = rng.binomial(len(t), t.mean(), n_boot) / len(t)
    boot_c = rng.binomial(len(c), c.mean(), n_boot) / len(c)
    low, high = np.percentile(boot_t - boot_c, [2.5, 97.5])
    difference = float(t.mean() - c.mean())
    pooled = (t.sum() + c.sum()) / (len(t) + len(c))
    se = np.sqrt(pooled * (1 - pooled) * (1 / len(t) + 1 / len(c)))
    p_value = math.erfc(abs(difference) / se / math.sqrt(2)) if se > 0 else 1.0
    value = None if treated_value is None else difference * float(np.sum(treated_value))
    return Uplift(len(t), len(c), float(t.mean()), float(c.mean()), difference, float(low),
                  float(high), p_value, value)  # fmt: skip


__all__ = ["Uplift", "uplift"]
