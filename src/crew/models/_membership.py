"""Fuzzy building blocks: comment set (评语集), membership functions, composition operators.

A comment set lists the risk grades, safest first. Each indicator gets one membership
degree per grade from its *breakpoints*: values on the indicator's own scale, ordered from
safest to riskiest, that mark where one grade hands over to the next. The degrees of one
value always sum to 1, and at most two neighbouring grades are non-zero. Composition
operators turn weights and membership rows into one vector; the maximum membership
principle picks its grade. `crew.models.fuzzy` puts them together; docs/fuzzy.md explains.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from itertools import pairwise
from typing import Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crew.indicators.catalog import Direction, Label
from crew.types import Level

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
ArrayLike = FloatArray | float
_TIE = 1e-9  # degrees this close to the maximum count as tied for the maximum

_SEVERITY = {Level.NONE: 0, Level.LOW: 1, Level.MEDIUM: 2, Level.HIGH: 3}


class Grade(BaseModel):
    """One grade of the comment set: a name, labels, a 0-100 score and a warning level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="snake_case id: low, high.")
    label: Label = Field(description="Label in English and Chinese.")
    score: float = Field(ge=0, le=100, description="Risk index of full membership (0-100).")
    level: Level = Field(description="Warning level when this grade has maximum membership.")


def _grade(name: str, en: str, zh: str, score: float, level: Level) -> Grade:
    return Grade(name=name, label=Label(en=en, zh=zh), score=score, level=level)


DEFAULT_COMMENT_SETS: dict[int, tuple[Grade, ...]] = {
    3: (
        _grade("low", "Low risk", "低风险", 0.0, Level.LOW),
        _grade("medium", "Medium risk", "中风险", 50.0, Level.MEDIUM),
        _grade("high", "High risk", "高风险", 100.0, Level.HIGH),
    ),
    4: (
        _grade("very_low", "Very low risk", "很低风险", 0.0, Level.NONE),
        _grade("low", "Low risk", "低风险", 100 / 3, Level.LOW),
        _grade("medium", "Medium risk", "中风险", 200 / 3, Level.MEDIUM),
        _grade("high", "High risk", "高风险", 100.0, Level.HIGH),
    ),
    5: (
        _grade("very_low", "Very low risk", "很低风险", 0.0, Level.NONE),
        _grade("low", "Low risk", "较低风险", 25.0, Level.LOW),
        _grade("medium", "Medium risk", "中等风险", 50.0, Level.MEDIUM),
        _grade("high", "High risk", "较高风险", 75.0, Level.HIGH),
        _grade("very_high", "Very high risk", "很高风险", 100.0, Level.HIGH),
    ),
}

#: Fitted breakpoints: quantiles of the training values on the risk scale, per grade count.
#: 3 grades: low up to the median, medium full from the 75th to the 90th percentile,
#: high from the 97.5th percentile on.
DEFAULT_QUANTILES: dict[int, tuple[float, ...]] = {
    3: (0.5, 0.75, 0.9, 0.975),
    4: (0.4, 0.55, 0.65, 0.8, 0.9, 0.975),
    5: (0.3, 0.45, 0.55, 0.7, 0.8, 0.9, 0.95, 0.99),
}


def comment_set(grades: int = 3) -> tuple[Grade, ...]:
    """The default comment set (评语集) with 3, 4 or 5 grades, safest first.

    >>> [(g.name, g.label.zh, g.score, g.level.value) for g in comment_set(3)][1:]
    [('medium', '中风险', 50.0, 'medium'), ('high', '高风险', 100.0, 'high')]
    >>> [g.level.value for g in comment_set(5)]
    ['none', 'low', 'medium', 'high', 'high']
    """
    if grades not in DEFAULT_COMMENT_SETS:
        raise ValueError(f"a default comment set has 3, 4 or 5 grades, not {grades}")
    return DEFAULT_COMMENT_SETS[grades]


def check_comment_set(grades: tuple[Grade, ...]) -> tuple[Grade, ...]:
    """`grades` when they form a valid comment set; ValueError saying what is wrong."""
    if not 3 <= len(grades) <= 5:
        raise ValueError(f"a comment set has 3 to 5 grades, not {len(grades)}")
    names = [g.name for g in grades]
    if len(set(names)) != len(names):
        raise ValueError(f"grade names repeat: {names}")
    scores = [g.score for g in grades]
    if any(b <= a for a, b in pairwise(scores)):
        raise ValueError(f"grade scores must increase from safest to riskiest: {scores}")
    severity = [_SEVERITY[g.level] for g in grades]
    if any(b < a for a, b in pairwise(severity)):
        raise ValueError("grade levels must not get milder from safest to riskiest")
    return grades


