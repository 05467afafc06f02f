"""Calendar effects: weekly rhythm, Chinese New Year, shopping festivals, flu season."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from crew.types import Industry

FloatArray = npt.NDArray[np.float64]

# Chinese New Year (春节) by Gregorian year; years outside the table fall back to 5 February.
_CNY = {
    2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25),
    2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17),
    2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23), 2032: (2, 11),
    2033: (1, 31), 2034: (2, 19), 2035: (2, 8), 2036: (1, 28), 2037: (2, 15), 2038: (2, 4),
}  # fmt: skip


def chinese_new_year(year: int) -> date:
    """Date of Chinese New Year in `year` (5 February outside 2015-2038).

    >>> chinese_new_year(2024)
    datetime.date(2024, 2, 10)
    """
    month, day = _CNY.get(year, (2, 5))
    return date(year, month, day)


def _days_to_cny(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
    """Signed distance in days from each day to the nearest Chinese New Year."""
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    best = np.full(days.shape, 10_000, dtype=np.int64)
    for year in range(int(years.min()) - 1, int(years.max()) + 2):
        cny = np.datetime64(chinese_new_year(year), "D")
        delta = (days - cny).astype(np.int64)
        best = np.where(np.abs(delta) < np.abs(best), delta, best)
    return best


def daily_season(industry: Industry, start: date, days: int) -> FloatArray:
    """Multiplier of activity on each day of the period (about 1 on an ordinary weekday).

    >>> s = daily_season(Industry.ECOMMERCE, date(2024, 11, 10), 3)
    >>> bool(s[1] > 2 * s[0])  # Singles' Day, 11 November
    True
    """
    day = np.datetime64(start, "D") + np.arange(days)
    weekday = (day.astype(np.int64) + 3) % 7  # 0 = Monday
    month = day.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (day - day.astype("datetime64[M]")).astype(np.int64) + 1
    to_cny = _days_to_cny(day)
    season = np.ones(days)

    def bump(mask: npt.NDArray[np.bool_], factor: float) -> None:
        season[mask] *= factor

    if industry in (Industry.ECOMMERCE, Industry.GENERIC):
        season *= np.array([1.0, 0.96, 0.96, 1.0, 1.05, 1.15, 1.12])[weekday]
        bump((month == 11) & (dom <= 10), 1.5)
        bump((month == 11) & (dom == 11), 4.0)
        bump((month == 11) & (dom >= 12) & (dom <= 13), 1.4)
        bump((month == 6) & (dom <= 17), 1.2)
        bump((month == 6) & (dom == 18), 2.5)
        bump(month == 12, 1.15)
        bump((month == 12) & (dom == 12), 1.8)
        bump((to_cny >= -21) & (to_cny <= -8), 1.3)
        bump((to_cny >= -7) & (to_cny <= 7), 0.55)
    elif industry == Industry.FINANCE:
        season *= np.array([1.1, 1.05, 1.05, 1.05, 1.1, 0.8, 0.75])[weekday]
        bump(dom >= 25, 1.1)
        bump((to_cny >= -14) & (to_cny <= -1), 1.4)
        bump((to_cny >= 0) & (to_cny <= 6), 0.7)
        bump((month == 11) & (dom == 11), 1.6)
    elif industry == Industry.TELECOM:
        season *= np.array([1.0, 0.98, 0.98, 1.0, 1.03, 1.05, 1.0])[weekday]
        bump((to_cny >= -3) & (to_cny <= 7), 1.3)
        bump((month == 11) & (dom == 11), 1.4)
        bump((month == 7) | (month == 8), 1.1)
    else:
        season *= np.array([1.15, 1.1, 1.1, 1.1, 1.05, 0.7, 0.5])[weekday]
        bump((month == 12) | (month <= 2), 1.25)
        bump((to_cny >= -3) & (to_cny <= 6), 0.5)
    return season
