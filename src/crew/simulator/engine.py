"""The run: draw the world once, then simulate and write customers chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from crew.simulator import events as ev
from crew.simulator import interactions as ix
from crew.simulator.arrivals import NEVER
from crew.simulator.config import SimulationConfig, SimulationSummary, period_bounds
from crew.simulator.episodes import End, EpisodeRows, Plan, draw_plan, shock_row
from crew.simulator.files import TableSink, open_sink, output_schemas
from crew.simulator.population import REGION_NAMES, Population, draw_population
from crew.simulator.profiles import TIERS, IndustryProfile, profile_for
from crew.simulator.seasons import daily_season
from crew.simulator.texts import TextCatalog, text_catalog
from crew.simulator.transactions import TXN_STATUSES, TXN_TYPES, TxnRows, draw_transactions
from crew.simulator.world import World, draw_world

CUSTOMER_MONTHS_PER_CHUNK = 480_000
"""Chunk budget: 20,000 customers over 24 months. Random streams are keyed by chunk index,
so the chunk size depends only on the config, never on the machine."""


def chunk_size(months: int) -> int:
    """Customers per chunk for a period of `months` months (bounds memory per chunk).

    >>> chunk_size(24), chunk_size(120)
    (20000, 4000)
    """
    return max(1000, CUSTOMER_MONTHS_PER_CHUNK // max(months, 1))


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Progress = Callable[[int, int], None]


class _Run:
    """Per-run constants and the id counters that continue across chunks."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.profile: IndustryProfile = profile_for(config.industry)
        start, end = period_bounds(config)
        self.start, self.end = start, end
        self.days = (end - start).days
        self.start_day = np.datetime64(config.start, "D")
        self.start_us = int(self.start_day.astype("datetime64[us]").astype(np.int64))
        self.season = daily_season(config.industry, config.start, self.days)
        self.world: World = draw_world(config.seed, config.customers, self.days, self.profile)
        self.texts: TextCatalog = text_catalog(config.industry)
        self.staff = pa.array(
            ["customer", "system"] + [f"S{i:04d}" for i in range(self.world.staff_count)]
        )
        self.id_width = max(7, len(str(config.customers)))
        self.seq = {"T": 0, "I": 0, "E": 0, "EP": 0}

    def ids(self, prefix: str, n: int, width: int = 10) -> pa.Array:
        first = self.seq[prefix] + 1
        self.seq[prefix] += n
        return _ids(prefix, np.arange(first, first + n, dtype=np.int64), width)

    def timestamps(self, t: FloatArray) -> pa.Array:
        missing = np.isnan(t)
        seconds = np.floor(np.where(missing, 0.0, t) * 86_400).astype(np.int64)
        us = self.start_us + seconds * 1_000_000
        return pa.array(us, type=pa.timestamp("us", tz="UTC"), mask=missing)


def _ids(prefix: str, numbers: IntArray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, text, "")


def _names(values: tuple[str | None, ...], codes: npt.NDArray[Any]) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(codes.astype(np.int64)))


def _time_order(c: IntArray, t: FloatArray) -> IntArray:
    return np.lexsort((c, t)).astype(np.int64)


def simulate(
    config: SimulationConfig, out_dir: Path, progress: Progress | None = None
) -> SimulationSummary:
    """Simulate `config` and write the five canonical tables plus `episodes` to `out_dir`.

    `progress(done, total)` is called with customer counts after every chunk.
    """
    run = _Run(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = config.file_format
    schemas = output_schemas()
    files = {stem: out_dir / f"{stem}.{ext}" for stem in schemas}
    rows = dict.fromkeys(schemas, 0)
    sinks: dict[str, TableSink] = {}
    try:
        for stem, schema in schemas.items():
            sinks[stem] = open_sink(files[stem], schema, config.file_format)
        total = config.customers
        size = chunk_size(config.months)
        for chunk, lo in enumerate(range(0, total, size)):
            hi = min(lo + size, total)
            rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(chunk,)))
            tables = _chunk(run, rng, np.arange(lo, hi, dtype=np.int64), first=chunk == 0)
            for stem, table in tables.items():
                sinks[stem].write(table.cast(schemas[stem]))
                rows[stem] += table.num_rows
            if progress is not None:
                progress(hi, total)
    finally:
        for sink in sinks.values():
            sink.close()
    return SimulationSummary(rows=rows, files=files, start=run.start, end=run.end)


