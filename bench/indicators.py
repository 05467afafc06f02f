"""Indicator benchmark: every built-in indicator for every customer, against two baselines.

Three measurements on the same workspace at the same `as_of`, each in its own child
process so that its peak resident memory (ru_maxrss) is its own:

- crew: `compute_indicators` end to end (compile, DuckDB query, store the wide table), and
  the compiled query alone (`run_duckdb`).
- hand-written SQL: one DuckDB query an analyst would write for the same numbers (one
  GROUP BY per table, joined to the customers, formulas on top).
- pandas: read the tables into pandas, filter windows, groupby, merge. Run on a smaller
  workspace and extrapolated linearly to the full size.

The hand-written and pandas results are checked against crew's, column by column.

The data comes from a vectorised generator that writes the five canonical tables straight
into a fresh workspace, month by month in time order, cached under bench/.data/ by size.

Run on its own: `python bench/indicators.py` (sizes from the same environment variables as
`make bench`); `python bench/indicators.py measure KIND WORKSPACE OUT` is the child entry.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crew.indicators._compile import compile_indicators
from crew.indicators.catalog import load_catalog
from crew.indicators.compute import compute_indicators
from crew.indicators.engines import run_duckdb
from crew.store import init_workspace, open_workspace

CACHE = Path(__file__).parent / ".data"
GENERATOR_VERSION = 1
START = datetime(2024, 1, 1, tzinfo=UTC)
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_DAYS = (AS_OF - START).days  # 731: the data covers the two years before as_of
SLICES = 25  # about a month each; rows are written slice by slice, in time order
GIB = 1024**3
# Columns checked within 1e-9 between crew and each baseline (every column is compared and
# reported; these must match or the benchmark stops).
KEY_COLUMNS = ("txn_count_30d", "spend_30d", "complaint_count_30d", "recency_days")

Int = np.ndarray
Float = np.ndarray


@dataclass(frozen=True)
class Size:
    """Rows of a generated workspace: customers and rows per customer of each fact table."""

    customers: int
    txns_per_customer: float
    interactions_per_customer: float
    events_per_customer: float

    @property
    def key(self) -> str:
        """Cache folder name."""
        return (
            f"ind_v{GENERATOR_VERSION}_{self.customers}c_{self.txns_per_customer:g}t_"
            f"{self.interactions_per_customer:g}i_{self.events_per_customer:g}e"
        )


# ── generator ─────────────────────────────────────────────────────────────────────────────

SEGMENTS = ["mass", "affluent", "young_urban", "family", "business"]
TIERS = ["key", "important", "regular"]
REGIONS = ["east", "north", "south", "central", "northeast", "northwest", "southwest", "west"]
CATEGORIES = [
    "electronics", "apparel", "grocery", "books", "home", "beauty",
    "sports", "toys", "health", "auto", "travel", "digital",
]  # fmt: skip
CHANNELS = ["app", "web", "store", "branch", "call_center"]
TXN_TYPES = ["purchase", "refund", "deposit", "withdrawal", "transfer", "chargeback"]
TXN_P = [0.86, 0.05, 0.045, 0.03, 0.01, 0.005]
TXN_STATUS = ["completed", "failed", "reversed"]
KINDS = ["survey", "chat", "review", "ticket", "call", "complaint", "dispute"]
KINDS += ["regulator_complaint"]
KIND_P = np.array([0.26, 0.22, 0.21, 0.16, 0.08, 0.058, 0.01, 0.002])
ISTATUS = ["resolved", "open", "escalated"]
TEXTS = [
    "物流太慢，一周还没到。", "退款迟迟不到账。", "客服态度差，问题没解决。",
    "Charged twice for one order.", "App keeps logging me out.", "咨询账户设置的问题。",
    "Wrong item delivered.", "想了解会员权益。",
]  # fmt: skip
EVENT_KINDS = ["login", "data_access", "login_failed", "device_change"]
EVENT_KINDS += ["privacy_request", "consent_withdrawn", "data_exposure"]
EVENT_P = np.array([0.855, 0.11, 0.022, 0.0125, 0.0002, 0.0002, 0.0001])
STAFF = 300
ACTORS = ["customer", "system", *[f"S{i:04d}" for i in range(STAFF)]]
ATTRS = {
    "login": ['{"channel":"app"}', '{"channel":"web"}'],
    "data_access": ['{"purpose":"service"}', '{"purpose":"marketing"}', '{"purpose":"audit"}'],
    "login_failed": ['{"reason":"wrong_password"}', '{"reason":"wrong_otp"}'],
    "device_change": ['{"device":"new_phone"}', '{"device":"new_browser"}'],
    "privacy_request": ['{"request":"access"}', '{"request":"deletion"}'],
    "consent_withdrawn": ['{"scope":"marketing"}', '{"scope":"data_sharing"}'],
    "data_exposure": ['{"fields":"name,phone","source":"internal_audit"}'],
}
ATTR_VOCAB = [a for kind in EVENT_KINDS for a in ATTRS[kind]]
ATTR_FIRST = np.cumsum([0] + [len(ATTRS[k]) for k in EVENT_KINDS])[:-1]
ATTR_COUNT = np.array([len(ATTRS[k]) for k in EVENT_KINDS])
HOUR_P = np.array(
    [1, 0.6, 0.4, 0.3, 0.3, 0.5, 2, 4, 6, 7, 7, 8, 8, 8, 7, 7, 7, 8, 9, 10, 10, 9, 6, 3]
)
HOUR_P = HOUR_P / HOUR_P.sum()
US_DAY = 86_400_000_000
US_HOUR = 3_600_000_000


def _dict(indices: Int, vocab: list[str], mask: np.ndarray | None = None) -> pa.Array:
    """A dictionary-encoded string column (cheap to build and to insert)."""
    idx = pa.array(indices.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(idx, pa.array(vocab, pa.string()))


def _ids(prefix: str, first: int, n: int, width: int) -> pa.Array:
    digits = pa.array(np.arange(first, first + n, dtype=np.int64)).cast(pa.string())
    padded = pc.utf8_lpad(digits, width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def _ts(micros: Int) -> pa.Array:
    return pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def _opt_int(values: Int, mask: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.int32), mask=mask)


def _opt_float(values: Float, mask: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.float64), mask=mask)


@dataclass
class _World:
    """Per-customer traits that drive every table."""

    n: int
    ids: pa.Array
    activity: Float  # mean 1
    signup_day: Float  # days from START; NaN when unknown (active throughout)
    churn_day: Float  # inf when the customer never churns
    fraud_day: Float  # inf when never defrauded
    amount_mu: Float
    category_pref: Int
    nps_mu: Float
    csat_mu: Float
    staff_team: Int


def _world(rng: np.random.Generator, n: int) -> _World:
    width = max(7, len(str(n)))
    signup = np.where(rng.random(n) < 0.85, rng.uniform(-3650, 0, n), rng.uniform(0, 700, n))
    signup[rng.random(n) < 0.005] = np.nan
    churn = np.where(rng.random(n) < 0.12, rng.uniform(250, SPAN_DAYS + 60, n), np.inf)
    fraud = np.where(rng.random(n) < 0.01, rng.uniform(300, SPAN_DAYS, n), np.inf)
    return _World(
        n=n,
        ids=_ids("C", 1, n, width),
        activity=rng.gamma(2.0, 0.5, n),
        signup_day=signup,
        churn_day=churn,
        fraud_day=fraud,
        amount_mu=rng.normal(4.2, 0.6, n),
        category_pref=rng.integers(0, len(CATEGORIES), n),
        nps_mu=rng.uniform(3.0, 10.0, n),
        csat_mu=rng.uniform(1.5, 5.0, n),
        staff_team=rng.integers(0, STAFF // 10, n),
    )


def _rate_weights(world: _World, mid: float, table: str) -> Float:
    """Relative intensity of each customer in the slice centred on day `mid`."""
    live = np.isnan(world.signup_day) | (world.signup_day <= mid)
    churned = mid > world.churn_day
    if table == "transactions":
        weight = world.activity * np.where(churned, 0.05, 1.0)
    elif table == "interactions":
        weight = np.sqrt(world.activity) * np.where(churned, 0.2, 1.0)
    else:
        weight = world.activity * np.where(churned, 0.1, 1.0)
    return np.where(live, weight, 0.0)


def _slices() -> list[tuple[float, float]]:
    edges = np.linspace(0, SPAN_DAYS, SLICES + 1)
    return [(float(a), float(b)) for a, b in itertools.pairwise(edges)]


def _times(rng: np.random.Generator, lo: float, hi: float, n: int, night: np.ndarray) -> Int:
    """Microseconds since START: a day in [lo, hi), an hour of the daily cycle (uniform for
    the rows flagged `night`-prone), a moment in the hour."""
    start = int(START.timestamp() * 1_000_000)
    day = rng.integers(math.ceil(lo), math.ceil(hi), n)
    hour = np.where(night, rng.integers(0, 24, n), rng.choice(24, n, p=HOUR_P))
    micros: Int = start + day * US_DAY + hour * US_HOUR + rng.integers(0, US_HOUR, n)
    return micros


def _counts(rng: np.random.Generator, weights: Float, per_customer: float, total: float) -> Int:
    return rng.poisson(weights * (per_customer * len(weights) / total))


def _transactions(
    rng: np.random.Generator, w: _World, lo: float, hi: float, counts: Int
) -> dict[str, np.ndarray]:
    c = np.repeat(np.arange(w.n), counts)
    n = len(c)
    fraud = ((lo + hi) / 2) > w.fraud_day[c]
    kind = rng.choice(len(TXN_TYPES), n, p=TXN_P)
    ts = _times(rng, lo, hi, n, fraud & (rng.random(n) < 0.5))
    # Rapid in-and-out: some deposits are followed by a withdrawal or transfer within 36 h.
    deposit = np.flatnonzero(kind == 2)
    follow = deposit[rng.random(len(deposit)) < np.where(fraud[deposit], 0.9, 0.2)]
    c = np.concatenate([c, c[follow]])
    kind = np.concatenate([kind, np.where(rng.random(len(follow)) < 0.8, 3, 4)])
    ts = np.concatenate([ts, ts[follow] + rng.integers(60_000_000, 36 * US_HOUR, len(follow))])
    fraud = np.concatenate([fraud, fraud[follow]])
    order = np.argsort(ts, kind="stable")
    return {"c": c[order], "kind": kind[order], "ts": ts[order], "fraud": fraud[order]}


def _txn_table(
    rng: np.random.Generator, w: _World, rows: dict[str, np.ndarray], first: int
) -> pa.Table:
    c, kind, ts, fraud = rows["c"], rows["kind"], rows["ts"], rows["fraud"]
    n = len(c)
    money = (kind >= 2) & (kind <= 4)
    amount = rng.lognormal(w.amount_mu[c], 0.9) * np.where(money, 6.0, 1.0)
    amount *= np.where(fraud & (rng.random(n) < 0.3), 8.0, 1.0)
    amount = np.round(amount, 2)
    shift = rng.choice([0, 0, 0, 0, 1, 2, 3, 5, 8], n)
    category = (w.category_pref[c] + shift) % len(CATEGORIES)
    return pa.table(
        {
            "txn_id": _ids("T", first, n, 10),
            "customer_id": w.ids.take(pa.array(c)),
            "ts": _ts(ts),
            "amount": amount,
            "type": _dict(kind, TXN_TYPES),
            "channel": _dict(rng.choice(5, n, p=[0.55, 0.25, 0.1, 0.06, 0.04]), CHANNELS),
            "category": _dict(category, CATEGORIES, mask=money),
            "status": _dict(rng.choice(3, n, p=[0.97, 0.02, 0.01]), TXN_STATUS),
            "quantity": _opt_float(rng.integers(1, 6, n).astype(float), kind != 0),
        }
    )


def _interaction_table(
    rng: np.random.Generator, w: _World, lo: float, hi: float, counts: Int, first: int
) -> pa.Table:
    c = np.repeat(np.arange(w.n), counts)
    n = len(c)
    ts = np.sort(_times(rng, lo, hi, n, np.zeros(n, bool)))
    c = c[rng.permutation(n)]  # times sorted, customers shuffled: same law, time order
    mid = (lo + hi) / 2
    unhappy = (mid > w.churn_day[c] - 90) & (mid <= w.churn_day[c])
    kind = rng.choice(len(KINDS), n, p=KIND_P / KIND_P.sum())
    kind = np.where(unhappy & (rng.random(n) < 0.3), 5, kind)
    handled = np.isin(kind, [1, 3, 4, 5, 6, 7])  # chat, ticket, call, complaint, dispute, reg.
    severe = np.isin(kind, [3, 5, 6, 7])
    resolved = handled & (rng.random(n) < np.where(kind == 7, 0.5, 0.9))
    hours = rng.exponential(np.where(kind == 5, 72.0, 30.0), n)
    resolved_ts = ts + (hours * US_HOUR).astype(np.int64)
    status = np.where(resolved, 0, np.where(rng.random(n) < 0.3, 2, 1))
    survey, review = kind == 0, kind == 2
    nps_mu = w.nps_mu[c] - np.where(unhappy, 3.0, 0.0)
    nps = np.clip(np.round(nps_mu + rng.normal(0, 1.5, n)), 0, 10)
    csat = np.clip(np.round(w.csat_mu[c] - unhappy + rng.normal(0, 0.8, n)), 1, 5)
    has_csat = (survey & (rng.random(n) < 0.6)) | (handled & (rng.random(n) < 0.3))
    return pa.table(
        {
            "interaction_id": _ids("I", first, n, 10),
            "customer_id": w.ids.take(pa.array(c)),
            "ts": _ts(ts),
            "kind": _dict(kind, KINDS),
            "severity": _opt_int(rng.choice(5, n, p=[0.3, 0.3, 0.2, 0.12, 0.08]) + 1, ~severe),
            "status": _dict(status, ISTATUS, mask=~handled),
            "resolved_ts": pa.array(resolved_ts, pa.int64(), mask=~resolved).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "nps": _opt_int(nps, ~(survey & (rng.random(n) < 0.7))),
            "csat": _opt_int(csat, ~has_csat),
            "rating": _opt_float(np.clip(np.round(rng.normal(4.0, 1.1, n)), 1, 5), ~review),
            "text": _dict(rng.integers(0, len(TEXTS), n), TEXTS, mask=~handled),
        }
    )


def _event_table(
    rng: np.random.Generator, w: _World, lo: float, hi: float, counts: Int, first: int
) -> pa.Table:
    mid = (lo + hi) / 2
    c = np.repeat(np.arange(w.n), counts)
    kind = rng.choice(len(EVENT_KINDS), len(c), p=EVENT_P / EVENT_P.sum())
    # Bursts: staff browsing a record, failed logins and device changes around fraud.
    snooped = np.flatnonzero(rng.random(w.n) < 0.003)
    snoop_n = rng.poisson(6, len(snooped))
    defrauded = np.flatnonzero((mid > w.fraud_day) & (mid < w.fraud_day + 60))
    c = np.concatenate(
        [c, np.repeat(snooped, snoop_n), np.repeat(defrauded, 8), np.repeat(defrauded, 2)]
    )
    kind = np.concatenate(
        [
            kind,
            np.full(snoop_n.sum(), 1),
            np.full(8 * len(defrauded), 2),
            np.full(2 * len(defrauded), 3),
        ]
    )
    n = len(c)
    ts = _times(rng, lo, hi, n, np.zeros(n, bool))
    order = np.argsort(ts, kind="stable")
    c, kind, ts = c[order], kind[order], ts[order]
    staff = 2 + w.staff_team[c] * 10 + rng.integers(0, 10, n)
    actor = np.where(kind == 1, np.where(rng.random(n) < 0.95, staff, 1), 0)
    actor = np.where(kind == 6, 1, actor)
    attr = ATTR_FIRST[kind] + rng.integers(0, 1 << 30, n) % ATTR_COUNT[kind]
    return pa.table(
        {
            "event_id": _ids("E", first, n, 11),
            "customer_id": w.ids.take(pa.array(c)),
            "ts": _ts(ts),
            "kind": _dict(kind, EVENT_KINDS),
            "actor": _dict(actor, ACTORS),
            "attributes": _dict(attr, ATTR_VOCAB),
        }
    )


def _customer_table(rng: np.random.Generator, w: _World) -> pa.Table:
    n = w.n
    signup = np.nan_to_num(w.signup_day, nan=0.0).astype(np.int64)
    start_day = (START.date() - date(1970, 1, 1)).days
    return pa.table(
        {
            "customer_id": w.ids,
            "segment": _dict(rng.choice(5, n, p=[0.45, 0.12, 0.2, 0.15, 0.08]), SEGMENTS),
            "tier": _dict(rng.choice(3, n, p=[0.05, 0.15, 0.8]), TIERS),
            "industry": _dict(np.zeros(n, np.int64), ["ecommerce"]),
            "region": _dict(rng.integers(0, len(REGIONS), n), REGIONS),
            "signup_date": pa.array(
                (start_day + signup).astype(np.int32), pa.int32(), mask=np.isnan(w.signup_day)
            ).cast(pa.date32()),
        }
    )


def _insert(conn: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    conn.register("_chunk", data)
    cols = ", ".join(data.column_names)
    conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _chunk")
    conn.unregister("_chunk")


def generate(root: Path, size: Size, seed: int = 11) -> dict[str, int]:
    """Write a fresh workspace at `root` with the five canonical tables; row counts."""
    rng = np.random.default_rng(seed)
    workspace = init_workspace(root)
    world = _world(rng, size.customers)
    per = {
        "transactions": size.txns_per_customer,
        "interactions": size.interactions_per_customer,
        "events": size.events_per_customer,
    }
    # Scale each table's intensities so the expected row count is exactly the asked one.
    totals = {t: 0.0 for t in per}
    for lo, hi in _slices():
        for t in per:
            totals[t] += float(_rate_weights(world, (lo + hi) / 2, t).sum()) * (hi - lo)
    rows = dict.fromkeys([*per, "customers", "outcomes"], 0)
    with workspace.connect() as conn:
        _insert(conn, "customers", _customer_table(rng, world))
        rows["customers"] = world.n
        for lo, hi in _slices():
            mid = (lo + hi) / 2
            counts = {
                t: _counts(rng, _rate_weights(world, mid, t) * (hi - lo), per[t], totals[t])
                for t in per
            }
            txns = _txn_table(
                rng, world, _transactions(rng, world, lo, hi, counts["transactions"]),
                rows["transactions"] + 1,
            )  # fmt: skip
            _insert(conn, "transactions", txns)
            rows["transactions"] += txns.num_rows
            del txns
            inter = _interaction_table(
                rng, world, lo, hi, counts["interactions"], rows["interactions"] + 1
            )
            _insert(conn, "interactions", inter)
            rows["interactions"] += inter.num_rows
            del inter
            events = _event_table(rng, world, lo, hi, counts["events"], rows["events"] + 1)
            _insert(conn, "events", events)
            rows["events"] += events.num_rows
            del events
        churned = np.flatnonzero(world.churn_day < SPAN_DAYS)
        start_us = int(START.timestamp() * 1_000_000)
        outcome_ts = start_us + (world.churn_day[churned] * US_DAY).astype(np.int64)
        outcomes = pa.table(
            {
                "customer_id": world.ids.take(pa.array(churned)),
                "kind": pa.array(["churn"] * len(churned), pa.string()),
                "ts": _ts(outcome_ts),
                "value": np.round(rng.lognormal(6, 1, len(churned)), 2),
            }
        )
        _insert(conn, "outcomes", outcomes)
        rows["outcomes"] = outcomes.num_rows
        conn.execute("CHECKPOINT")
    return rows


def ensure_workspace(size: Size) -> tuple[Path, dict[str, int], float | None]:
    """The cached workspace of `size` (generated when missing), its row counts and the
    generation time when it was generated by this call."""
    root = CACHE / size.key
    done = root / "generated.json"
    if done.exists():
        return root, json.loads(done.read_text())["rows"], None
    if root.exists():
        shutil.rmtree(root)  # an interrupted generation
    CACHE.mkdir(exist_ok=True)
    started = time.perf_counter()
    rows = generate(root, size)
    seconds = time.perf_counter() - started
    done.write_text(json.dumps({"rows": rows, "seconds": seconds}))
    return root, rows, seconds


# ── hand-written SQL baseline ─────────────────────────────────────────────────────────────

HAND_SQL = """
WITH tx AS (
  SELECT customer_id,
    max(CASE WHEN type = 'purchase' THEN ts END) AS last_purchase,
    count(CASE WHEN type = 'purchase' AND ts >= {at} - INTERVAL 30 DAY THEN 1 END) AS txn_30,
    count(CASE WHEN type = 'purchase' AND ts >= {at} - INTERVAL 90 DAY THEN 1 END) AS txn_90,
    count(CASE WHEN type = 'purchase' AND ts >= {at} - INTERVAL 120 DAY
               AND ts < {at} - INTERVAL 30 DAY THEN 1 END) AS txn_prior,
    sum(CASE WHEN type = 'purchase' AND ts >= {at} - INTERVAL 30 DAY THEN amount END) AS spend_30,
    sum(CASE WHEN type = 'purchase' AND ts >= {at} - INTERVAL 120 DAY
             AND ts < {at} - INTERVAL 30 DAY THEN amount END) AS spend_prior,
    avg(CASE WHEN type = 'purchase' AND ts >= {at} - INTERVAL 30 DAY THEN amount END) AS aov_30,
    avg(CASE WHEN type = 'purchase' AND ts >= {at} - INTERVAL 120 DAY
             AND ts < {at} - INTERVAL 30 DAY THEN amount END) AS aov_prior,
    count(DISTINCT CASE WHEN type = 'purchase' AND ts >= {at} - INTERVAL 180 DAY
                        THEN ceil((epoch({at}) - epoch(ts)) / 2592000) END) AS active_periods,
    count(DISTINCT CASE WHEN type = 'purchase' AND ts >= {at} - INTERVAL 90 DAY
                        THEN category END) AS cats_90,
    count(DISTINCT CASE WHEN type = 'purchase' AND ts >= {at} - INTERVAL 180 DAY
                        AND ts < {at} - INTERVAL 90 DAY THEN category END) AS cats_prior,
    count(CASE WHEN type = 'refund' AND ts >= {at} - INTERVAL 90 DAY THEN 1 END) AS refunds_90,
    count(CASE WHEN type = 'chargeback' AND ts >= {at} - INTERVAL 90 DAY THEN 1 END) AS cbs_90,
    max(CASE WHEN ts >= {at} - INTERVAL 30 DAY THEN amount END) AS max_amount_30,
    avg(CASE WHEN ts >= {at} - INTERVAL 210 DAY AND ts < {at} - INTERVAL 30 DAY
             THEN amount END) AS amount_avg_prior,
    stddev_samp(CASE WHEN ts >= {at} - INTERVAL 210 DAY AND ts < {at} - INTERVAL 30 DAY
                     THEN amount END) AS amount_std_prior,
    avg(CASE WHEN ts >= {at} - INTERVAL 30 DAY
             THEN CASE WHEN hour(ts) < 6 THEN 1.0 ELSE 0.0 END END) AS night_30,
    avg(CASE WHEN ts >= {at} - INTERVAL 210 DAY AND ts < {at} - INTERVAL 30 DAY
             THEN CASE WHEN hour(ts) < 6 THEN 1.0 ELSE 0.0 END END) AS night_prior
  FROM transactions
  WHERE ts >= {at} - INTERVAL 730 DAY AND ts < {at}
  GROUP BY customer_id
),
moves AS (  -- withdrawals and transfers within a day of the latest deposit
  SELECT customer_id,
    count(CASE WHEN type <> 'deposit' AND ts >= {at} - INTERVAL 30 DAY
               AND epoch(ts) - epoch(last_deposit) <= 86400 THEN 1 END) AS rapid_30
  FROM (
    SELECT customer_id, ts, type,
      max(CASE WHEN type = 'deposit' THEN ts END) OVER (PARTITION BY customer_id ORDER BY ts
        RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS last_deposit
    FROM transactions
    WHERE type IN ('deposit', 'withdrawal', 'transfer')
      AND ts >= {at} - INTERVAL 31 DAY AND ts < {at}
  )
  GROUP BY customer_id
),
it AS (
  SELECT customer_id,
    arg_max(nps, CASE WHEN nps IS NOT NULL THEN ts END) AS nps_latest,
    avg(nps) AS nps_avg,
    avg(CASE WHEN ts >= {at} - INTERVAL 90 DAY THEN csat END) AS csat_90,
    count(CASE WHEN ts >= {at} - INTERVAL 180 DAY THEN csat END) AS csat_n,
    max(CASE WHEN csat IS NOT NULL AND ts >= {at} - INTERVAL 180 DAY
             THEN epoch(ts) / 2592000.0 END)
      - min(CASE WHEN csat IS NOT NULL AND ts >= {at} - INTERVAL 180 DAY
                 THEN epoch(ts) / 2592000.0 END) AS csat_span,
    regr_slope(CASE WHEN ts >= {at} - INTERVAL 180 DAY THEN csat END,
               CASE WHEN ts >= {at} - INTERVAL 180 DAY THEN epoch(ts) / 2592000.0 END)
      AS csat_slope,
    count(CASE WHEN kind = 'dispute' AND ts >= {at} - INTERVAL 90 DAY THEN 1 END) AS disputes_90,
    count(CASE WHEN kind = 'complaint' AND ts >= {at} - INTERVAL 30 DAY THEN 1 END) AS compl_30,
    count(CASE WHEN kind = 'complaint' AND ts >= {at} - INTERVAL 120 DAY
               AND ts < {at} - INTERVAL 30 DAY THEN 1 END) AS compl_prior,
    count(CASE WHEN kind IN ('ticket', 'complaint', 'dispute')
               AND (resolved_ts IS NULL OR resolved_ts >= {at}) THEN 1 END) AS open_tickets,
    avg(CASE WHEN kind IN ('ticket', 'complaint', 'dispute') AND resolved_ts < {at}
             AND ts >= {at} - INTERVAL 90 DAY
             THEN (epoch(resolved_ts) - epoch(ts)) / 3600.0 END) AS resolution_hours,
    count(CASE WHEN kind IN ('ticket', 'complaint', 'dispute') AND severity >= 4
               AND ts >= {at} - INTERVAL 90 DAY THEN 1 END) AS escalations_90,
    count(CASE WHEN kind = 'regulator_complaint' THEN 1 END) AS regulator,
    count(CASE WHEN kind = 'review' AND ts >= {at} - INTERVAL 7 DAY THEN 1 END) AS reviews_7,
    count(CASE WHEN kind = 'review' AND ts >= {at} - INTERVAL 97 DAY
               AND ts < {at} - INTERVAL 7 DAY THEN 1 END) AS reviews_prior
  FROM interactions
  WHERE ts >= {at} - INTERVAL 365 DAY AND ts < {at}
  GROUP BY customer_id
),
ev AS (
  SELECT customer_id,
    count(CASE WHEN kind = 'data_access' AND actor NOT IN ('customer', 'system')
               AND ts >= {at} - INTERVAL 30 DAY THEN 1 END) AS access_30,
    count(CASE WHEN kind = 'data_access' AND actor NOT IN ('customer', 'system')
               AND ts >= {at} - INTERVAL 210 DAY AND ts < {at} - INTERVAL 30 DAY THEN 1 END)
      AS access_prior,
    count(DISTINCT CASE WHEN kind = 'data_access' AND actor NOT IN ('customer', 'system')
                        AND ts >= {at} - INTERVAL 30 DAY THEN actor END) AS accessors_30,
    count(CASE WHEN kind = 'privacy_request' THEN 1 END) AS privacy_requests,
    count(CASE WHEN kind = 'consent_withdrawn' THEN 1 END) AS consent_withdrawals,
    count(CASE WHEN kind = 'data_exposure' THEN 1 END) AS exposures,
    count(CASE WHEN kind = 'device_change' AND ts >= {at} - INTERVAL 30 DAY THEN 1 END)
      AS devices_30,
    count(CASE WHEN kind = 'login_failed' AND ts >= {at} - INTERVAL 7 DAY THEN 1 END) AS failed_7
  FROM events
  WHERE ts >= {at} - INTERVAL 365 DAY AND ts < {at}
    AND kind IN ('data_access', 'privacy_request', 'consent_withdrawn', 'data_exposure',
                 'device_change', 'login_failed')
  GROUP BY customer_id
),
b AS (
  SELECT c.customer_id, c.segment, c.signup_date,
    coalesce((epoch({at}) - epoch(last_purchase)) / 86400.0, 730) AS recency_days,
    coalesce(txn_30, 0) AS txn_30, coalesce(txn_90, 0) AS txn_90,
    coalesce(txn_prior, 0) * 30.0 / 90.0 AS txn_base,
    coalesce(txn_prior, 0) AS txn_prior,
    coalesce(spend_30, 0) AS spend_30, coalesce(spend_prior, 0) AS spend_prior,
    coalesce(spend_prior, 0) * 30.0 / 90.0 AS spend_base,
    aov_30, aov_prior, coalesce(active_periods, 0) AS active_periods,
    coalesce(cats_90, 0) AS cats_90, coalesce(cats_prior, 0) AS cats_prior,
    nps_latest, nps_avg, csat_90,
    CASE WHEN csat_n >= 3 AND csat_span >= 1.0 THEN csat_slope END AS csat_trend,
    coalesce(disputes_90, 0) AS disputes_90, coalesce(refunds_90, 0) AS refunds_90,
    coalesce(cbs_90, 0) AS cbs_90, coalesce(compl_30, 0) AS compl_30,
    coalesce(compl_prior, 0) AS compl_prior, coalesce(open_tickets, 0) AS open_tickets,
    resolution_hours, coalesce(escalations_90, 0) AS escalations_90,
    coalesce(access_30, 0) AS access_30, coalesce(access_prior, 0) AS access_prior,
    coalesce(accessors_30, 0) AS accessors_30,
    coalesce(privacy_requests, 0) AS privacy_requests,
    CASE WHEN consent_withdrawals > 0 THEN 1 ELSE 0 END AS consent_withdrawn,
    CASE WHEN exposures > 0 THEN 1 ELSE 0 END AS data_exposure,
    coalesce(regulator, 0) AS regulator,
    max_amount_30, amount_avg_prior, amount_std_prior, night_30, night_prior,
    coalesce(devices_30, 0) AS devices_30, coalesce(rapid_30, 0) AS rapid_30,
    coalesce(reviews_7, 0) AS reviews_7, coalesce(reviews_prior, 0) AS reviews_prior,
    coalesce(failed_7, 0) AS failed_7
  FROM customers c
  LEFT JOIN tx USING (customer_id)
  LEFT JOIN moves USING (customer_id)
  LEFT JOIN it USING (customer_id)
  LEFT JOIN ev USING (customer_id)
  WHERE c.signup_date IS NULL OR c.signup_date < CAST({at} AS DATE)
),
f AS (
  SELECT *,
    CASE WHEN txn_base = 0 THEN CASE WHEN txn_30 = 0 THEN 0.0 END
         ELSE (txn_30 - txn_base) / txn_base END AS txn_freq_change
  FROM b
)
SELECT customer_id,
  recency_days,
  txn_30 AS txn_count_30d,
  txn_90 AS txn_count_90d,
  txn_prior AS txn_count_prior_90d,
  txn_freq_change,
  spend_30 AS spend_30d,
  spend_prior AS spend_prior_90d,
  CASE WHEN spend_base = 0 THEN CASE WHEN spend_30 = 0 THEN 0.0 END
       ELSE (spend_30 - spend_base) / spend_base END AS spend_change,
  CASE WHEN aov_prior = 0 THEN CASE WHEN aov_30 = 0 THEN 0.0 END
       ELSE (aov_30 - aov_prior) / abs(aov_prior) END AS avg_order_value_change,
  active_periods / 6.0 AS active_month_ratio_6m,
  CASE WHEN cats_90 = 0 AND cats_prior = 0 THEN 0.0
       ELSE (cats_90 - cats_prior) / ((cats_90 + cats_prior) / 2.0) END
    AS category_breadth_change,
  date_diff('day', signup_date, CAST({at} AS DATE)) AS tenure_days,
  nps_latest,
  nps_latest - nps_avg AS nps_change,
  CASE WHEN nps_latest <= 6 THEN 1 WHEN nps_latest > 6 THEN 0 END AS detractor,
  csat_90 AS csat_avg_90d,
  csat_trend,
  disputes_90 AS dispute_count_90d,
  refunds_90 AS refund_count_90d,
  CASE WHEN txn_90 > 0 THEN refunds_90 / txn_90 END AS refund_rate_90d,
  cbs_90 AS chargeback_count_90d,
  compl_30 AS complaint_count_30d,
  (compl_30 + 1.0) / (compl_prior * 30.0 / 90.0 + 1.0) - 1.0 AS complaint_growth,
  open_tickets AS open_ticket_count,
  resolution_hours AS avg_resolution_hours_90d,
  escalations_90 AS escalation_count_90d,
  CASE WHEN compl_30 >= 2 THEN 1 ELSE 0 END AS repeat_complaint,
  access_30 AS data_access_count_30d,
  (access_30 + 1.0) / (access_prior * 30.0 / 180.0 + 1.0) - 1.0 AS data_access_anomaly,
  accessors_30 AS distinct_staff_accessors_30d,
  privacy_requests AS privacy_request_count_365d,
  consent_withdrawn,
  data_exposure,
  regulator AS regulator_complaint_count,
  CASE WHEN amount_std_prior > 0
       THEN (max_amount_30 - amount_avg_prior) / amount_std_prior END AS max_amount_zscore_30d,
  night_30 AS night_txn_share_30d,
  night_30 - night_prior AS night_txn_share_change,
  devices_30 AS new_device_count_30d,
  rapid_30 AS rapid_in_out_count_30d,
  (reviews_7 + 1.0) / (reviews_prior * 7.0 / 90.0 + 1.0) - 1.0 AS review_burst,
  failed_7 AS failed_login_count_7d,
  avg(txn_freq_change) OVER (PARTITION BY segment) - avg(txn_freq_change) OVER ()
    AS segment_shock_index
FROM f
ORDER BY customer_id
"""


def hand_written_sql(as_of: datetime) -> str:
    """The baseline query at `as_of`."""
    return HAND_SQL.format(at=f"TIMESTAMPTZ '{as_of.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'")


# ── pandas baseline ───────────────────────────────────────────────────────────────────────


def pandas_load(db_path: Path) -> dict[str, pd.DataFrame]:
    """The columns the indicators read, as pandas frames (whole tables, no SQL filtering)."""
    conn = duckdb.connect(str(db_path), read_only=True)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        query = {
            "customers": "SELECT customer_id, segment, signup_date FROM customers",
            "transactions": "SELECT customer_id, ts, amount, type, category FROM transactions",
            "interactions": "SELECT customer_id, ts, kind, severity, resolved_ts, nps, csat "
            "FROM interactions",
            "events": "SELECT customer_id, ts, kind, actor FROM events",
        }
        return {name: conn.sql(sql).to_arrow_table().to_pandas() for name, sql in query.items()}
    finally:
        conn.close()


def pandas_indicators(frames: dict[str, pd.DataFrame], as_of: datetime) -> pd.DataFrame:
    """Every output indicator with pandas: window filters, groupby, merge."""
    at = pd.Timestamp(as_of)

    def window(df: pd.DataFrame, days: int, offset: int = 0) -> pd.DataFrame:
        lo, hi = at - pd.Timedelta(days=days + offset), at - pd.Timedelta(days=offset)
        return df[(df["ts"] >= lo) & (df["ts"] < hi)]

    customers = frames["customers"]
    day = pd.Timestamp(at.date())
    signup_dates = pd.to_datetime(customers["signup_date"])
    pop = customers[signup_dates.isna() | (signup_dates < day)]
    out = pd.DataFrame(index=pd.Index(pop["customer_id"], name="customer_id"))
    out = out.sort_index()
    cols: dict[str, pd.Series] = {}

    tx = frames["transactions"]
    tx = tx[tx["ts"] < at]
    purchases = tx[tx["type"] == "purchase"]
    p730 = window(purchases, 730)
    cols["recency_days"] = (at - p730.groupby("customer_id")["ts"].max()).dt.total_seconds() / 86400
    p30, p90, pprior = window(purchases, 30), window(purchases, 90), window(purchases, 90, 30)
    cols["txn_count_30d"] = p30.groupby("customer_id").size()
    cols["txn_count_90d"] = p90.groupby("customer_id").size()
    cols["txn_count_prior_90d"] = pprior.groupby("customer_id").size()
    cols["spend_30d"] = p30.groupby("customer_id")["amount"].sum()
    cols["spend_prior_90d"] = pprior.groupby("customer_id")["amount"].sum()
    aov_30 = p30.groupby("customer_id")["amount"].mean()
    aov_prior = pprior.groupby("customer_id")["amount"].mean()
    p180 = window(purchases, 180)
    period = np.ceil((at - p180["ts"]).dt.total_seconds() / 2592000) - 1
    active = period.groupby(p180["customer_id"]).nunique()
    cats_90 = p90.groupby("customer_id")["category"].nunique()
    cats_prior = window(purchases, 90, 90).groupby("customer_id")["category"].nunique()
    cols["refund_count_90d"] = window(tx[tx["type"] == "refund"], 90).groupby("customer_id").size()
    cols["chargeback_count_90d"] = (
        window(tx[tx["type"] == "chargeback"], 90).groupby("customer_id").size()
    )
    t30, tprior = window(tx, 30), window(tx, 180, 30)
    max_30 = t30.groupby("customer_id")["amount"].max()
    avg_prior = tprior.groupby("customer_id")["amount"].mean()
    std_prior = tprior.groupby("customer_id")["amount"].std()
    night_30 = (t30["ts"].dt.hour < 6).astype(float).groupby(t30["customer_id"]).mean()
    night_prior = (tprior["ts"].dt.hour < 6).astype(float).groupby(tprior["customer_id"]).mean()
    moves = window(tx[tx["type"].isin(["deposit", "withdrawal", "transfer"])], 730)
    moves = moves.sort_values(["customer_id", "ts"])
    seconds = (moves["ts"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    deposit_s = seconds.where(moves["type"] == "deposit", -np.inf)
    last_deposit = deposit_s.groupby(moves["customer_id"]).cummax()
    # peers at the same instant count as "before", like RANGE ... CURRENT ROW
    last_deposit = last_deposit.groupby([moves["customer_id"], moves["ts"]]).transform("max")
    rapid = (
        (moves["type"] != "deposit")
        & (moves["ts"] >= at - pd.Timedelta(days=30))
        & (seconds - last_deposit <= 86400)
    )
    cols["rapid_in_out_count_30d"] = rapid.groupby(moves["customer_id"]).sum()

    it = window(frames["interactions"], 365)
    answered = it[it["nps"].notna()]
    latest_ts = answered.groupby("customer_id")["ts"].transform("max")
    nps_latest = answered[answered["ts"] == latest_ts].groupby("customer_id")["nps"].mean()
    nps_avg = answered.groupby("customer_id")["nps"].mean()
    csat_90 = window(it, 90).groupby("customer_id")["csat"].mean()
    rated = window(it, 180)
    rated = rated[rated["csat"].notna()]
    x = (rated["ts"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds() / 2592000.0
    y = rated["csat"].astype(float)
    g = rated["customer_id"]
    dx = x - x.groupby(g).transform("mean")
    dy = y - y.groupby(g).transform("mean")
    slope = (dx * dy).groupby(g).sum() / (dx * dx).groupby(g).sum()
    span = x.groupby(g).max() - x.groupby(g).min()
    n_rated = x.groupby(g).size()
    csat_trend = slope.where((n_rated >= 3) & (span >= 1.0))
    kind = it["kind"]
    cols["dispute_count_90d"] = window(it[kind == "dispute"], 90).groupby("customer_id").size()
    complaints = it[kind == "complaint"]
    cols["complaint_count_30d"] = window(complaints, 30).groupby("customer_id").size()
    compl_prior = window(complaints, 90, 30).groupby("customer_id").size()
    tickets = it[kind.isin(["ticket", "complaint", "dispute"])]
    unresolved = tickets["resolved_ts"].isna() | (tickets["resolved_ts"] >= at)
    cols["open_ticket_count"] = tickets[unresolved].groupby("customer_id").size()
    t90 = window(tickets[~unresolved], 90)
    hours = (t90["resolved_ts"] - t90["ts"]).dt.total_seconds() / 3600.0
    cols["avg_resolution_hours_90d"] = hours.groupby(t90["customer_id"]).mean()
    severe = window(tickets[tickets["severity"] >= 4], 90)
    cols["escalation_count_90d"] = severe.groupby("customer_id").size()
    regulator = it[kind == "regulator_complaint"]
    cols["regulator_complaint_count"] = regulator.groupby("customer_id").size()
    reviews = it[kind == "review"]
    reviews_7 = window(reviews, 7).groupby("customer_id").size()
    reviews_prior = window(reviews, 90, 7).groupby("customer_id").size()

    ev = window(frames["events"], 365)
    access = ev[(ev["kind"] == "data_access") & ~ev["actor"].isin(["customer", "system"])]
    access = access[access["actor"].notna()]
    a30 = window(access, 30)
    cols["data_access_count_30d"] = a30.groupby("customer_id").size()
    access_prior = window(access, 180, 30).groupby("customer_id").size()
    cols["distinct_staff_accessors_30d"] = a30.groupby("customer_id")["actor"].nunique()
    privacy = ev[ev["kind"] == "privacy_request"]
    cols["privacy_request_count_365d"] = privacy.groupby("customer_id").size()
    consent = ev[ev["kind"] == "consent_withdrawn"].groupby("customer_id").size()
    exposure = ev[ev["kind"] == "data_exposure"].groupby("customer_id").size()
    devices = window(ev[ev["kind"] == "device_change"], 30)
    cols["new_device_count_30d"] = devices.groupby("customer_id").size()
    failed = window(ev[ev["kind"] == "login_failed"], 7)
    cols["failed_login_count_7d"] = failed.groupby("customer_id").size()

    def joined(series: pd.Series, fill: float | None = 0.0) -> pd.Series:
        s = series.reindex(out.index).astype(float)
        return s.fillna(fill) if fill is not None else s

    v = {name: joined(s) for name, s in cols.items()}
    v["recency_days"] = joined(cols["recency_days"], 730.0)
    v["avg_resolution_hours_90d"] = joined(cols["avg_resolution_hours_90d"], None)

    def relative(recent: pd.Series, base: pd.Series) -> pd.Series:
        zero = pd.Series(np.where(recent == 0, 0.0, np.nan), index=recent.index)
        return ((recent - base) / base.abs()).where(base != 0, zero)

    def smoothed(recent: pd.Series, base: pd.Series) -> pd.Series:
        return (recent + 1.0) / (base + 1.0) - 1.0

    v["txn_freq_change"] = relative(v["txn_count_30d"], v["txn_count_prior_90d"] * 30.0 / 90.0)
    v["spend_change"] = relative(v["spend_30d"], v["spend_prior_90d"] * 30.0 / 90.0)
    v["avg_order_value_change"] = relative(joined(aov_30, None), joined(aov_prior, None))
    v["active_month_ratio_6m"] = joined(active) / 6.0
    c90, cprior = joined(cats_90), joined(cats_prior)
    v["category_breadth_change"] = ((c90 - cprior) / ((c90 + cprior) / 2.0)).where(
        (c90 != 0) | (cprior != 0), 0.0
    )
    signup = pd.to_datetime(pop.set_index("customer_id")["signup_date"].reindex(out.index))
    v["tenure_days"] = (day - signup).dt.days.astype(float)
    v["nps_latest"] = joined(nps_latest, None)
    v["nps_change"] = v["nps_latest"] - joined(nps_avg, None)
    v["detractor"] = (v["nps_latest"] <= 6).astype(float).where(v["nps_latest"].notna())
    v["csat_avg_90d"] = joined(csat_90, None)
    v["csat_trend"] = joined(csat_trend, None)
    v["refund_rate_90d"] = (v["refund_count_90d"] / v["txn_count_90d"]).where(
        v["txn_count_90d"] != 0
    )
    v["complaint_growth"] = smoothed(v["complaint_count_30d"], joined(compl_prior) * 30.0 / 90.0)
    v["repeat_complaint"] = (v["complaint_count_30d"] >= 2).astype(float)
    v["data_access_anomaly"] = smoothed(
        v["data_access_count_30d"], joined(access_prior) * 30.0 / 180.0
    )
    v["consent_withdrawn"] = (joined(consent) > 0).astype(float)
    v["data_exposure"] = (joined(exposure) > 0).astype(float)
    std = joined(std_prior, None)
    v["max_amount_zscore_30d"] = ((joined(max_30, None) - joined(avg_prior, None)) / std).where(
        std > 0
    )
    v["night_txn_share_30d"] = joined(night_30, None)
    v["night_txn_share_change"] = v["night_txn_share_30d"] - joined(night_prior, None)
    v["review_burst"] = smoothed(joined(reviews_7), joined(reviews_prior) * 7.0 / 90.0)
    segment = pop.set_index("customer_id")["segment"].reindex(out.index)
    freq = v["txn_freq_change"]
    by_segment = freq.groupby(segment, dropna=False).transform("mean")
    v["segment_shock_index"] = by_segment - freq.mean()
    return pd.DataFrame(v, index=out.index).reset_index()


# ── measurements (each in a child process) ────────────────────────────────────────────────


def _cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> float | None:
    """CPU seconds all processes have used since boot (Linux), None elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields)
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure(kind: str, root: Path, out: Path) -> dict[str, float]:
    """Run one measurement in this process; write its result to `out` (Parquet)."""
    timings: dict[str, float] = {}
    cpu_start = _cpu_seconds()  # includes setup, a few tenths of a second at most
    if kind in ("crew", "crew-query"):
        workspace = open_workspace(root)
        catalog = load_catalog()
        with workspace.connect() as conn:  # every run stores into a fresh wide table
            conn.execute("DROP TABLE IF EXISTS indicator_values")
            conn.execute("DELETE FROM indicator_runs")
            conn.execute("CHECKPOINT")
        started = time.perf_counter()
        if kind == "crew":
            run = compute_indicators(workspace, catalog, AS_OF, store=True)
            values = run.values
            timings["query_seconds"] = run.seconds  # compile + query, before storing
        else:
            with workspace.connect() as conn:
                query = compile_indicators(catalog, AS_OF)
                values = run_duckdb(conn, query)
        timings["seconds"] = time.perf_counter() - started
    elif kind == "sql":
        workspace = open_workspace(root)
        with workspace.connect() as conn:
            sql = hand_written_sql(AS_OF)
            started = time.perf_counter()
            values = conn.sql(sql).to_arrow_table()
            timings["seconds"] = time.perf_counter() - started
    elif kind == "pandas":
        workspace = open_workspace(root)
        started = time.perf_counter()
        frames = pandas_load(workspace.duckdb_path)
        timings["load_seconds"] = time.perf_counter() - started
        frame = pandas_indicators(frames, AS_OF)
        timings["seconds"] = time.perf_counter() - started
        del frames
        values = pa.Table.from_pandas(frame, preserve_index=False)
    else:
        raise ValueError(kind)
    timings["cpu_seconds"] = _cpu_seconds() - cpu_start
    timings["peak_rss"] = float(_peak_rss())
    pq.write_table(values, out)
    return timings


