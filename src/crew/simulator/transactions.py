"""Money movements: seasonal Poisson streams, refunds, monthly bills and fraud bursts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from crew.simulator.arrivals import (
    RowBuffer,
    arrival_days,
    cumulative,
    night_times,
    spread,
    times_of_day,
)
from crew.simulator.episodes import End, Kind, Plan, basket_factor, rate_factor
from crew.simulator.population import Population
from crew.simulator.profiles import IndustryProfile
from crew.types import Industry, TxnType

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

TXN_TYPES = tuple(t.value for t in TxnType)
TXN_STATUSES = ("completed", "failed", "reversed")
_T = {t: i for i, t in enumerate(TxnType)}


@dataclass(frozen=True)
class TxnRows:
    """Transactions of one chunk as columns of codes, plus per-customer money figures."""

    cols: dict[str, npt.NDArray[Any]]
    channels: tuple[str, ...]
    categories: tuple[str, ...]
    fraud_value: FloatArray
    annual_value: FloatArray


def vocabularies(profile: IndustryProfile) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Channel and category names used by an industry's transactions, in code order."""
    channels = dict.fromkeys(ch for s in profile.streams for ch in s.channels)
    channels["auto_debit"] = None
    categories = dict.fromkeys(c.name for s in profile.streams for c in s.categories)
    if profile.monthly_bill is not None:
        categories[profile.monthly_bill.name] = None
    return tuple(channels), tuple(categories)


def _buffer() -> RowBuffer:
    return RowBuffer(
        {
            "c": (np.int64, 0),
            "t": (np.float64, 0.0),
            "amount": (np.float64, 0.0),
            "type": (np.int8, 0),
            "channel": (np.int16, 0),
            "category": (np.int16, 0),
            "status": (np.int8, 0),
            "quantity": (np.float64, np.nan),
        }
    )


def draw_transactions(
    rng: np.random.Generator,
    pop: Population,
    plan: Plan,
    profile: IndustryProfile,
    season: FloatArray,
    start: np.datetime64,
) -> TxnRows:
    """All money movements of one chunk of customers."""
    cum = cumulative(season)
    channels, categories = vocabularies(profile)
    ch_code = {name: i for i, name in enumerate(channels)}
    cat_code = {name: i for i, name in enumerate(categories)}
    buf = _buffer()
    annual = np.zeros(len(pop))
    for stream in profile.streams:
        who, day = arrival_days(rng, stream.rate_per_day * pop.engagement, plan.a, plan.b, cum)
        t = times_of_day(rng, day, profile.hour_weights)
        keep = rng.random(len(t)) < rate_factor(plan, who, t)
        who, t = who[keep], t[keep]
        n = len(who)
        cat_p = np.array([c.share for c in stream.categories])
        pick = rng.choice(len(cat_p), n, p=cat_p / cat_p.sum())
        cat_log = np.array([c.log_amount for c in stream.categories])
        log_amount = cat_log[pick] + pop.spend_shift[who] + stream.sigma * rng.standard_normal(n)
        basket = basket_factor(plan, who, t) if stream.type == TxnType.PURCHASE else 1.0
        amount = np.asarray(np.round(np.exp(log_amount) * basket, 2), dtype=np.float64)
        ch_p = np.array(stream.channel_p)
        channel = np.array([ch_code[c] for c in stream.channels])[
            rng.choice(len(ch_p), n, p=ch_p / ch_p.sum())
        ]
        category = np.array([cat_code[c.name] for c in stream.categories])[pick]
        status = rng.choice(3, n, p=[0.972, 0.023, 0.005])
        purchase = stream.type == TxnType.PURCHASE
        quantity = rng.geometric(0.6, n).astype(np.float64) if purchase else np.nan
        buf.add(
            c=who, t=t, amount=amount, type=_T[stream.type], channel=channel,
            category=category, status=status, quantity=quantity,
        )  # fmt: skip
        mean_amount = (cat_p / cat_p.sum() * np.exp(cat_log + stream.sigma**2 / 2)).sum()
        margin = 1.0 if purchase else 0.01
        annual += 365 * stream.rate_per_day * pop.engagement * mean_amount * margin
        if stream.refund_share > 0:
            _add_refunds(rng, buf, pop, stream.refund_share, who, t, amount, channel, category)
    annual *= np.exp(pop.spend_shift)
    if profile.monthly_bill is not None:
        bill = cat_code[profile.monthly_bill.name]
        annual += _add_bills(rng, buf, pop, plan, profile, bill, ch_code["auto_debit"], start)
    fraud_value = _add_fraud(rng, buf, pop, plan, profile, ch_code, cat_code)
    if profile.reviews and len(plan.fake_c):
        n = len(plan.fake_c)
        buf.add(
            c=plan.fake_c, t=plan.fake_t - rng.uniform(0.02, 0.8, n),
            amount=np.round(np.exp(rng.normal(3.0, 0.5, n)), 2), type=_T[TxnType.PURCHASE],
            channel=ch_code["app"], category=0, quantity=1.0,
        )  # fmt: skip
    return TxnRows(buf.build(), channels, categories, fraud_value, np.round(annual, 2))