def _chunk(
    run: _Run, rng: np.random.Generator, index: IntArray, *, first: bool
) -> dict[str, pa.Table]:
    world, profile, days = run.world, run.profile, run.days
    new_share = min(0.3, 0.011 * run.config.months)
    pop = draw_population(rng, index, profile, days, run.start_day, new_share)
    fake = np.isin(index, world.fake_members)
    if fake.any():
        pos = np.searchsorted(world.fake_members, index[fake])
        signup = pop.signup_day.copy()
        signup[fake] = world.cluster_signup[pos]
        pop = replace(pop, signup_day=signup)
    plan, episodes = draw_plan(rng, pop, world, profile, fake)
    txn = draw_transactions(rng, pop, plan, profile, run.season, run.start_day)
    keep = _in_window(plan, txn.cols["c"], txn.cols["t"])
    txn = replace(txn, cols={k: v[keep] for k, v in txn.cols.items()})
    contacts = ix.draw_interactions(rng, pop, plan, profile, world, txn.cols)
    events = ev.draw_events(rng, pop, plan, profile, world.staff_count, contacts)
    customer_ids = _ids("C", index + 1, run.id_width)
    if first:
        shock = shock_row(world, profile.segment_names)
        episodes = _concat_episodes(shock, episodes)
    return {
        "customers": _customers(run, pop, customer_ids),
        "transactions": _transactions(run, txn, customer_ids),
        "interactions": _interactions(run, pop, contacts, customer_ids),
        "events": _events(run, pop, events, customer_ids),
        "outcomes": _outcomes(rng, run, plan, txn, customer_ids),
        "episodes": _episodes(run, episodes, customer_ids),
    }


def _in_window(plan: Plan, c: IntArray, t: FloatArray) -> npt.NDArray[np.bool_]:
    return (t >= plan.a[c]) & (t < plan.b[c])


def _customers(run: _Run, pop: Population, ids: pa.Array) -> pa.Table:
    epoch_day = int(run.start_day.astype(np.int64))
    return pa.table(
        {
            "customer_id": ids,
            "segment": _names(run.profile.segment_names, pop.segment),
            "tier": _names(TIERS, pop.tier),
            "industry": pa.array([run.config.industry.value] * len(pop), pa.string()),
            "region": _names(REGION_NAMES, pop.region),
            "signup_date": pa.array((epoch_day + pop.signup_day).astype(np.int32), pa.date32()),
            **pop.pii,
        }
    )


def _transactions(run: _Run, txn: TxnRows, customer_ids: pa.Array) -> pa.Table:
    cols = txn.cols
    o = _time_order(cols["c"], cols["t"])
    quantity = cols["quantity"][o]
    return pa.table(
        {
            "txn_id": run.ids("T", len(o)),
            "customer_id": customer_ids.take(pa.array(cols["c"][o])),
            "ts": run.timestamps(cols["t"][o]),
            "amount": cols["amount"][o],
            "type": _names(TXN_TYPES, cols["type"][o]),
            "channel": _names(txn.channels, cols["channel"][o]),
            "category": _names(txn.categories, cols["category"][o]),
            "status": _names(TXN_STATUSES, cols["status"][o]),
            "quantity": pa.array(quantity, mask=np.isnan(quantity)),
        }
    )


def _interactions(
    run: _Run, pop: Population, cols: dict[str, npt.NDArray[Any]], customer_ids: pa.Array
) -> pa.Table:
    o = _time_order(cols["c"], cols["t"])
    c = cols["c"][o]
    lang = cols["lang"][o]
    chinese = np.where(lang < 0, pop.chinese[c], lang == 1)
    text = run.texts.render(
        cols["topic"][o], chinese, cols["variant"][o], c + cols["t"][o].astype(np.int64) * 7919
    )
    suffix = _names(ix.FAKE_SUFFIXES, cols["suffix"][o])
    text = pc.binary_join_element_wise(text, suffix, "")

    def optional_int(name: str, missing: int) -> pa.Array:
        values = cols[name][o].astype(np.int32)
        return pa.array(values, pa.int32(), mask=values == missing)

    rating = cols["rating"][o]
    return pa.table(
        {
            "interaction_id": run.ids("I", len(o)),
            "customer_id": customer_ids.take(pa.array(c)),
            "ts": run.timestamps(cols["t"][o]),
            "kind": _names(ix.KINDS, cols["kind"][o]),
            "severity": optional_int("severity", 0),
            "status": _names(ix.STATUSES, cols["status"][o]),
            "resolved_ts": run.timestamps(cols["resolved_t"][o]),
            "nps": optional_int("nps", -1),
            "csat": optional_int("csat", -1),
            "rating": pa.array(rating, mask=np.isnan(rating)),
            "text": text,
        }
    )