def _child(kind: str, root: Path, out: Path) -> dict[str, float]:
    """`measure` in a fresh interpreter, so that ru_maxrss is this measurement's alone."""
    done = subprocess.run(
        [sys.executable, __file__, "measure", kind, str(root), str(out)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    """Fastest of repeated runs (other load on the machine only ever slows a run down);
    peak memory is the largest seen."""
    best = dict(min(runs, key=lambda r: r["seconds"]))
    best["peak_rss"] = max(r["peak_rss"] for r in runs)
    return best


def _warm(root: Path) -> None:
    """Read the store once so that no measurement pays for a cold page cache."""
    with (root / "crew.duckdb").open("rb") as fh:
        while fh.read(1 << 24):
            pass


def compare(reference: Path, other: Path, columns: list[str]) -> dict[str, float]:
    """Largest absolute difference per column, after checking that the rows line up.

    Two NULLs are equal; a NULL against a number is an infinite difference.
    """
    a, b = pq.read_table(reference), pq.read_table(other)
    if a.column("customer_id").to_pylist() != b.column("customer_id").to_pylist():
        raise AssertionError(f"{other.name}: customers differ from crew's")
    diffs = {}
    for name in columns:
        x = a.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        y = b.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        nx, ny = np.isnan(x), np.isnan(y)
        if (nx != ny).any():
            diffs[name] = math.inf
            continue
        scale = np.maximum(1.0, np.abs(x[~nx]))
        diffs[name] = float(np.max(np.abs(x[~nx] - y[~ny]) / scale, initial=0.0))
    return diffs


def _check(label: str, diffs: dict[str, float]) -> str:
    bad = {k: v for k, v in diffs.items() if not v <= 1e-9}
    if any(k in bad for k in KEY_COLUMNS):
        raise AssertionError(f"{label} does not match crew: {bad}")
    if bad:
        listed = ", ".join(f"{k} ({v:.1e})" for k, v in sorted(bad.items()))
        return f"{label}: {len(diffs) - len(bad)}/{len(diffs)} columns match; differ: {listed}"
    return f"{label}: all {len(diffs)} columns match crew within 1e-9"


def _gib(value: float) -> str:
    return f"{value / GIB:.2f} GiB"


def _fmt_s(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds >= 100 else f"{seconds:.1f} s"


def bench_indicators(
    customers: int,
    txns_per_customer: float,
    pandas_customers: int,
    interactions_per_customer: float = 21.0,
    events_per_customer: float = 100.0,
    repeat: int = 2,
) -> None:
    """Generate (or reuse) the workspaces, run the measurements, print the figures."""
    full = Size(customers, txns_per_customer, interactions_per_customer, events_per_customer)
    small = Size(
        min(pandas_customers, customers),
        txns_per_customer,
        interactions_per_customer,
        events_per_customer,
    )
    catalog = load_catalog()
    columns = list(compile_indicators(catalog, AS_OF).columns)
    tmp = CACHE / "results"
    tmp.mkdir(parents=True, exist_ok=True)

    root, rows, gen = ensure_workspace(full)
    made = f"generated in {_fmt_s(gen)}" if gen is not None else "cached"
    print(
        f"indicators data: {rows['customers']:,} customers, {rows['transactions']:,} txns, "
        f"{rows['interactions']:,} interactions, {rows['events']:,} events ({made}, "
        f"{root.relative_to(CACHE.parent.parent)}); {len(columns)} indicators at "
        f"{AS_OF:%Y-%m-%d}"
    )
    _warm(root)
    busy_start, wall_start = _machine_busy(), time.perf_counter()
    mine_start = _cpu_seconds(resource.RUSAGE_CHILDREN) + _cpu_seconds()
    runs: dict[str, list[dict[str, float]]] = {"crew": [], "crew-query": [], "sql": []}
    for _ in range(repeat):  # interleaved, so that a burst of other load hits all three
        for kind, results in runs.items():
            results.append(_child(kind, root, tmp / f"{kind}.parquet"))
    crew, query, sql = _best(runs["crew"]), _best(runs["crew-query"]), _best(runs["sql"])
    sql_check = _check(
        "hand-written SQL", compare(tmp / "crew.parquet", tmp / "sql.parquet", columns)
    )

    if small == full:
        small_root, small_rows = root, rows
        crew_small = crew
        small_ref = tmp / "crew.parquet"
    else:
        small_root, small_rows, _ = ensure_workspace(small)
        _warm(small_root)
        small_ref = tmp / "crew_small.parquet"
        crew_small = _best([_child("crew", small_root, small_ref) for _ in range(repeat)])
    pandas = _best([_child("pandas", small_root, tmp / "pandas.parquet") for _ in range(repeat)])
    pandas_check = _check("pandas", compare(small_ref, tmp / "pandas.parquet", columns))
    busy_end = _machine_busy()
    others = None
    if busy_start is not None and busy_end is not None:
        mine = _cpu_seconds(resource.RUSAGE_CHILDREN) + _cpu_seconds() - mine_start
        capacity = (time.perf_counter() - wall_start) * (os.cpu_count() or 1)
        others = max(0.0, busy_end - busy_start - mine) / capacity
    factor = rows["transactions"] / small_rows["transactions"]
    pandas_full = pandas["seconds"] * factor

    ratio = crew["seconds"] / sql["seconds"]
    speedup = pandas_full / crew["seconds"]
    pandas_src = (
        f"extrapolated x{factor:.2f} from {small_rows['customers']:,} customers"
        if small != full
        else "measured"
    )
    print(
        f"indicators {rows['customers']:,} customers / {rows['transactions']:,} txns: "
        f"crew {_fmt_s(crew['seconds'])}, hand-written SQL {_fmt_s(sql['seconds'])} -> ratio "
        f"{ratio:.2f}x (target <= 2x); pandas ({pandas_src}) {_fmt_s(pandas_full)} -> crew is "
        f"{speedup:.1f}x faster (target >= 10x); peak RSS {_gib(crew['peak_rss'])} "
        f"(target < 8 GiB)"
    )
    pad = " " * 8
    print(
        f"{pad}crew query alone (run_duckdb) {_fmt_s(query['seconds'])}, ratio "
        f"{query['seconds'] / sql['seconds']:.2f}x; inside crew's run: compile + query "
        f"{_fmt_s(crew['query_seconds'])}, store {_fmt_s(crew['seconds'] - crew['query_seconds'])}"
        f"; peak RSS: query alone {_gib(query['peak_rss'])}, hand-written SQL "
        f"{_gib(sql['peak_rss'])}"
    )
    print(
        f"{pad}pandas at {small_rows['customers']:,} customers / "
        f"{small_rows['transactions']:,} txns: {_fmt_s(pandas['seconds'])} (of which reading "
        f"the tables {_fmt_s(pandas['load_seconds'])}), crew there {_fmt_s(crew_small['seconds'])}"
        f" -> {pandas['seconds'] / crew_small['seconds']:.1f}x; pandas peak RSS "
        f"{_gib(pandas['peak_rss'])}; at full size the hand-written SQL itself is "
        f"{pandas_full / sql['seconds']:.1f}x faster than pandas"
    )
    print(
        f"{pad}CPU seconds (user + sys): crew {_fmt_s(crew['cpu_seconds'])}, query alone "
        f"{_fmt_s(query['cpu_seconds'])}, hand-written SQL {_fmt_s(sql['cpu_seconds'])}, "
        f"pandas at {small_rows['customers']:,} customers {_fmt_s(pandas['cpu_seconds'])}"
    )
    load = (
        f"; other processes used {others:.0%} of the machine's CPU meanwhile"
        + (" (wall times inflated)" if others > 0.1 else "")
        if others is not None
        else ""
    )
    print(f"{pad}times are the best of {repeat} runs, each in its own process{load}")
    print(f"{pad}check: {sql_check}; {pandas_check}")
    shutil.rmtree(tmp)


def main() -> None:
    """Run at the sizes in the environment (the same variables as `make bench`)."""
    bench_indicators(
        int(os.environ.get("CREW_BENCH_IND_CUSTOMERS", "1000000")),
        float(os.environ.get("CREW_BENCH_IND_TXNS_PER_CUSTOMER", "50")),
        int(os.environ.get("CREW_BENCH_PANDAS_CUSTOMERS", "100000")),
        float(os.environ.get("CREW_BENCH_IND_INTERACTIONS_PER_CUSTOMER", "21")),
        float(os.environ.get("CREW_BENCH_IND_EVENTS_PER_CUSTOMER", "100")),
        int(os.environ.get("CREW_BENCH_IND_REPEAT", "2")),
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "measure":
        result = measure(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        print(json.dumps(result))
    else:
        main()
