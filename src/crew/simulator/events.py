"""Account and data events: logins, devices, staff data access, consent and exposure."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from crew.simulator.arrivals import RowBuffer, arrival_days, night_times, spread, times_of_day
from crew.simulator.episodes import Kind, Plan, rate_factor
from crew.simulator.population import Population
from crew.simulator.profiles import IndustryProfile
from crew.types import EventKind, InteractionKind

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Columns = dict[str, npt.NDArray[Any]]

EVENT_KINDS = tuple(k.value for k in EventKind)
_E = {k: i for i, k in enumerate(EventKind)}
CUSTOMER, SYSTEM = -1, -2
_CURRENT = -5  # device column placeholder: the customer's current device
_ATTACKER = 1000  # device counters from here on belong to someone else's phone

_STAFF_HANDLED = [
    i
    for i, k in enumerate(InteractionKind)
    if k in (InteractionKind.COMPLAINT, InteractionKind.TICKET, InteractionKind.CALL,
             InteractionKind.DISPUTE)
]  # fmt: skip
_OFFICE = (0, 0, 0, 0, 0, 0, 0.2, 1, 6, 9, 9, 8, 5, 8, 9, 9, 8, 6, 2, 0.5, 0.3, 0.2, 0, 0)
_AUX: dict[EventKind, tuple[str, str, tuple[str, ...]]] = {
    EventKind.LOGIN: ('{"device_id":"', '","channel":"', ("app", "web")),
    EventKind.LOGIN_FAILED: (
        '{"device_id":"',
        '","reason":"',
        ("wrong_password", "expired_code", "locked"),
    ),
    EventKind.DATA_ACCESS: ('{"purpose":"', "", ("service", "billing", "kyc_review", "audit")),
    EventKind.CONSENT_WITHDRAWN: ('{"scope":"', "", ("marketing", "data_sharing", "all")),
    EventKind.PRIVACY_REQUEST: ('{"request":"', "", ("access", "deletion", "correction")),
    EventKind.DATA_EXPOSURE: (
        '{"fields":"name,phone,id_number","source":"',
        "",
        ("third_party_report", "dark_web_scan", "internal_audit", "customer_report"),
    ),
}


def _buffer() -> RowBuffer:
    return RowBuffer(
        {
            "c": (np.int64, 0),
            "t": (np.float64, 0.0),
            "kind": (np.int8, 0),
            "actor": (np.int64, CUSTOMER),
            "dev": (np.int64, -1),
            "dev2": (np.int64, -1),
            "aux": (np.int8, 0),
        }
    )


def draw_events(
    rng: np.random.Generator,
    pop: Population,
    plan: Plan,
    profile: IndustryProfile,
    staff_count: int,
    contacts: Columns,
) -> Columns:
    """All account and data events of one chunk, restricted to active windows."""
    buf = _buffer()
    flat = np.arange(plan.days + 1, dtype=np.float64)
    a, b, n = plan.a, plan.b, len(pop)
    hours = profile.hour_weights

    rate = profile.login_rate_per_day * pop.engagement**0.8
    who, day = arrival_days(rng, rate, a, b, flat)
    t = times_of_day(rng, day, hours)
    keep = rng.random(len(t)) < rate_factor(plan, who, t)
    who, t = who[keep], t[keep]
    buf.add(c=who, t=t, kind=_E[EventKind.LOGIN], dev=_CURRENT, aux=rng.random(len(t)) < 0.2)

    rate = 0.004 * np.sqrt(pop.engagement)
    who, day = arrival_days(rng, rate, a, b, flat)
    buf.add(
        c=who, t=times_of_day(rng, day, hours), kind=_E[EventKind.LOGIN_FAILED], dev=_CURRENT,
        aux=rng.integers(0, 3, len(who)),
    )  # fmt: skip
    who, day = arrival_days(rng, np.full(n, 1 / 450), a, b, flat)
    buf.add(
        c=who, t=times_of_day(rng, day, hours), kind=_E[EventKind.DEVICE_CHANGE], dev=_CURRENT,
        dev2=_CURRENT,
    )  # fmt: skip

    # Staff look a record up now and then, and when the customer contacts them.
    who, day = arrival_days(rng, np.full(n, 0.01), a, b, flat)
    t = times_of_day(rng, day, _OFFICE)
    contact = np.isin(contacts["kind"], _STAFF_HANDLED)
    ci = np.flatnonzero(contact & (rng.random(len(contact)) < 0.8))
    who = np.concatenate([who, contacts["c"][ci]])
    t = np.concatenate([t, contacts["t"][ci] + rng.uniform(1, 30, len(ci)) / 1440])
    buf.add(
        c=who, t=t, kind=_E[EventKind.DATA_ACCESS], actor=rng.integers(0, staff_count, len(who)),
        aux=rng.choice(4, len(who), p=[0.6, 0.2, 0.15, 0.05]),
    )  # fmt: skip

    for kind in (EventKind.CONSENT_WITHDRAWN, EventKind.PRIVACY_REQUEST):
        who, day = arrival_days(rng, np.full(n, 1.5e-5), a, b, flat)
        buf.add(
            c=who, t=times_of_day(rng, day, hours), kind=_E[kind], aux=rng.integers(0, 3, len(who))
        )

    _fraud(rng, buf, plan)
    _exposure(rng, buf, plan)
    cols = buf.build()
    c, t = cols["c"], cols["t"]
    keep = (t >= a[c]) & (t < b[c])
    cols = {k: v[keep] for k, v in cols.items()}
    _fill_devices(cols)
    return cols


def _fraud(rng: np.random.Generator, buf: RowBuffer, plan: Plan) -> None:
    c = np.flatnonzero(plan.kind == Kind.FRAUD)
    onset, phase = plan.onset[c], plan.phase_t[c]
    attacker = _ATTACKER + rng.integers(0, 10**6, len(c))
    k, t = spread(rng, rng.integers(3, 11, len(c)), onset - 2 / 24, np.full(len(c), 2 / 24))
    buf.add(c=c[k], t=t, kind=_E[EventKind.LOGIN_FAILED], dev=attacker[k], aux=0)
    buf.add(c=c, t=onset, kind=_E[EventKind.DEVICE_CHANGE], dev=_CURRENT, dev2=attacker)
    k, t = spread(rng, rng.integers(2, 7, len(c)), onset + 0.001, phase - onset)
    night = night_times(rng, t)
    t = np.where(rng.random(len(t)) < 0.6, np.where(night < onset[k], night + 1, night), t)
    buf.add(c=c[k], t=t, kind=_E[EventKind.LOGIN], dev=attacker[k], aux=0)


def _exposure(rng: np.random.Generator, buf: RowBuffer, plan: Plan) -> None:
    """One staff member pulls the record again and again; later the data surfaces."""
    c = np.flatnonzero(plan.kind == Kind.DATA_EXPOSURE)
    n = len(c)
    onset, phase = plan.onset[c], plan.phase_t[c]
    k, t = spread(rng, rng.integers(15, 61, n), onset, rng.uniform(1.0, 4.0, n))
    night = night_times(rng, t)
    t = np.where(rng.random(len(t)) < 0.5, np.where(night < onset[k], night + 1, night), t)
    buf.add(
        c=c[k], t=t, kind=_E[EventKind.DATA_ACCESS], actor=plan.staff[c[k]],
        aux=rng.choice(4, len(k), p=[0.6, 0.2, 0.15, 0.05]),
    )  # fmt: skip
    buf.add(c=c, t=phase, kind=_E[EventKind.DATA_EXPOSURE], actor=SYSTEM, aux=rng.integers(0, 4, n))
    r = rng.random(n) < 0.7
    buf.add(
        c=c[r], t=phase[r] + rng.uniform(0.5, 10, int(r.sum())), kind=_E[EventKind.PRIVACY_REQUEST],
        aux=rng.integers(0, 3, int(r.sum())),
    )  # fmt: skip
    r = rng.random(n) < 0.45
    buf.add(
        c=c[r], t=phase[r] + rng.uniform(1, 20, int(r.sum())),
        kind=_E[EventKind.CONSENT_WITHDRAWN], aux=rng.integers(0, 3, int(r.sum())),
    )  # fmt: skip


def _fill_devices(cols: Columns) -> None:
    """Replace device placeholders by each customer's device counter at that time."""
    c, t, kind = cols["c"], cols["t"], cols["kind"]
    dev, dev2 = cols["dev"], cols["dev2"]
    inc = ((kind == _E[EventKind.DEVICE_CHANGE]) & (dev2 == _CURRENT)).astype(np.int64)
    order = np.lexsort((t, c))
    inc_s = inc[order]
    before = np.cumsum(inc_s) - inc_s
    c_s = c[order]
    first = np.r_[True, c_s[1:] != c_s[:-1]] if len(c_s) else np.zeros(0, bool)
    base = np.maximum.accumulate(np.where(first, before, 0)) if len(c_s) else before
    counter = np.empty_like(before)
    counter[order] = before - base
    cols["dev"] = np.where(dev == _CURRENT, counter, dev)
    cols["dev2"] = np.where(dev2 == _CURRENT, counter + 1, dev2)