def _events(
    run: _Run, pop: Population, cols: dict[str, npt.NDArray[Any]], customer_ids: pa.Array
) -> pa.Table:
    o = _time_order(cols["c"], cols["t"])
    cols = {k: v[o] for k, v in cols.items()}
    return pa.table(
        {
            "event_id": run.ids("E", len(o)),
            "customer_id": customer_ids.take(pa.array(cols["c"])),
            "ts": run.timestamps(cols["t"]),
            "kind": _names(ev.EVENT_KINDS, cols["kind"]),
            "actor": run.staff.take(pa.array(_actor_index(cols["actor"]))),
            "attributes": ev.attributes(cols, run.config.seed, pop.index),
        }
    )


def _actor_index(actor: IntArray) -> IntArray:
    """Position in the actor vocabulary: customer, system, then the staff ids."""
    return np.where(actor == ev.CUSTOMER, 0, np.where(actor == ev.SYSTEM, 1, actor + 2))


_OUTCOME_OF_END = {
    End.FRAUD_CONFIRMED: "fraud_confirmed",
    End.REGULATOR_CASE: "regulator_case",
    End.DATA_INCIDENT: "data_incident",
}


def _outcomes(
    rng: np.random.Generator, run: _Run, plan: Plan, txn: TxnRows, customer_ids: pa.Array
) -> pa.Table:
    churned = np.flatnonzero(plan.churn_t < run.days)
    parts_c, parts_t, parts_kind, parts_value = [churned], [plan.churn_t[churned]], [], []
    parts_kind.append(np.full(len(churned), "churn", dtype=object))
    parts_value.append(txn.annual_value[churned])
    for end, kind in _OUTCOME_OF_END.items():
        c = np.flatnonzero((plan.end == end) & (plan.end_t < run.days))
        parts_c.append(c)
        parts_t.append(plan.end_t[c])
        parts_kind.append(np.full(len(c), kind, dtype=object))
        if end == End.FRAUD_CONFIRMED:
            value = txn.fraud_value[c]
        elif end == End.REGULATOR_CASE:
            value = np.round(rng.uniform(5_000, 200_000, len(c)), -2)
        else:
            value = np.round(rng.uniform(500, 20_000, len(c)), -2)
        parts_value.append(value)
    c, t = np.concatenate(parts_c), np.concatenate(parts_t)
    o = _time_order(c, t)
    return pa.table(
        {
            "customer_id": customer_ids.take(pa.array(c[o])),
            "kind": pa.array(np.concatenate(parts_kind)[o].tolist(), pa.string()),
            "ts": run.timestamps(t[o]),
            "value": pa.array(np.concatenate(parts_value)[o], pa.float64()),
        }
    )


def _concat_episodes(x: EpisodeRows, y: EpisodeRows) -> EpisodeRows:
    return EpisodeRows(
        c=np.concatenate([x.c, y.c]),
        segment=np.concatenate([x.segment, y.segment]),
        risk=x.risk + y.risk,
        onset=np.concatenate([x.onset, y.onset]),
        outcome=x.outcome + y.outcome,
        outcome_t=np.concatenate([x.outcome_t, y.outcome_t]),
        severity=np.concatenate([x.severity, y.severity]),
        description=x.description + y.description,
    )


def _episodes(run: _Run, rows: EpisodeRows, customer_ids: pa.Array) -> pa.Table:
    o = np.lexsort((rows.c, rows.onset))
    c = rows.c[o]
    return pa.table(
        {
            "episode_id": run.ids("EP", len(o), 7),
            "customer_id": customer_ids.take(pa.array(np.maximum(c, 0), mask=c < 0)),
            "segment": _names(run.profile.segment_names, rows.segment[o]),
            "risk_type": pa.array([rows.risk[i] for i in o], pa.string()),
            "onset_ts": run.timestamps(rows.onset[o]),
            "outcome": pa.array([rows.outcome[i] for i in o], pa.string()),
            "outcome_ts": run.timestamps(rows.outcome_t[o]),
            "severity": pa.array(rows.severity[o].astype(np.int32)),
            "description": pa.array([rows.description[i] for i in o], pa.string()),
        }
    )


__all__ = ["NEVER", "chunk_size", "simulate"]
