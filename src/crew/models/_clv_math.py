"""Closed-form BG/NBD and Gamma-Gamma formulas, vectorised over customers, and their fitting.

Notation follows Fader, Hardie & Lee (2005): `x` repeat purchases, the last at age `t_x`,
observed for a time `T` since the first purchase (all in the same time unit). Everything
here is a pure function of parameters and data, except `maximise_likelihood` (scipy).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

FloatArray = NDArray[np.float64]


def bg_nbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """Log-likelihood of each customer's (x, t_x, T) under BG/NBD (paper eq. 6), in log space.

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

    >>> one = lambda v: np.array([float(v)])
    >>> ll = bg_nbd_log_likelihood(0.243, 4.414, 0.793, 2.426, one(0), one(0), one(38.86))
    >>> round(float(ll[0]), 4)
    -0.5547
    """
    shared = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    # B(a+1, b+x-1) is undefined for x = 0 when b < 1; that term is absent then anyway.
    x_safe = np.where(repeat, x, 1.0)
    dropped = betaln(a + 1.0, b + x_safe - 1.0) - (r + x) * np.log(alpha + t_x)
    dropped = np.where(repeat, dropped, -np.inf)
    return np.asarray(shared + np.logaddexp(alive, dropped), dtype=np.float64)


def bg_nbd_p_alive(
    r: float, alpha: float, a: float, b: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """P(still active at T | x, t_x, T) (Fader, Hardie & Lee 2008 note, eq. 2); 1 when x = 0.

    >>> one = lambda v: np.array([float(v)])
    >>> alive = bg_nbd_p_alive(0.243, 4.414, 0.793, 2.426, one(2), one(30.43), one(38.86))
    >>> round(float(alive[0]), 4)
    0.7266
    """
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)
    log_ratio = (
        np.log(a) - np.log(b + x_safe - 1.0) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    )
    odds_dropped = np.where(repeat, np.exp(log_ratio), 0.0)
    return np.asarray(1.0 / (1.0 + odds_dropped), dtype=np.float64)


def bg_nbd_conditional_expectation(
    r: float,
    alpha: float,
    a: float,
    b: float,
    t: float,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: purchases expected in (T, T+t] (paper eq. 10).

    E = (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; t/(α+T+t))]
        / (1 + [x > 0] · a/(b+x-1) · ((α+T)/(α+t_x))^(r+x))

    >>> one = lambda v: np.array([float(v)])
    >>> e = bg_nbd_conditional_expectation(
    ...     0.243, 4.414, 0.793, 2.426, 39, one(2), one(30.43), one(38.86))
    >>> round(float(e[0]), 3)
    1.226
    """
    if t <= 0:
        return np.zeros_like(x, dtype=np.float64)
    z = t / (alpha + T + t)
    # Euler's transformation 2F1(α', β'; γ; z) = (1-z)^(γ-α'-β') 2F1(γ-α', γ-β'; γ; z) turns
    # the paper's term into one whose upper parameters do not grow with x: scipy's hyp2f1
    # loses all accuracy on the original for frequent buyers (x in the hundreds).
    hyper = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    shrink = np.exp((a - 1.0) * (np.log(alpha + T) - np.log(alpha + T + t)))
    numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - shrink * hyper)
    return np.asarray(numerator * bg_nbd_p_alive(r, alpha, a, b, x, t_x, T), dtype=np.float64)


def bg_nbd_unconditional_expectation(
    r: float, alpha: float, a: float, b: float, t: FloatArray
) -> FloatArray:
    """E[X(t)]: repeat purchases expected in the first `t` after a new customer's first (eq. 9).

    E = (a+b-1)/(a-1) · [1 - (α/(α+t))^r · 2F1(r, b; a+b-1; t/(α+t))]

    >>> [round(float(v), 4) for v in bg_nbd_unconditional_expectation(
    ...     0.243, 4.414, 0.793, 2.426, np.array([1.0, 78.0]))]
    [0.0533, 1.8605]
    """
    t = np.asarray(t, dtype=np.float64)
    z = t / (alpha + t)
    hyper = hyp2f1(r, b, a + b - 1.0, z)
    value = (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyper)
    return np.asarray(np.where(t > 0, value, 0.0), dtype=np.float64)