def device_labels(seed: int, customer: IntArray, counter: IntArray) -> pa.Array:
    """Opaque 8-hex-digit device ids, stable per (seed, customer, device number)."""
    x = customer.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    x += counter.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9) + np.uint64(seed)
    x ^= x >> np.uint64(31)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(29)
    shifts = np.arange(28, -1, -4, dtype=np.uint64)
    nibbles = ((x[:, None] >> shifts) & np.uint64(0xF)).astype(np.uint8)
    chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[nibbles]
    return pa.array(np.ascontiguousarray(chars).view("S8").ravel()).cast(pa.string())


def attributes(cols: Columns, seed: int, index: IntArray) -> pa.Array:
    """The JSON attributes of every event row, built column-wise."""
    n = len(cols["c"])
    parts: list[pa.Array] = []
    rows: list[IntArray] = []
    customer = index[cols["c"]]
    for kind in EventKind:
        r = np.flatnonzero(cols["kind"] == _E[kind])
        if len(r) == 0:
            continue
        if kind == EventKind.DEVICE_CHANGE:
            old = device_labels(seed, customer[r], cols["dev"][r])
            new = device_labels(seed, customer[r], cols["dev2"][r])
            text = pc.binary_join_element_wise(
                '{"old_device_id":"', old, '","new_device_id":"', new, '"}', ""
            )
        else:
            head, mid, values = _AUX[kind]
            value = pa.array(values, pa.string()).take(pa.array(cols["aux"][r].astype(np.int64)))
            if mid:
                dev = device_labels(seed, customer[r], cols["dev"][r])
                text = pc.binary_join_element_wise(head, dev, mid, value, '"}', "")
            else:
                text = pc.binary_join_element_wise(head, value, '"}', "")
        # Large inputs may come back chunked from the compute kernels.
        parts.append(text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text)
        rows.append(r)
    if not parts:
        return pa.array([], pa.string())
    stacked = pa.concat_arrays(parts)
    where = np.concatenate(rows)
    inverse = np.empty(n, dtype=np.int64)
    inverse[where] = np.arange(n)
    return stacked.take(pa.array(inverse))
