"""Instant warnings: the rule signals one customer's online indicators can answer, graded.

The batch run's signals and thresholds, evaluated for the customers of one batch of events:
every `indicator` signal (a formula over indicator values, e.g. `regulator_complaint_count`
or the fraud pattern) whose indicators are online and whose rule has fixed limits, and the
complaint `surge` signal, fed with weekly complaint counts kept by the online state. The
scores go through `crew.signals.detect` and `crew.grading.levels.grade`, as in `crew run`.

Left to the scheduled run, with the reason in `OnlineSignals.left_out`: signals against a
customer's 26-week baseline (series drops), those ranking customers against each other
(quadrant, isolation forest, quantile and k-sigma limits) and the churn model.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from crew.alerts.rows import signal_rows
from crew.grading.levels import grade
from crew.grading.thresholds import Method, ThresholdRule
from crew.indicators.catalog import Aggregate, Catalog, Direction, IndicatorDef, Label
from crew.indicators.online import OnlinePlan, compile_online
from crew.indicators.online_state import OnlineState, instant
from crew.signals.detect import detect_signals, indicator_names
from crew.signals.specs import Detector, SignalSpec
from crew.store.series import SERIES, WeeklySeries
from crew.types import RiskType

COMPLAINTS_WINDOW = "stream_weekly_complaints"
"""The online aggregate keeping complaint timestamps for the surge signal's weekly counts."""
_WEEK_S = 604_800


@dataclass(frozen=True)
class OnlineSignals:
    """Signals evaluated on each batch, their rules, and those left to the scheduled run."""

    specs: tuple[SignalSpec, ...]
    rules: dict[str, ThresholdRule]
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def surge_weeks(self) -> int:
        """Weeks of complaint counts the surge signals read (0 without one)."""
        return max((s.recent_weeks for s in self.specs if s.detector == Detector.SURGE), default=0)

    def indicators(self) -> list[str]:
        """Indicators the signals read, as scores or as evidence."""
        names: set[str] = set()
        for spec in self.specs:
            if spec.score is not None:
                names |= indicator_names(spec.score)
            names |= set(spec.evidence)
        return sorted(names)


def online_signals(
    specs: list[SignalSpec], rules: dict[str, ThresholdRule], supported: set[str]
) -> OnlineSignals:
    """Which of `specs` can be evaluated from online indicators (`supported`), and why not."""
    chosen: list[SignalSpec] = []
    left_out: dict[str, str] = {}
    for spec in specs:
        rule = rules.get(spec.name)
        if rule is None:
            left_out[spec.name] = "it has no threshold rule"
        elif rule.method != Method.FIXED:
            left_out[spec.name] = f"its {rule.method.value} limits compare customers in a run"
        elif spec.detector == Detector.SURGE and spec.measure == "complaints":
            chosen.append(spec)
        elif spec.detector != Detector.INDICATOR:
            left_out[spec.name] = f"its {spec.detector.value} detector needs the scheduled run"
        elif missing := sorted((indicator_names(str(spec.score)) | set(spec.evidence)) - supported):
            left_out[spec.name] = f"{missing[0]} is not an online indicator"
        else:
            chosen.append(spec)
    chosen_rules = {s.name: rules[s.name] for s in chosen}
    return OnlineSignals(tuple(chosen), chosen_rules, left_out)


def complaints_window(weeks: int) -> IndicatorDef:
    """The online aggregate behind weekly complaint counts (`crew.store.series`' measure)."""
    return IndicatorDef(
        id=COMPLAINTS_WINDOW,
        dimension="complaints",
        label=Label(en="Complaints (weekly series)", zh="投诉（周序列）"),
        description="Complaint timestamps for the surge signal.",
        direction=Direction.NEUTRAL,
        unit="count",
        output=False,
        source="interactions",
        aggregate=Aggregate.COUNT,
        where="kind = 'complaint'",
        window=f"{7 * max(weeks, 1)}d",
    )