def gamma_gamma_log_likelihood(
    p: float, q: float, v: float, x: FloatArray, m_x: FloatArray
) -> FloatArray:
    """Log-likelihood of each customer's mean spend `m_x` over `x` > 0 transactions.

    f(m_x | x) = Γ(px+q) / (Γ(px) Γ(q)) · v^q · m_x^(px-1) · x^(px) / (v + x·m_x)^(px+q)

    >>> round(float(gamma_gamma_log_likelihood(6.25, 3.74, 15.44, np.array([2.0]),
    ...     np.array([35.0]))[0]), 4)
    -4.0958
    """
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m_x)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m_x),
        dtype=np.float64,
    )


def gamma_gamma_expected_spend(
    p: float, q: float, v: float, x: FloatArray, m_x: FloatArray
) -> FloatArray:
    """E[spend per transaction | x, m_x] = p (v + x m_x) / (p x + q - 1); NaN when q <= 1, x = 0.

    A weighted mean of the population mean p v / (q - 1) and the customer's own mean m_x,
    with weight p x / (p x + q - 1) on the latter.

    >>> round(float(gamma_gamma_expected_spend(6.25, 3.74, 15.44, np.array([2.0]),
    ...     np.array([35.0]))[0]), 4)
    35.0394
    """
    m = np.where(x > 0, m_x, 0.0)
    denominator = p * x + q - 1.0
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.asarray(np.where(denominator > 0, p * (v + x * m) / safe, np.nan), dtype=np.float64)


def maximise_likelihood(
    negative_ll: Callable[[FloatArray], float], size: int, penalizer: float, method: str
) -> tuple[float, ...]:
    """Parameters minimising `negative_ll + penalizer · Σ θ²`, searched on log θ."""

    def objective(log_theta: FloatArray) -> float:
        theta = np.exp(log_theta)
        with np.errstate(all="ignore"):
            value = negative_ll(theta) + penalizer * float(np.sum(theta**2))
        # Far from the optimum the likelihood can under/overflow: steer the search back.
        return value if math.isfinite(value) else 1e100

    result = minimize(objective, np.zeros(size), method=method)
    if not result.success and method != "Nelder-Mead":
        result = minimize(
            objective,
            result.x,
            method="Nelder-Mead",
            options={"maxiter": 5000, "xatol": 1e-8, "fatol": 1e-12},
        )
    if not result.success:
        raise ValueError(f"maximum likelihood did not converge: {result.message}")
    return tuple(float(v) for v in np.exp(result.x))


def rfm_arrays(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(x, t_x, T) as equal-length float arrays; ValueError unless 0 <= t_x <= T, x whole."""
    x, t_x, big_t = (
        np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (frequency, recency, T)
    )
    if not x.shape == t_x.shape == big_t.shape:
        raise ValueError(
            f"frequency, recency, T differ in shape: {x.shape}, {t_x.shape}, {big_t.shape}"
        )
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(big_t).all()):
        raise ValueError("frequency, recency and T must be finite")
    if (x < 0).any() or (x != np.round(x)).any():
        raise ValueError("frequency must be a whole number >= 0")
    if (t_x < 0).any() or (t_x > big_t * (1 + 1e-9)).any():
        raise ValueError("recency must lie in [0, T]")
    return x, t_x, big_t


def spend_arrays(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(x, m_x) as equal-length float arrays; ValueError unless both are finite and >= 0."""
    x, m = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (frequency, monetary_value))
    if x.shape != m.shape:
        raise ValueError(f"frequency and monetary_value differ in shape: {x.shape}, {m.shape}")
    if (x < 0).any() or (m < 0).any() or not (np.isfinite(x).all() and np.isfinite(m).all()):
        raise ValueError("frequency and monetary_value must be finite and >= 0")
    return x, m
