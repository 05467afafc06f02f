"""Customer lifetime value: BG/NBD purchase counts times Gamma-Gamma spend, discounted.

`crew.models.rfm.rfm_summary` gives one (frequency, recency, T, monetary_value) row per
customer at an instant; `BgNbd` (Fader, Hardie & Lee 2005,
"Counting your customers the easy way") predicts repeat purchases and P(alive);
`GammaGamma` (Fader, Hardie & Lee 2005, "RFM and CLV") predicts spend per purchase;
`CustomerLifetimeValue` combines both. Formulas are in `_clv_math` and docs/clv.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Literal, Self, TypedDict, TypeVar, overload

import duckdb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from crew.errors import InsufficientDataError, ModelNotTrainedError
from crew.models._clv_math import (
    FloatArray,
    bg_nbd_conditional_expectation,
    bg_nbd_log_likelihood,
    bg_nbd_p_alive,
    bg_nbd_unconditional_expectation,
    gamma_gamma_expected_spend,
    gamma_gamma_log_likelihood,
    maximise_likelihood,
    rfm_arrays,
    spend_arrays,
)
from crew.models.rfm import rfm_summary

YEAR_DAYS = 365.25
MONTH_DAYS = YEAR_DAYS / 12
SCORE_COLUMNS = ("customer_id", "p_alive", "expected_purchases", "expected_spend", "clv")
FORMAT_VERSION = 1
_V = TypeVar("_V")


class BgNbdDict(TypedDict):
    """Fitted BG/NBD parameters as stored by the model registry (JSON-able)."""

    model: str
    r: float
    alpha: float
    a: float
    b: float
    penalizer: float
    log_likelihood: float
    n_customers: int


class GammaGammaDict(TypedDict):
    """Fitted Gamma-Gamma parameters as stored by the model registry (JSON-able)."""

    model: str
    p: float
    q: float
    v: float
    penalizer: float
    log_likelihood: float
    n_customers: int


class ClvDict(TypedDict):
    """A fitted `CustomerLifetimeValue` as stored by the model registry (JSON-able)."""

    model: str
    version: int
    unit_days: float
    window_days: int | None
    bg_nbd: BgNbdDict
    gamma_gamma: GammaGammaDict


class BgNbd:
    """BG/NBD model of repeat purchases: Poisson buying, a dropout chance after each purchase.

    Heterogeneity: purchase rate λ ~ Gamma(r, α) (α a rate, in the data's time unit),
    dropout probability p ~ Beta(a, b). `penalizer` adds `penalizer · Σ θ²` to the mean
    negative log-likelihood, with times scaled so that the longest `T` is 10 (as lifetimes).
    """

    def __init__(self, *, penalizer: float = 0.0, method: str = "L-BFGS-B") -> None:
        self.penalizer = penalizer
        self.method = method
        self.params_: tuple[float, float, float, float] | None = None
        self.log_likelihood_: float | None = None
        self.n_customers_: int | None = None

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Self:
        """Maximum-likelihood r, α, a, b from each customer's repeat purchases."""
        x, t_x, big_t = rfm_arrays(frequency, recency, T)
        if x.size == 0:
            raise ValueError("BG/NBD needs at least one customer to fit")
        scale = 10.0 / float(big_t.max()) if big_t.max() > 0 else 1.0

        def negative_ll(theta: FloatArray) -> float:
            r, alpha, a, b = theta
            ll = bg_nbd_log_likelihood(r, alpha, a, b, x, t_x * scale, big_t * scale)
            return -float(ll.mean())

        r, alpha, a, b = maximise_likelihood(negative_ll, 4, self.penalizer, self.method)
        self.params_ = (r, alpha / scale, a, b)
        self.log_likelihood_ = float(bg_nbd_log_likelihood(*self.params_, x, t_x, big_t).sum())
        self.n_customers_ = int(x.size)
        return self

    @property
    def params(self) -> tuple[float, float, float, float]:
        """Fitted (r, alpha, a, b)."""
        if self.params_ is None:
            raise _not_fitted("BgNbd")
        return self.params_

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Log-likelihood of each customer under the fitted parameters."""
        return bg_nbd_log_likelihood(*self.params, *rfm_arrays(frequency, recency, T))

    def expected_purchases(
        self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Repeat purchases each customer is expected to make in the next `t` time units."""
        if t < 0:
            raise ValueError(f"t must not be negative, got {t}")
        return bg_nbd_conditional_expectation(*self.params, t, *rfm_arrays(frequency, recency, T))

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Probability that each customer is still active at T (1 without repeat purchases)."""
        return bg_nbd_p_alive(*self.params, *rfm_arrays(frequency, recency, T))

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """Repeat purchases a new customer is expected to make in the `t` after the first."""
        return bg_nbd_unconditional_expectation(*self.params, np.asarray(t, dtype=np.float64))

    def to_dict(self) -> BgNbdDict:
        """Fitted parameters as a JSON-able dict."""
        r, alpha, a, b = self.params
        return BgNbdDict(
            model="bg_nbd",
            r=r,
            alpha=alpha,
            a=a,
            b=b,
            penalizer=self.penalizer,
            log_likelihood=_require(self.log_likelihood_, "BgNbd"),
            n_customers=_require(self.n_customers_, "BgNbd"),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> BgNbd:
        """A fitted model from `to_dict` output; ValueError when a field is missing or bad."""
        _check_kind(data, "bg_nbd")
        model = cls(penalizer=_number(data, "penalizer", bound="nonnegative"))
        r, alpha, a, b = (_number(data, k) for k in ("r", "alpha", "a", "b"))
        model.params_ = (r, alpha, a, b)
        model.log_likelihood_ = _number(data, "log_likelihood", bound="any")
        model.n_customers_ = int(_number(data, "n_customers", bound="nonnegative"))
        return model


class GammaGamma:
    """Gamma-Gamma spend model: each purchase ~ Gamma(p, ν), ν ~ Gamma(q, v) across customers.

    Fitted on customers with at least one repeat purchase and a positive mean spend; it
    assumes spend per purchase is independent of purchase frequency.
    """

    def __init__(self, *, penalizer: float = 0.0, method: str = "L-BFGS-B") -> None:
        self.penalizer = penalizer
        self.method = method
        self.params_: tuple[float, float, float] | None = None
        self.log_likelihood_: float | None = None
        self.n_customers_: int | None = None

    def fit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> Self:
        """Maximum-likelihood p, q, v from repeat customers' mean spend."""
        x, m = spend_arrays(frequency, monetary_value)
        used = (x > 0) & (m > 0)
        if not used.any():
            raise ValueError("Gamma-Gamma needs customers with repeat purchases and spend > 0")
        x, m = x[used], m[used]
        scale = 1.0 / float(m.mean())  # v is in money units: fit in units of the mean spend

        def negative_ll(theta: FloatArray) -> float:
            p, q, v = theta
            return -float(gamma_gamma_log_likelihood(p, q, v, x, m * scale).mean())

        p, q, v = maximise_likelihood(negative_ll, 3, self.penalizer, self.method)
        self.params_ = (p, q, v / scale)
        self.log_likelihood_ = float(gamma_gamma_log_likelihood(*self.params_, x, m).sum())
        self.n_customers_ = int(x.size)
        return self

    @property
    def params(self) -> tuple[float, float, float]:
        """Fitted (p, q, v)."""
        if self.params_ is None:
            raise _not_fitted("GammaGamma")
        return self.params_

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """Expected spend per future purchase; the population mean p·v/(q-1) when frequency = 0."""
        return gamma_gamma_expected_spend(*self.params, *spend_arrays(frequency, monetary_value))

    def to_dict(self) -> GammaGammaDict:
        """Fitted parameters as a JSON-able dict."""
        p, q, v = self.params
        return GammaGammaDict(
            model="gamma_gamma",
            p=p,
            q=q,
            v=v,
            penalizer=self.penalizer,
            log_likelihood=_require(self.log_likelihood_, "GammaGamma"),
            n_customers=_require(self.n_customers_, "GammaGamma"),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> GammaGamma:
        """A fitted model from `to_dict` output; ValueError when a field is missing or bad."""
        _check_kind(data, "gamma_gamma")
        model = cls(penalizer=_number(data, "penalizer", bound="nonnegative"))
        p, q, v = (_number(data, k) for k in ("p", "q", "v"))
        model.params_ = (p, q, v)
        model.log_likelihood_ = _number(data, "log_likelihood", bound="any")
        model.n_customers_ = int(_number(data, "n_customers", bound="nonnegative"))
        return model


class CustomerLifetimeValue:
    """BG/NBD and Gamma-Gamma fitted together on an `rfm_summary` frame.

    `unit_days` and `window_days` say how the summary was built, so scoring rebuilds it alike.
    """

    def __init__(
        self, *, unit_days: float = 7.0, window_days: int | None = None, penalizer: float = 0.0
    ) -> None:
        self.unit_days = unit_days
        self.window_days = window_days
        self.penalizer = penalizer
        self.bg_nbd_: BgNbd | None = None
        self.gamma_gamma_: GammaGamma | None = None

    def fit(self, summary: pd.DataFrame) -> Self:
        """Fit both models on a frame with frequency, recency, T and monetary_value."""
        self.bg_nbd_ = BgNbd(penalizer=self.penalizer).fit(
            summary["frequency"], summary["recency"], summary["T"]
        )
        self.gamma_gamma_ = GammaGamma(penalizer=self.penalizer).fit(
            summary["frequency"], summary["monetary_value"]
        )
        return self

    @property
    def models(self) -> tuple[BgNbd, GammaGamma]:
        """The fitted purchase-count and spend models."""
        if self.bg_nbd_ is None or self.gamma_gamma_ is None:
            raise _not_fitted("CustomerLifetimeValue")
        return self.bg_nbd_, self.gamma_gamma_

    def clv(
        self,
        summary: pd.DataFrame,
        horizon_days: float = 365.0,
        discount_rate_annual: float = 0.1,
        *,
        step_days: float = MONTH_DAYS,
    ) -> pd.Series:
        """Discounted expected spend over the next `horizon_days`, per customer of `summary`.

        CLV = Σ_k [E(Y(t_k)) - E(Y(t_{k-1}))] · E(M) · (1 + d)^(-t_k / 365.25), with
        t_k = min(k · step_days, horizon_days) in days (monthly steps by default).
        """
        if horizon_days < 0 or step_days <= 0 or discount_rate_annual <= -1:
            raise ValueError(
                f"need horizon_days >= 0, step_days > 0, discount rate > -1; got "
                f"{horizon_days}, {step_days}, {discount_rate_annual}"
            )
        bg_nbd, gamma_gamma = self.models
        x, t_x, big_t = (summary[c] for c in ("frequency", "recency", "T"))
        spend = gamma_gamma.expected_spend(x, summary["monetary_value"])
        steps = math.ceil(horizon_days / step_days - 1e-9)
        total = np.zeros(len(summary))
        before = np.zeros(len(summary))
        for k in range(1, steps + 1):
            end = min(k * step_days, horizon_days)
            upto = bg_nbd.expected_purchases(end / self.unit_days, x, t_x, big_t)
            total += (upto - before) * (1.0 + discount_rate_annual) ** (-end / YEAR_DAYS)
            before = upto
        return pd.Series(total * spend, index=summary.index, name="clv")

    def to_dict(self) -> ClvDict:
        """Settings and fitted parameters as a JSON-able dict."""
        bg_nbd, gamma_gamma = self.models
        return ClvDict(
            model="clv",
            version=FORMAT_VERSION,
            unit_days=self.unit_days,
            window_days=self.window_days,
            bg_nbd=bg_nbd.to_dict(),
            gamma_gamma=gamma_gamma.to_dict(),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CustomerLifetimeValue:
        """A fitted model from `to_dict` output; ValueError when a field is missing or bad."""
        _check_kind(data, "clv")
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported CLV format version {data.get('version')!r}")
        window = data.get("window_days")
        if window is not None and not isinstance(window, int):
            raise ValueError(f"window_days must be an integer or null, got {window!r}")
        bg_nbd, gamma_gamma = data.get("bg_nbd"), data.get("gamma_gamma")
        if not isinstance(bg_nbd, Mapping) or not isinstance(gamma_gamma, Mapping):
            raise ValueError("a CLV dict needs 'bg_nbd' and 'gamma_gamma' objects")
        model = cls(unit_days=_number(data, "unit_days"), window_days=window)
        model.bg_nbd_ = BgNbd.from_dict(bg_nbd)
        model.gamma_gamma_ = GammaGamma.from_dict(gamma_gamma)
        model.penalizer = model.bg_nbd_.penalizer
        return model


@overload
def clv_decline_rate(clv_now: float, clv_before: float) -> float: ...
@overload
def clv_decline_rate(clv_now: ArrayLike, clv_before: ArrayLike) -> FloatArray: ...
def clv_decline_rate(clv_now: ArrayLike, clv_before: ArrayLike) -> float | FloatArray:
    """Relative change (now - before) / |before|: 0 when both are 0, NaN when only before is.

    Negative values are declines (-0.25 = a quarter of the value lost), as for every
    relative change indicator (docs/indicators.md, "Change indicators and zero baselines").

    >>> clv_decline_rate(75.0, 100.0), clv_decline_rate(0.0, 0.0), clv_decline_rate(5.0, 0.0)
    (-0.25, 0.0, nan)
    >>> clv_decline_rate(np.array([50.0, 0.0]), np.array([100.0, 0.0])).tolist()
    [-0.5, 0.0]
    """
    now = np.asarray(clv_now, dtype=np.float64)
    before = np.asarray(clv_before, dtype=np.float64)
    zero = before == 0
    safe = np.where(zero, 1.0, np.abs(before))
    change = np.where(zero, np.where(now == 0, 0.0, np.nan), (now - before) / safe)
    if change.ndim == 0:
        return float(change)
    return np.asarray(change, dtype=np.float64)


def fit_clv(
    conn: duckdb.DuckDBPyConnection,
    as_of: datetime,
    *,
    unit_days: float = 7.0,
    window_days: int | None = None,
    penalizer: float = 0.0,
) -> CustomerLifetimeValue:
    """A CLV model fitted on the purchases before `as_of`."""
    summary = rfm_summary(conn, as_of, unit_days=unit_days, window_days=window_days)
    repeaters = int((summary["frequency"] > 0).sum())
    if repeaters == 0:
        raise InsufficientDataError(
            f"No customer has a repeat purchase before {as_of.isoformat()} "
            f"({len(summary)} customers with a purchase): CLV cannot be fitted.",
            hint="Import purchase transactions, or fit at a later as_of.",
        )
    model = CustomerLifetimeValue(unit_days=unit_days, window_days=window_days, penalizer=penalizer)
    return model.fit(summary)


def score_clv(
    model: CustomerLifetimeValue,
    conn: duckdb.DuckDBPyConnection,
    as_of: datetime,
    horizon_days: float = 365.0,
    discount_rate: float = 0.1,
) -> pd.DataFrame:
    """P(alive), expected purchases and spend over the horizon, and CLV per customer at `as_of`."""
    bg_nbd, gamma_gamma = model.models
    summary = rfm_summary(conn, as_of, unit_days=model.unit_days, window_days=model.window_days)
    x, t_x, big_t = (summary[c] for c in ("frequency", "recency", "T"))
    return pd.DataFrame(
        {
            "customer_id": summary.index.to_numpy(dtype=object),
            "p_alive": bg_nbd.probability_alive(x, t_x, big_t),
            "expected_purchases": bg_nbd.expected_purchases(
                horizon_days / model.unit_days, x, t_x, big_t
            ),
            "expected_spend": gamma_gamma.expected_spend(x, summary["monetary_value"]),
            "clv": model.clv(summary, horizon_days, discount_rate).to_numpy(),
        },
        columns=list(SCORE_COLUMNS),
    )


def _not_fitted(name: str) -> ModelNotTrainedError:
    return ModelNotTrainedError(
        f"The {name} model has not been fitted.",
        hint=f"Call {name}.fit() first, or load fitted parameters with {name}.from_dict().",
    )


def _require(value: _V | None, name: str) -> _V:
    if value is None:
        raise _not_fitted(name)
    return value


def _check_kind(data: Mapping[str, object], kind: str) -> None:
    if data.get("model") != kind:
        raise ValueError(f"expected a {kind!r} model dict, got model={data.get('model')!r}")


def _number(
    data: Mapping[str, object],
    key: str,
    *,
    bound: Literal["positive", "nonnegative", "any"] = "positive",
) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key!r} must be a finite number, got {value!r}")
    if (bound == "positive" and value <= 0) or (bound == "nonnegative" and value < 0):
        raise ValueError(f"{key!r} must be {bound}, got {value!r}")
    return float(value)


__all__ = [
    "MONTH_DAYS",
    "BgNbd",
    "BgNbdDict",
    "ClvDict",
    "CustomerLifetimeValue",
    "GammaGamma",
    "GammaGammaDict",
    "clv_decline_rate",
    "fit_clv",
    "rfm_summary",
    "score_clv",
]
