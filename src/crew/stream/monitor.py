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

import ast
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import CodeType

import numpy as np
import numpy.typing as npt
import pandas as pd

from crew.alerts.rows import signal_rows
from crew.grading.levels import grade
from crew.grading.thresholds import Method, ThresholdRule
from crew.indicators.catalog import Aggregate, Catalog, Direction, IndicatorDef, Label
from crew.indicators.online import OnlinePlan, compile_online
from crew.indicators.online_state import OnlineState, instant
from crew.signals.detect import detect_signals, indicator_names
from crew.signals.specs import Detector, SignalSpec
from crew.signals.surge import exponential_surge
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
        self.screen = Screen(self.signals)
        self._cooldown_days: dict[str, int] = {}  # risk type -> longest cooldown of its rules
        for spec in self.signals.specs:
            days = self.signals.rules[spec.name].cooldown_days
            risk_type = spec.risk_type.value
            self._cooldown_days[risk_type] = max(self._cooldown_days.get(risk_type, 0), days)

    def risk_types(self, changed: Iterable[str]) -> set[RiskType]:
        """Risk types whose online signals read one of the `changed` aggregates."""
        return set().union(*(self._triggers.get(name, ()) for name in changed))

    def warnings(
        self, state: OnlineState, customers: Mapping[str, Collection[RiskType]], at: int
    ) -> pd.DataFrame:
        """One row per customer and risk type with a level (only the risk types given for
        each customer are graded): as `crew run` builds them.

        Customers none of whose signals can reach a LOW limit are screened out first (see
        `Screen`), so that a batch where nothing is near a limit costs no pandas work.
        """
        moved = {c: set(types) for c, types in customers.items() if types}
        values = {c: self._values(state, c, types, at) for c, types in moved.items()}
        kept: dict[str, set[RiskType]] = {}
        possible: set[str] = set()
        for c, types in moved.items():
            firing = self.screen.may_fire(values[c], types, self._weekly(state, c, at))
            if firing:
                kept[c] = types
                possible |= firing
        # Signals no kept customer can fire change no level, reason or evidence: skipped.
        return self._graded(state, kept, values, at, possible)

    def graded_unscreened(
        self, state: OnlineState, customers: Mapping[str, Collection[RiskType]], at: int
    ) -> pd.DataFrame:
        """`warnings` without the screen (what the screen is tested against)."""
        moved = {c: set(types) for c, types in customers.items() if types}
        values = {c: self._values(state, c, types, at) for c, types in moved.items()}
        return self._graded(state, moved, values, at)

    def _graded(
        self,
        state: OnlineState,
        customers: Mapping[str, set[RiskType]],
        values: Mapping[str, dict[str, float]],
        at: int,
        possible: Collection[str] | None = None,
    ) -> pd.DataFrame:
        if not customers:
            return pd.DataFrame()
        ids = sorted(customers)
        types = set().union(*customers.values())
        specs = [
            s
            for s in self.signals.specs
            if s.risk_type in types and (possible is None or s.name in possible)
        ]
        features = self._frame({c: values[c] for c in ids})
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
        if possible is not None:  # as if every signal of the type had been graded
            graded["cooldown_days"] = graded["risk_type"].map(self._cooldown_days)
        return signal_rows(graded, signals)

    def features(
        self, state: OnlineState, customers: Mapping[str, Collection[RiskType]], at: int
    ) -> pd.DataFrame:
        """Indicators the customers' risk types read, at `at`: one row each (NaN for NULL)."""
        return self._frame({c: self._values(state, c, t, at) for c, t in customers.items()})

    def _values(
        self, state: OnlineState, customer: str, types: Collection[RiskType], at: int
    ) -> dict[str, float]:
        wanted = {n for t in types for n in self._shown.get(t, ())}
        found = state.values(customer, at, wanted)
        return {n: _number(found.get(n)) for n in sorted(wanted)}

    @staticmethod
    def _frame(values: Mapping[str, dict[str, float]]) -> pd.DataFrame:
        columns: list[str] = []
        for row in values.values():
            columns += [n for n in row if n not in columns]
        index = pd.Index(list(values), name="customer_id")
        return pd.DataFrame.from_records(list(values.values()), index=index).reindex(
            columns=columns
        )

    def _weekly(self, state: OnlineState, customer: str, at: int) -> npt.NDArray[np.float32]:
        """The customer's complaints per week, oldest first, in `crew.store.series`' weeks."""
        weeks = self.signals.surge_weeks
        counts = np.zeros(weeks, dtype=np.float32)
        if weeks:
            for ts in state.window(customer, COMPLAINTS_WINDOW, at):
                counts[weeks - 1 - math.floor((at / 1e6 - ts / 1e6) / _WEEK_S)] += 1
        return counts

    def _series(self, state: OnlineState, customers: list[str], at: int) -> WeeklySeries | None:
        weeks = self.signals.surge_weeks
        if not weeks:
            return None
        values = np.zeros((len(SERIES), len(customers), weeks), dtype=np.float32)
        complaints = values[SERIES.index("complaints")]
        for i, customer in enumerate(customers):
            complaints[i] = self._weekly(state, customer, at)
        observed = np.ones((len(customers), weeks), dtype=bool)
        ids = np.asarray(customers, dtype=object)
        return WeeklySeries(instant(at), ids, values, observed)