def _add_refunds(
    rng: np.random.Generator,
    buf: RowBuffer,
    pop: Population,
    share: float,
    who: IntArray,
    t: FloatArray,
    amount: FloatArray,
    channel: IntArray,
    category: IntArray,
) -> None:
    # Unhappy customers return more.
    p = share * np.where(pop.satisfaction[who] < -1.0, 1.8, 1.0)
    r = rng.random(len(who)) < p
    n = int(r.sum())
    partial = np.where(rng.random(n) < 0.7, 1.0, rng.uniform(0.2, 1.0, n))
    buf.add(
        c=who[r], t=t[r] + rng.uniform(2.0, 20.0, n), amount=np.round(amount[r] * partial, 2),
        type=_T[TxnType.REFUND], channel=channel[r], category=category[r],
    )  # fmt: skip


def _month_starts(plan: Plan, start: np.datetime64) -> IntArray:
    months = np.arange(0, plan.days // 28 + 2)
    first = start.astype("datetime64[M]") + months
    offsets = (first.astype("datetime64[D]") - start).astype(np.int64)
    return np.asarray(offsets[(offsets >= 0) & (offsets < plan.days)], dtype=np.int64)


def _add_bills(
    rng: np.random.Generator,
    buf: RowBuffer,
    pop: Population,
    plan: Plan,
    profile: IndustryProfile,
    category: int,
    channel: int,
    start: np.datetime64,
) -> FloatArray:
    assert profile.monthly_bill is not None
    fee = np.exp(profile.monthly_bill.log_amount + 0.6 * pop.spend_shift)
    starts = _month_starts(plan, start)
    n, m = len(pop), len(starts)
    c = np.repeat(np.arange(n, dtype=np.int64), m)
    t = np.tile(starts.astype(np.float64), n) + rng.uniform(0.1, 0.25, n * m)
    amount = np.round(fee[c] * (1 + rng.exponential(0.08, n * m)), 2)
    buf.add(
        c=c, t=t, amount=amount, type=_T[TxnType.PURCHASE], channel=channel,
        category=category, quantity=1.0,
    )  # fmt: skip
    return np.asarray(12 * fee * 1.08, dtype=np.float64)


def _add_fraud(
    rng: np.random.Generator,
    buf: RowBuffer,
    pop: Population,
    plan: Plan,
    profile: IndustryProfile,
    ch_code: dict[str, int],
    cat_code: dict[str, int],
) -> FloatArray:
    """Outsized night-time amounts shortly after the account takeover (the onset)."""
    fc = np.flatnonzero(plan.kind == Kind.FRAUD)
    value = np.zeros(len(pop))
    if len(fc) == 0:
        return value
    main = profile.streams[-1] if profile.industry == Industry.FINANCE else profile.streams[0]
    top = max(main.categories, key=lambda c: c.log_amount)
    if profile.industry == Industry.TELECOM:
        main = profile.streams[1]
        top = max(main.categories, key=lambda c: c.log_amount)
    counts = rng.integers(3, 10, len(fc))
    k, t = spread(rng, counts, plan.onset[fc] + 0.01, plan.phase_t[fc] - plan.onset[fc])
    c = fc[k]
    night = night_times(rng, t)
    night = np.where(night < plan.onset[c], night + 1.0, night)
    t = np.where(rng.random(len(t)) < 0.7, night, t)
    typical = np.exp(np.mean([x.log_amount for x in main.categories]) + pop.spend_shift[c])
    amount = np.round(typical * rng.uniform(6.0, 25.0, len(c)), 2)
    if profile.industry == Industry.FINANCE:
        # Funds in and straight out again within a day (rapid in-and-out).
        out_t = t + rng.uniform(0.5, 20.0, len(c)) / 24
        out_type = np.where(rng.random(len(c)) < 0.5, _T[TxnType.WITHDRAWAL], _T[TxnType.TRANSFER])
        out_amount = np.round(amount * rng.uniform(0.9, 1.0, len(c)), 2)
        buf.add(c=c, t=t, amount=amount, type=_T[TxnType.DEPOSIT], channel=ch_code["app"],
                category=cat_code["savings"])  # fmt: skip
        buf.add(c=c, t=out_t, amount=out_amount, type=out_type, channel=ch_code["app"],
                category=cat_code["savings"])  # fmt: skip
        np.add.at(value, c, out_amount)
        return value
    buf.add(
        c=c, t=t, amount=amount, type=_T[TxnType.PURCHASE], channel=ch_code["app"],
        category=cat_code[top.name], quantity=1.0,
    )  # fmt: skip
    np.add.at(value, c, amount)
    if profile.industry in (Industry.ECOMMERCE, Industry.GENERIC):
        confirmed = plan.end[c] == End.FRAUD_CONFIRMED
        back_t = plan.end_t[c] + rng.uniform(0.0, 2.0, len(c))
        buf.add(
            c=c[confirmed], t=back_t[confirmed], amount=amount[confirmed],
            type=_T[TxnType.CHARGEBACK], channel=ch_code["app"],
            category=cat_code[top.name],
        )  # fmt: skip
    return value
