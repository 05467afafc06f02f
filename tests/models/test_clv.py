"""CLV: BG/NBD and Gamma-Gamma against published values and simulated data, RFM from DuckDB."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from crew.errors import InsufficientDataError, ModelNotTrainedError
from crew.models.clv import (
    MONTH_DAYS,
    BgNbd,
    CustomerLifetimeValue,
    GammaGamma,
    clv_decline_rate,
    fit_clv,
    rfm_summary,
    score_clv,
)

# Fader, Hardie & Lee (2005), CDNOW sample: BG/NBD MLEs and Gamma-Gamma MLEs.
PAPER_BG_NBD = (0.243, 4.414, 0.793, 2.426)
PAPER_GAMMA_GAMMA = (6.25, 3.74, 15.44)
TRUE_BG_NBD = (0.24, 4.4, 0.79, 2.43)
N_CUSTOMERS = 20_000
HOLDOUT_WEEKS = 39.0
SEED = 20050101
AS_OF = datetime(2024, 4, 1, tzinfo=UTC)


def simulate_bg_nbd(
    n: int, params: tuple[float, float, float, float], holdout: float, seed: int
) -> pd.DataFrame:
    """Customers from the BG/NBD story: x, t_x, T in weeks and purchases in (T, T + holdout].

    λ ~ Gamma(r, scale 1/α), p ~ Beta(a, b); purchases form a Poisson(λ) process after the
    first purchase at 0; right after each repeat purchase the customer leaves with chance
    p, so the customer's last purchase is the J-th with J ~ Geometric(p). Like CDNOW, first
    purchases are spread over 12 weeks and the calibration period ends at week 39.
    """
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    last = rng.geometric(rng.beta(a, b, n))
    big_t = rng.uniform(27.0, 39.0, n)
    end = big_t + holdout
    arrivals = rng.poisson(lam * end)
    owner = np.repeat(np.arange(n), arrivals)
    times = rng.uniform(0.0, 1.0, owner.size) * end[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    rank = np.arange(owner.size) - (np.cumsum(arrivals) - arrivals)[owner]
    made = rank < last[owner]
    owner, times = owner[made], times[made]
    in_calibration = times <= big_t[owner]
    t_x = np.zeros(n)
    np.maximum.at(t_x, owner[in_calibration], times[in_calibration])
    return pd.DataFrame(
        {
            "frequency": np.bincount(owner[in_calibration], minlength=n),
            "recency": t_x,
            "T": big_t,
            "holdout": np.bincount(owner[~in_calibration], minlength=n),
        }
    )


def simulate_mean_spend(
    frequency: np.ndarray, params: tuple[float, float, float], seed: int
) -> np.ndarray:
    """Mean spend over `frequency` purchases: each ~ Gamma(p, rate ν), ν ~ Gamma(q, rate v)."""
    p, q, v = params
    rng = np.random.default_rng(seed)
    nu = rng.gamma(q, 1.0 / v, frequency.size)
    x = np.maximum(frequency, 1)
    mean = rng.gamma(p * x, 1.0 / nu) / x  # a sum of x Gamma(p, ν) draws is Gamma(p x, ν)
    return np.where(frequency > 0, mean, 0.0)


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    data = simulate_bg_nbd(N_CUSTOMERS, TRUE_BG_NBD, HOLDOUT_WEEKS, SEED)
    data["monetary_value"] = simulate_mean_spend(
        data["frequency"].to_numpy(), PAPER_GAMMA_GAMMA, SEED
    )
    return data


@pytest.fixture(scope="module")
def model(customers: pd.DataFrame) -> CustomerLifetimeValue:
    return CustomerLifetimeValue(unit_days=7.0).fit(customers)


def hand_log_likelihood(
    r: float, alpha: float, a: float, b: float, x: int, t_x: float, big_t: float
) -> float:
    """Paper eq. 6, term by term in plain floats (no log-space tricks)."""

    def beta(p: float, q: float) -> float:
        return math.gamma(p) * math.gamma(q) / math.gamma(p + q)

    common = math.gamma(r + x) * alpha**r / math.gamma(r)
    alive = beta(a, b + x) / beta(a, b) * common / (alpha + big_t) ** (r + x)
    dropped = 0.0
    if x > 0:
        dropped = beta(a + 1, b + x - 1) / beta(a, b) * common / (alpha + t_x) ** (r + x)
    return math.log(alive + dropped)


# --- BG/NBD formulas against hand computation and the published CDNOW figures --------------


@pytest.mark.parametrize(
    ("x", "t_x", "big_t"), [(0, 0.0, 38.86), (2, 30.43, 38.86), (7, 29.43, 38.86)]
)
def test_log_likelihood_matches_hand_computation(x: int, t_x: float, big_t: float) -> None:
    model = BgNbd.from_dict(_bg_nbd_dict(*PAPER_BG_NBD))
    got = model.log_likelihood([x], [t_x], [big_t])[0]
    assert got == pytest.approx(hand_log_likelihood(*PAPER_BG_NBD, x, t_x, big_t), rel=1e-12)


def test_conditional_expectation_matches_published_cdnow_example() -> None:
    # Hardie's BG/NBD spreadsheet: a CDNOW customer with x=2, t_x=30.43, T=38.86 is
    # expected to make 1.226 purchases in the next 39 weeks.
    model = BgNbd.from_dict(_bg_nbd_dict(*PAPER_BG_NBD))
    assert model.expected_purchases(39.0, [2], [30.43], [38.86])[0] == pytest.approx(
        1.226, abs=1e-3
    )


def test_unconditional_expectation_matches_published_cdnow_curve() -> None:
    # Spreadsheet values are at the unrounded MLEs; the 3-digit published ones move them < 0.3%.
    model = BgNbd.from_dict(_bg_nbd_dict(*PAPER_BG_NBD))
    weeks = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
    published = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    assert model.expected_purchases_new(weeks) == pytest.approx(published, rel=5e-3, abs=1e-4)
    assert model.expected_purchases_new([0.0])[0] == 0.0


def test_conditional_expectation_is_stable_for_frequent_buyers() -> None:
    # The paper's form, 2F1(r+x, b+x; a+b+x-1; z), is fine for small x; the code uses Euler's
    # transformation, which must agree there and stay finite where scipy fails on the original.
    r, alpha, a, b = PAPER_BG_NBD
    model = BgNbd.from_dict(_bg_nbd_dict(*PAPER_BG_NBD))
    x = np.array([0.0, 1.0, 5.0, 20.0, 50.0])
    t_x, big_t, t = np.full(5, 30.0), np.full(5, 38.0), 52.0
    z = t / (alpha + big_t + t)
    paper = (
        (a + b + x - 1)
        / (a - 1)
        * (
            1
            - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)
            * hyp2f1(r + x, b + x, a + b + x - 1, z)
        )
        * model.probability_alive(x, t_x, big_t)
    )
    assert model.expected_purchases(t, x, t_x, big_t) == pytest.approx(paper, rel=1e-9)
    many = np.array([100.0, 300.0, 1000.0])
    busy = model.expected_purchases(t, many, np.full(3, 38.0), np.full(3, 38.0))
    upper = (r + many) / (alpha + 38.0) * t  # the purchases of a customer who never leaves
    assert np.all(np.isfinite(busy)) and np.all(np.diff(busy) > 0) and np.all(busy < upper)


def test_probability_alive_is_one_without_repeat_purchases() -> None:
    # P(alive) = 1 / (1 + [x > 0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x)): BG/NBD customers only
    # drop out right after a repeat purchase, so one who never repeated has not left.
    model = BgNbd.from_dict(_bg_nbd_dict(*PAPER_BG_NBD))
    assert model.probability_alive([0, 0], [0.0, 0.0], [1.0, 38.86]).tolist() == [1.0, 1.0]


def test_probability_alive_falls_as_last_purchase_recedes() -> None:
    model = BgNbd.from_dict(_bg_nbd_dict(*PAPER_BG_NBD))
    recency = np.array([38.0, 30.0, 20.0, 10.0, 1.0])
    alive = model.probability_alive(np.full(5, 3), recency, np.full(5, 38.86))
    assert np.all(np.diff(alive) < 0)
    assert alive.min() > 0.0 and alive.max() < 1.0


# --- parameter recovery on simulated customers ---------------------------------------------
# Tolerances are about 3 standard deviations of each estimate over 30 simulated samples of
# 20,000 customers (relative SD: r 1.7%, alpha 3.1%, a 8.5%, b 11%; a and b are strongly
# correlated, their ratio a/(a+b) has SD 2.7%). See docs/clv.md.


def test_bg_nbd_recovers_known_parameters(model: CustomerLifetimeValue) -> None:
    r, alpha, a, b = model.models[0].params
    r0, alpha0, a0, b0 = TRUE_BG_NBD
    assert r == pytest.approx(r0, rel=0.06)
    assert alpha == pytest.approx(alpha0, rel=0.10)
    assert a == pytest.approx(a0, rel=0.25)
    assert b == pytest.approx(b0, rel=0.35)
    assert a / (a + b) == pytest.approx(a0 / (a0 + b0), rel=0.08)


def test_expected_holdout_purchases_match_simulation(
    customers: pd.DataFrame, model: CustomerLifetimeValue
) -> None:
    bg_nbd = model.models[0]
    x, t_x, big_t = customers["frequency"], customers["recency"], customers["T"]
    expected = bg_nbd.expected_purchases(HOLDOUT_WEEKS, x, t_x, big_t)
    truth = BgNbd.from_dict(_bg_nbd_dict(*TRUE_BG_NBD)).expected_purchases(
        HOLDOUT_WEEKS, x, t_x, big_t
    )
    # Holdout counts are heavy-tailed: their mean has a 2.2% SD at 20,000 customers.
    assert expected.mean() == pytest.approx(customers["holdout"].mean(), rel=0.07)
    assert expected.mean() == pytest.approx(truth.mean(), rel=0.04)


def test_penalty_trades_likelihood_for_smaller_parameters(customers: pd.DataFrame) -> None:
    x, t_x, big_t = customers["frequency"], customers["recency"], customers["T"]
    plain = BgNbd().fit(x, t_x, big_t)
    penalised = BgNbd(penalizer=0.05).fit(x, t_x, big_t)
    assert penalised.log_likelihood_ is not None and plain.log_likelihood_ is not None
    assert penalised.log_likelihood_ < plain.log_likelihood_
    assert penalised.params[3] < plain.params[3]  # b, the largest, shrinks


def test_gamma_gamma_recovers_known_parameters(model: CustomerLifetimeValue) -> None:
    # About 8,000 repeat customers here; over 30 such samples the relative SD was p 6.4%,
    # q 2.9%, v 9.3% and 0.9% for the population mean spend p v / (q - 1).
    p, q, v = model.models[1].params
    p0, q0, v0 = PAPER_GAMMA_GAMMA
    assert p == pytest.approx(p0, rel=0.20)
    assert q == pytest.approx(q0, rel=0.10)
    assert v == pytest.approx(v0, rel=0.30)
    assert p * v / (q - 1) == pytest.approx(p0 * v0 / (q0 - 1), rel=0.03)


def test_expected_spend_is_weighted_mean_of_population_and_own_mean() -> None:
    p, q, v = PAPER_GAMMA_GAMMA
    model = GammaGamma.from_dict(_gamma_gamma_dict(p, q, v))
    weight = p * 2 / (p * 2 + q - 1)  # customer with 2 repeat purchases averaging 35.00
    hand = (1 - weight) * p * v / (q - 1) + weight * 35.0
    assert model.expected_spend([2], [35.0])[0] == pytest.approx(hand, rel=1e-12)
    assert model.expected_spend([0], [0.0])[0] == pytest.approx(p * v / (q - 1), rel=1e-12)


def test_fit_rejects_impossible_summaries() -> None:
    with pytest.raises(ValueError, match=r"recency must lie in \[0, T\]"):
        BgNbd().fit([1, 2], [5.0, 1.0], [4.0, 3.0])
    with pytest.raises(ValueError, match="whole number"):
        BgNbd().fit([1.5], [1.0], [3.0])
    with pytest.raises(ValueError, match="repeat purchases"):
        GammaGamma().fit([0, 0], [0.0, 0.0])


def test_unfitted_models_refuse_to_predict() -> None:
    with pytest.raises(ModelNotTrainedError, match="BgNbd model has not been fitted"):
        BgNbd().probability_alive([1], [1.0], [2.0])
    with pytest.raises(ModelNotTrainedError, match="GammaGamma"):
        GammaGamma().expected_spend([1], [10.0])
    with pytest.raises(ModelNotTrainedError, match="CustomerLifetimeValue") as info:
        CustomerLifetimeValue().to_dict()
    assert info.value.hint is not None and "fit()" in info.value.hint


# --- RFM summaries from the transactions table ----------------------------------------------


def _insert(conn: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str, float, str]]) -> None:
    new_rows = pd.DataFrame(rows, columns=["txn_id", "customer_id", "ts", "amount", "type"])
    conn.register("new_rows", new_rows)
    conn.execute(
        "INSERT INTO transactions (txn_id, customer_id, ts, amount, type) "
        "SELECT txn_id, customer_id, CAST(ts AS TIMESTAMPTZ), amount, type FROM new_rows"
    )
    conn.unregister("new_rows")


HAND_ROWS = [
    ("t1", "c1", "2024-03-01 10:00:00+00", 10.0, "purchase"),
    ("t2", "c1", "2024-03-01 18:00:00+00", 5.0, "purchase"),  # same day as t1: one purchase day
    ("t3", "c1", "2024-03-15 09:00:00+00", 20.0, "purchase"),
    ("t4", "c1", "2024-03-20 12:00:00+00", 100.0, "refund"),  # not a purchase
    ("t5", "c1", "2024-03-29 12:00:00+00", 40.0, "purchase"),
    ("t6", "c1", "2024-04-01 00:00:00+00", 999.0, "purchase"),  # at as_of: not yet seen
    ("t7", "c2", "2024-03-25 23:30:00-02", 7.0, "purchase"),  # 26 March in UTC
    ("t8", "c2", "2024-03-26 10:00:00+00", 5.0, "purchase"),
    ("t9", "c3", "2024-03-10 10:00:00+00", 50.0, "refund"),
    ("t10", "c4", "2024-04-02 10:00:00+00", 50.0, "purchase"),
    ("t11", "c5", "2024-03-10 10:00:00+00", 50.0, "deposit"),
]


def test_rfm_summary_by_hand(db: duckdb.DuckDBPyConnection) -> None:
    _insert(db, HAND_ROWS)
    summary = rfm_summary(db, AS_OF, unit_days=7.0)
    assert summary.index.tolist() == ["c1", "c2"]
    # c1: purchase days 1, 15 and 29 March; spend 15, 20, 40; as_of is 31 days after 1 March.
    assert list(summary.loc["c1"]) == pytest.approx([2, 28 / 7, 31 / 7, 30.0])
    # c2: two purchases on 26 March (UTC) are one day: no repeat purchase yet.
    assert list(summary.loc["c2"]) == pytest.approx([0, 0.0, 6 / 7, 0.0])
    assert summary["frequency"].dtype == np.int64


def test_rfm_summary_window_and_units(db: duckdb.DuckDBPyConnection) -> None:
    _insert(db, HAND_ROWS)
    windowed = rfm_summary(db, AS_OF, unit_days=1.0, window_days=20)  # from 12 March
    assert list(windowed.loc["c1"]) == pytest.approx([1, 14.0, 17.0, 40.0])
    assert rfm_summary(db, datetime(2024, 3, 1, tzinfo=UTC)).empty
    with pytest.raises(ValueError, match="timezone-aware"):
        rfm_summary(db, datetime(2024, 4, 1))


def test_rfm_summary_ignores_rows_at_or_after_as_of(db: duckdb.DuckDBPyConnection) -> None:
    _insert(db, HAND_ROWS)
    before = rfm_summary(db, AS_OF)
    _insert(
        db,
        [
            ("f1", "c1", "2024-04-01 00:00:00+00", 1.0, "purchase"),
            ("f2", "c2", "2024-05-01 00:00:00+00", 1.0, "purchase"),
            ("f3", "c9", "2024-04-03 00:00:00+00", 1.0, "purchase"),
        ],
    )
    pd.testing.assert_frame_equal(rfm_summary(db, AS_OF), before)


# --- CLV -----------------------------------------------------------------------------------


def test_clv_is_zero_over_a_zero_horizon(
    customers: pd.DataFrame, model: CustomerLifetimeValue
) -> None:
    assert (model.clv(customers.head(50), horizon_days=0.0) == 0.0).all()


def test_clv_without_discount_is_expected_purchases_times_spend(
    customers: pd.DataFrame, model: CustomerLifetimeValue
) -> None:
    some = customers.head(200)
    bg_nbd, gamma_gamma = model.models
    purchases = bg_nbd.expected_purchases(365 / 7, some["frequency"], some["recency"], some["T"])
    spend = gamma_gamma.expected_spend(some["frequency"], some["monetary_value"])
    got = model.clv(some, horizon_days=365.0, discount_rate_annual=0.0)
    assert got.to_numpy() == pytest.approx(purchases * spend, rel=1e-9)


def test_discounting_lowers_clv_and_follows_monthly_formula(
    customers: pd.DataFrame, model: CustomerLifetimeValue
) -> None:
    some = customers.head(200)
    plain = model.clv(some, 365.0, 0.0).to_numpy()
    monthly = model.clv(some, 365.0, 0.1).to_numpy()
    at_end = model.clv(some, 365.0, 0.1, step_days=365.0).to_numpy()  # all discounted a year
    assert np.all(monthly < plain) and np.all(at_end < monthly)
    assert at_end == pytest.approx(plain / 1.1 ** (365 / 365.25), rel=1e-9)
    # Hand sum for one customer: 12 monthly steps, the last ending at day 365.
    one = some.iloc[[0]]
    bg_nbd, gamma_gamma = model.models
    ends = [min(k * MONTH_DAYS, 365.0) for k in range(1, 13)]
    upto = [0.0] + [
        float(bg_nbd.expected_purchases(e / 7, one["frequency"], one["recency"], one["T"])[0])
        for e in ends
    ]
    spend = float(gamma_gamma.expected_spend(one["frequency"], one["monetary_value"])[0])
    hand = sum((upto[k + 1] - upto[k]) * spend * 1.1 ** (-e / 365.25) for k, e in enumerate(ends))
    assert monthly[0] == pytest.approx(hand, rel=1e-12)


def test_clv_decline_rate_uses_the_zero_baseline_rule() -> None:
    assert clv_decline_rate(75.0, 100.0) == pytest.approx(-0.25)
    assert clv_decline_rate(120.0, 100.0) == pytest.approx(0.2)
    assert clv_decline_rate(0.0, 100.0) == pytest.approx(-1.0)
    assert clv_decline_rate(0.0, 0.0) == 0.0
    assert math.isnan(clv_decline_rate(5.0, 0.0))
    rates = clv_decline_rate(np.array([50.0, 0.0, 3.0, np.nan]), np.array([100.0, 0.0, 0.0, 5.0]))
    assert rates[:2].tolist() == [-0.5, 0.0] and np.isnan(rates[2:]).all()


def test_round_trip_through_json_keeps_predictions(
    customers: pd.DataFrame, model: CustomerLifetimeValue
) -> None:
    stored = json.loads(json.dumps(model.to_dict()))
    loaded = CustomerLifetimeValue.from_dict(stored)
    assert loaded.to_dict() == model.to_dict()
    some = customers.head(100)
    pd.testing.assert_series_equal(loaded.clv(some), model.clv(some))
    broken = {**stored, "bg_nbd": {**stored["bg_nbd"], "alpha": -1.0}}
    with pytest.raises(ValueError, match="'alpha' must be positive"):
        CustomerLifetimeValue.from_dict(broken)
    with pytest.raises(ValueError, match="expected a 'gamma_gamma' model"):
        GammaGamma.from_dict(stored["bg_nbd"])


# --- from the store: fit_clv and score_clv -------------------------------------------------


def _simulated_purchases(n: int, seed: int) -> list[tuple[str, str, str, float, str]]:
    """Purchases of `n` customers from the BG/NBD story, the calibration ending at AS_OF."""
    data = simulate_bg_nbd(n, (0.8, 4.0, 0.8, 2.5), 0.0, seed)
    rng = np.random.default_rng(seed)
    rows = []
    for i, (x, t_x, big_t) in enumerate(data[["frequency", "recency", "T"]].itertuples(False)):
        first = AS_OF - timedelta(weeks=float(big_t))
        weeks = [0.0, *sorted(rng.uniform(0.0, t_x, max(x - 1, 0))), *([t_x] if x else [])]
        for j, week in enumerate(weeks):
            ts = first + timedelta(weeks=week)
            rows.append(
                (f"t{i}_{j}", f"c{i:04d}", ts.isoformat(), float(rng.gamma(6, 5)), "purchase")
            )
    return rows


def test_fit_and_score_from_the_store(db: duckdb.DuckDBPyConnection) -> None:
    _insert(db, _simulated_purchases(400, seed=7))
    _insert(db, [("late", "zz", "2024-05-01 00:00:00+00", 10.0, "purchase")])
    fitted = fit_clv(db, AS_OF, unit_days=7.0)
    scores = score_clv(fitted, db, AS_OF, horizon_days=365, discount_rate=0.1)
    assert list(scores.columns) == [
        "customer_id",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
    ]
    assert scores["customer_id"].is_monotonic_increasing and "zz" not in set(scores["customer_id"])
    assert scores["p_alive"].between(0.0, 1.0).all()
    assert (scores["expected_spend"] > 0).all() and (scores["clv"] >= 0).all()
    undiscounted = scores["expected_purchases"] * scores["expected_spend"]
    assert (scores["clv"] < undiscounted).all()


def test_fit_clv_without_repeat_purchases_is_refused(db: duckdb.DuckDBPyConnection) -> None:
    _insert(db, [("t1", "c1", "2024-03-01 10:00:00+00", 10.0, "purchase")])
    with pytest.raises(InsufficientDataError, match="No customer has a repeat purchase") as info:
        fit_clv(db, AS_OF)
    assert info.value.hint is not None


def _bg_nbd_dict(r: float, alpha: float, a: float, b: float) -> dict[str, object]:
    return {"model": "bg_nbd", "r": r, "alpha": alpha, "a": a, "b": b, "penalizer": 0.0,
            "log_likelihood": 0.0, "n_customers": 0}  # fmt: skip


def _gamma_gamma_dict(p: float, q: float, v: float) -> dict[str, object]:
    return {"model": "gamma_gamma", "p": p, "q": q, "v": v, "penalizer": 0.0,
            "log_likelihood": 0.0, "n_customers": 0}  # fmt: skip