class Screen:
    """A quick, conservative test that a customer's signals may reach a LOW limit.

    Every online rule has fixed limits (`online_signals`), so a customer can only be warned
    if one of its signals scores at least the lowest limit of that signal's rule. The screen
    evaluates each indicator signal's formula on plain floats (IEEE arithmetic as in pandas;
    a division by zero or any other error keeps the customer) and fits the complaint surge on
    the customer's own weekly counts (`exponential_surge`, as the batch does). A customer it
    lets through is then
    graded exactly as `crew run` would; one it drops could not have been warned.
    """

    def __init__(self, signals: OnlineSignals) -> None:
        self._indicator: list[tuple[str, RiskType, CodeType, float]] = []
        self._surge: list[tuple[str, RiskType, int, int, float]] = []
        for spec in signals.specs:
            limits = [v for v in signals.rules[spec.name].limits if v is not None]
            floor = min(limits, default=math.inf)
            if spec.detector == Detector.SURGE:
                self._surge.append(
                    (spec.name, spec.risk_type, spec.recent_weeks, spec.min_total, floor)
                )
            else:
                tree = ast.parse(str(spec.score), mode="eval")
                code = compile(tree, f"<signal {spec.name}>", "eval")
                self._indicator.append((spec.name, spec.risk_type, code, floor))

    def may_warn(
        self,
        values: Mapping[str, float],
        types: Collection[RiskType],
        weekly: npt.NDArray[np.float32],
    ) -> bool:
        """Whether a customer with indicator `values` and `weekly` complaint counts could be
        warned on one of `types`."""
        return bool(self.may_fire(values, types, weekly))

    def may_fire(
        self,
        values: Mapping[str, float],
        types: Collection[RiskType],
        weekly: npt.NDArray[np.float32],
    ) -> set[str]:
        """The signals of `types` that may reach their LOW limit for this customer."""
        firing: set[str] = set()
        for name, risk_type, code, floor in self._indicator:
            if risk_type not in types:
                continue
            try:
                # Safe: the formula passed `indicator_names` when the specs were loaded.
                score = float(eval(code, {"__builtins__": {}}, dict(values)))
            except Exception:  # an unusual value: let the full path judge
                firing.add(name)
                continue
            if score >= floor:
                firing.add(name)
        for name, risk_type, recent, min_total, floor in self._surge:
            if risk_type not in types or floor == math.inf or weekly.sum() < min_total:
                continue
            fit = exponential_surge(weekly[None, -recent:], min_total=min_total)
            if bool(fit.fitted[0]) and float(fit.z[0]) >= floor:
                firing.add(name)
        return firing


def _number(value: object) -> float:
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]


__all__ = [
    "COMPLAINTS_WINDOW",
    "Monitor",
    "OnlineSignals",
    "Screen",
    "complaints_window",
    "online_signals",
]