class Monitor:
    """Online plan plus online signals: warnings for some customers at one instant."""

    def __init__(self, catalog: Catalog, specs: list[SignalSpec], rules: dict[str, ThresholdRule]):
        base = compile_online(catalog)
        self.signals = online_signals(specs, rules, set(base.order))
        weeks = self.signals.surge_weeks
        self.plan: OnlinePlan = (
            compile_online(catalog, extra=[complaints_window(weeks)]) if weeks else base
        )
        self.catalog = catalog
        self._shown: dict[RiskType, list[str]] = {}  # indicators read, per risk type
        self._triggers: dict[str, set[RiskType]] = {}  # aggregate -> risk types it can move
        aggregates = set(self.plan.aggregates)
        for spec in self.signals.specs:
            scored = (
                {COMPLAINTS_WINDOW}
                if spec.detector == Detector.SURGE
                else indicator_names(str(spec.score))
            )
            for name in self.plan.needed_for(sorted(scored)) & aggregates:
                self._triggers.setdefault(name, set()).add(spec.risk_type)
            shown = self._shown.setdefault(spec.risk_type, [])
            shown += [n for n in OnlineSignals((spec,), {}).indicators() if n not in shown]

    def risk_types(self, changed: Iterable[str]) -> set[RiskType]:
        """Risk types whose online signals read one of the `changed` aggregates."""
        return set().union(*(self._triggers.get(name, ()) for name in changed))

    def warnings(
        self, state: OnlineState, customers: Mapping[str, Collection[RiskType]], at: int
    ) -> pd.DataFrame:
        """One row per customer and risk type with a level (only the risk types given for
        each customer are graded): as `crew run` builds them."""
        customers = {c: set(types) for c, types in customers.items() if types}
        if not customers:
            return pd.DataFrame()
        ids = sorted(customers)
        types = set().union(*customers.values())
        specs = [s for s in self.signals.specs if s.risk_type in types]
        features = self.features(state, {c: customers[c] for c in ids}, at)
        surge = any(s.detector == Detector.SURGE for s in specs)
        series = self._series(state, ids, at) if surge else None
        signals = detect_signals(specs, features, series, self.catalog)
        # A customer is graded on the risk types its events moved, not on the others.
        scores = signals.scores.copy()
        for spec in specs:
            judged = np.array([spec.risk_type in customers[c] for c in ids], dtype=bool)
            scores[spec.name] = scores[spec.name].where(judged)
        signals = replace(signals, scores=scores)
        graded = grade(signals, self.signals.rules, pd.DataFrame()).rows
        if graded.empty:
            return graded
        return signal_rows(graded, signals)

    def features(
        self, state: OnlineState, customers: Mapping[str, Collection[RiskType]], at: int
    ) -> pd.DataFrame:
        """Indicators the customers' risk types read, at `at`: one row each (NaN for NULL)."""
        columns: list[str] = []
        records = []
        for customer, types in customers.items():
            wanted = {n for t in types for n in self._shown.get(t, ())}
            values = state.values(customer, at, wanted)
            records.append({n: _number(values.get(n)) for n in wanted})
            columns += [n for n in sorted(wanted) if n not in columns]
        index = pd.Index(list(customers), name="customer_id")
        return pd.DataFrame.from_records(records, index=index).reindex(columns=columns)

    def _series(self, state: OnlineState, customers: list[str], at: int) -> WeeklySeries | None:
        weeks = self.signals.surge_weeks
        if not weeks:
            return None
        values = np.zeros((len(SERIES), len(customers), weeks), dtype=np.float32)
        complaints = values[SERIES.index("complaints")]
        for i, customer in enumerate(customers):
            for ts in state.window(customer, COMPLAINTS_WINDOW, at):
                # The batch's week number, in its arithmetic (`crew.store.series`).
                week = weeks - 1 - math.floor((at / 1e6 - ts / 1e6) / _WEEK_S)
                complaints[i, week] += 1
        observed = np.ones((len(customers), weeks), dtype=bool)
        ids = np.asarray(customers, dtype=object)
        return WeeklySeries(instant(at), ids, values, observed)


def _number(value: object) -> float:
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]


__all__ = ["COMPLAINTS_WINDOW", "Monitor", "OnlineSignals", "complaints_window", "online_signals"]