def point_count_ok(points: int, grades: int) -> bool:
    """True when `points` breakpoints fit `grades` grades: m peaks or 2(m-1) shoulders.

    >>> point_count_ok(4, 3), point_count_ok(3, 3), point_count_ok(5, 3)
    (True, True, False)
    """
    return points in (grades, 2 * (grades - 1))


def shoulders(points: FloatArray, grades: int) -> FloatArray:
    """Breakpoints in shoulder form [a1, b1, ..., a(m-1), b(m-1)]: grade k-1 hands over
    to grade k between a_k and b_k. m peaks c0..c(m-1) become [c0, c1, c1, c2, ...].

    >>> shoulders(np.array([0.0, 2.0, 5.0]), 3).tolist()
    [0.0, 2.0, 2.0, 5.0]
    """
    if len(points) == 2 * (grades - 1):
        return points
    if len(points) != grades:
        raise ValueError(f"{len(points)} breakpoints do not fit {grades} grades")
    return np.repeat(points, 2)[1:-1]


def _rise(
    x: FloatArray, a: FloatArray | float, b: FloatArray | float, out: FloatArray | None = None
) -> FloatArray:
    """0 at or below a, 1 at or above b, linear between; a vertical edge (a == b) is 1
    only strictly above a, so a value exactly at a crisp cut stays on the safer side.
    NaN handling is the caller's."""
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    width = b_arr - a_arr
    flat = width <= 0
    ramp: FloatArray = np.subtract(x, a_arr, out=out)
    ramp /= np.where(flat, 1.0, width)
    np.clip(ramp, 0.0, 1.0, out=ramp)
    if np.any(flat):
        np.copyto(ramp, x > a_arr, where=np.broadcast_to(flat, ramp.shape))
    return ramp


def trapezoidal(x: ArrayLike, a: float, b: float, c: float, d: float) -> FloatArray:
    """Trapezoidal membership: rises on [a, b], 1 on [b, c], falls on [c, d].

    A vertical edge keeps the cut value on the left (safer) side: with a == b the degree
    at a is 0, with c == d the degree at d is 1. NaN stays NaN.

    >>> trapezoidal(np.array([0.0, 1.5, 2.0, 4.0, 5.0, 6.0]), 1, 2, 4, 6).tolist()
    [0.0, 0.5, 1.0, 1.0, 0.5, 0.0]
    >>> trapezoidal(np.array([1.0, 1.1, 2.0, 2.1, np.nan]), 1, 1, 2, 2).tolist()
    [0.0, 1.0, 1.0, 0.0, nan]
    """
    if not a <= b <= c <= d:
        raise ValueError(f"trapezoid corners must not decrease: {a}, {b}, {c}, {d}")
    xs = np.asarray(x, dtype=float)
    degrees = np.minimum(_rise(xs, a, b), 1.0 - _rise(xs, c, d))
    return np.where(np.isnan(xs), np.nan, degrees)


def triangular(x: ArrayLike, a: float, b: float, c: float) -> FloatArray:
    """Triangular membership: 0 at a, 1 at the peak b, 0 at c (a trapezoid with b == c).

    >>> triangular(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 0, 2, 4).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return trapezoidal(x, a, b, b, c)


def grade_memberships(risk: FloatArray, edges: FloatArray) -> FloatArray:
    """Degrees of every grade for values on the risk scale (higher is riskier).

    `risk` has any shape S; `edges` has shape (..., 2(m-1)) in shoulder form and
    broadcasts against S. The result has shape S + (m,): grade k is the trapezoid
    (a_k, b_k, a_(k+1), b_(k+1)), the first grade open to the left, the last to the right,
    so the degrees sum to 1; NaN values give NaN rows.

    >>> grade_memberships(np.array([0.0, 0.5, 2.0, 4.5, 9.0]), np.array([0, 1, 3, 6.0])).round(2)
    array([[1. , 0. , 0. ],
           [0.5, 0.5, 0. ],
           [0. , 1. , 0. ],
           [0. , 0.5, 0.5],
           [0. , 0. , 1. ]])
    """
    degrees = np.moveaxis(grade_major_memberships(risk, edges), 0, -1)
    degrees[np.isnan(np.broadcast_to(risk, degrees.shape[:-1]))] = np.nan
    return degrees


def grade_major_memberships(risk: FloatArray, edges: FloatArray) -> FloatArray:
    """`grade_memberships` laid out grade first, shape (m,) + S, without NaN handling:
    each grade's degrees are contiguous, which keeps composition over many rows fast."""
    lo, hi = edges[..., 0::2], edges[..., 1::2]
    m = lo.shape[-1] + 1
    out = np.empty((m, *np.broadcast_shapes(risk.shape, lo.shape[:-1])))
    # out[k] first holds the degree of "grade k or riskier", which falls with k; each
    # grade's own degree is then the drop from its step to the next one
    for k in range(1, m):
        _rise(risk, lo[..., k - 1], hi[..., k - 1], out=out[k])
    np.subtract(1.0, out[1], out=out[0])
    for k in range(1, m - 1):
        out[k] -= out[k + 1]
    return out


def direction_sign(direction: Direction) -> float:
    """+1 when higher values are riskier, -1 when lower values are riskier."""
    if direction == Direction.NEUTRAL:
        raise ValueError("a neutral indicator has no risk direction")
    return 1.0 if direction == Direction.HIGHER_IS_RISKIER else -1.0


class IndicatorMembership(BaseModel):
    """Configured breakpoints of one indicator: ``{indicator: x, breakpoints: [0, 1, 3, 6]}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator: str = Field(description="Catalog id of the indicator.")
    breakpoints: tuple[float, ...] = Field(
        min_length=2,
        description="Values from safest to riskiest (ascending when higher is riskier, "
        "descending when lower is riskier): m grade peaks, or 2(m-1) shoulders "
        "[a1, b1, a2, b2, ...] where grade k-1 hands over to grade k between a_k and b_k.",
    )
    direction: Direction | None = Field(
        default=None,
        description="Override of the catalog direction; required for a neutral indicator.",
    )


class MembershipParams(BaseModel):
    """Breakpoints of one indicator, from config or fitted; JSON-ready via to_dict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator: str = Field(description="Catalog id of the indicator.")
    direction: Direction = Field(
        description="Which way points to risk (catalog direction unless overridden)."
    )
    breakpoints: tuple[float, ...] = Field(
        description="Values from safest to riskiest: m peaks or 2(m-1) shoulders."
    )
    source: Literal["config", "quantiles"] = Field(description="Where the breakpoints came from.")

    @field_validator("direction")
    @classmethod
    def _not_neutral(cls, value: Direction) -> Direction:
        if value == Direction.NEUTRAL:
            raise ValueError("a neutral indicator needs a direction to be graded")
        return value

    @field_validator("breakpoints")
    @classmethod
    def _finite(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not all(np.isfinite(value)):
            raise ValueError(f"breakpoints must be finite numbers: {list(value)}")
        return value

    @model_validator(mode="after")
    def _safest_first(self) -> Self:
        risk = self.risk_points()
        if np.any(np.diff(risk) < 0):
            way = "ascend" if self.direction == Direction.HIGHER_IS_RISKIER else "descend"
            raise ValueError(
                f"breakpoints of '{self.indicator}' ({self.direction.value}) go from safest "
                f"to riskiest, so they must {way}: {list(self.breakpoints)}"
            )
        return self

    def risk_points(self) -> FloatArray:
        """Breakpoints on the risk scale (value x direction sign), ascending."""
        return np.asarray(self.breakpoints, dtype=float) * direction_sign(self.direction)

    def memberships(self, values: FloatArray, grades: int) -> FloatArray:
        """Grade degrees of `values` (shape (n, m)); NaN rows where a value is missing.

        >>> p = MembershipParams(indicator="nps_latest", direction="lower_is_riskier",
        ...                      breakpoints=(8, 6, 4, 2), source="config")
        >>> p.memberships(np.array([9.0, 6.4, 1.0]), 3).round(2).tolist()
        [[1.0, 0.0, 0.0], [0.2, 0.8, 0.0], [0.0, 0.0, 1.0]]
        """
        edges = shoulders(self.risk_points(), grades)
        return grade_memberships(values * direction_sign(self.direction), edges)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> MembershipParams:
        """Back from `to_dict`."""
        return cls.model_validate(raw)


def fit_breakpoints(
    values: FloatArray, direction: Direction, quantiles: tuple[float, ...]
) -> tuple[float, ...] | None:
    """Breakpoints at `quantiles` of the finite values on the risk scale, safest first;
    None when there is no finite value. Ties are kept: they become crisp cuts.

    >>> fit_breakpoints(np.array([0.0] * 95 + [1.0] * 4 + [3.0]), Direction.HIGHER_IS_RISKIER,
    ...                 (0.5, 0.75, 0.9, 0.975))
    (0.0, 0.0, 0.0, 1.0)
    >>> fit_breakpoints(np.arange(11.0), Direction.LOWER_IS_RISKIER, (0.5, 0.9))
    (5.0, 1.0)
    """
    sign = direction_sign(direction)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    risk = np.quantile(finite * sign, quantiles)
    risk = np.maximum.accumulate(risk)  # guard against rounding making a step go down
    return tuple(float(v) for v in risk * sign + 0.0)


class CompositionOperator(StrEnum):
    """How weights and membership rows are composed into one vector (合成算子)."""

    WEIGHTED_AVERAGE = "weighted_average"  # M(·,⊕): b_k = sum_j w_j r_jk
    MAX_MIN = "max_min"  # M(∧,∨): b_k = max_j min(w_j, r_jk), then normalised


def compose(
    weights: FloatArray, memberships: FloatArray, operator: CompositionOperator
) -> FloatArray:
    """Compose weights (..., J) with membership rows (..., J, m) into a vector normalised to
    sum 1 (NaN when nothing carries weight).

    >>> r = np.array([[0.0, 0.6, 0.4], [0.5, 0.5, 0.0]])
    >>> compose(np.array([0.7, 0.3]), r, CompositionOperator.WEIGHTED_AVERAGE).round(4).tolist()
    [0.15, 0.57, 0.28]
    >>> compose(np.array([0.7, 0.3]), r, CompositionOperator.MAX_MIN).round(4).tolist()
    [0.2308, 0.4615, 0.3077]
    """
    raw, _ = compose_raw(weights, np.moveaxis(memberships, -1, 0), operator)
    return np.moveaxis(normalised_vectors(raw), 0, -1)


def compose_raw(
    weights: FloatArray, degrees: FloatArray, operator: CompositionOperator
) -> tuple[FloatArray, IntArray | None]:
    """Unnormalised composition of weights (..., J) with grade-major degrees (m, ..., J),
    shape (m, ...); for max-min also which row j gave each grade its degree."""
    if operator == CompositionOperator.WEIGHTED_AVERAGE:
        raw: FloatArray = np.stack([np.einsum("...j,...j->...", weights, d) for d in degrees])
        return raw, None
    cut = np.minimum(weights, degrees)
    source: IntArray = cut.argmax(axis=-1)
    return np.take_along_axis(cut, source[..., None], axis=-1)[..., 0], source


def normalised_vectors(raw: FloatArray) -> FloatArray:
    """Grade-major vectors (m, ...) scaled to sum 1 over the grades; NaN where all are 0."""
    total = raw.sum(axis=0)
    out: FloatArray = np.divide(raw, total, out=np.full_like(raw, np.nan), where=total > 0)
    return out


def max_membership(vectors: FloatArray) -> IntArray:
    """Grade with the maximum membership per row; a tie goes to the riskier grade.

    >>> max_membership(np.array([[0.3, 0.5, 0.2], [0.4, 0.4, 0.2]])).tolist()
    [1, 1]
    """
    tied = vectors >= vectors.max(axis=-1, keepdims=True) - _TIE
    last: IntArray = np.argmax(tied[..., ::-1], axis=-1)
    codes: IntArray = vectors.shape[-1] - 1 - last
    return codes


__all__ = [
    "DEFAULT_COMMENT_SETS",
    "DEFAULT_QUANTILES",
    "CompositionOperator",
    "Grade",
    "IndicatorMembership",
    "MembershipParams",
    "check_comment_set",
    "comment_set",
    "compose",
    "compose_raw",
    "direction_sign",
    "fit_breakpoints",
    "grade_major_memberships",
    "grade_memberships",
    "max_membership",
    "normalised_vectors",
    "point_count_ok",
    "shoulders",
    "trapezoidal",
    "triangular",
]
