"""Fuzzy comprehensive evaluation (模糊综合评价法): indicators -> dimensions -> overall grade.

Each indicator value gets degrees of membership in the grades of a comment set (评语集,
low / medium / high risk by default). Within a dimension the indicators' membership rows
are composed with their local weights (B = W·R), then the dimension vectors are composed
with the dimension weights into one overall vector per customer. The level follows the
maximum membership principle (最大隶属度原则); the 0-100 risk index is the membership-weighted
mean of the grade scores. docs/fuzzy.md describes the method with a worked example.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crew.errors import (
    ConfigError,
    InsufficientDataError,
    ModelNotTrainedError,
    StaleDataError,
)
from crew.indicators.catalog import Catalog, Direction
from crew.indicators.weights import DIMENSIONS_SCOPE, local_scope
from crew.models._membership import (
    CompositionOperator,
    FloatArray,
    Grade,
    IndicatorMembership,
    MembershipParams,
    comment_set,
    compose,
    compose_raw,
    fit_breakpoints,
    grade_major_memberships,
    grade_memberships,
    max_membership,
    normalised_vectors,
    point_count_ok,
    shoulders,
    trapezoidal,
    triangular,
)
from crew.models.fuzzy_settings import FuzzySettings, _config_error, parse_fuzzy_settings

FORMAT = "crew.fuzzy/1"


def weights_from_scopes(
    scopes: Mapping[str, Mapping[str, float]],
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Dimension weights and local indicator weights from a stored weight set's scopes
    (``dimensions`` and ``indicators:<dimension>``, as `AhpHierarchy.scopes()` gives them).

    >>> weights_from_scopes({"dimensions": {"trust": 1.0}, "indicators:trust": {"nps": 1.0}})
    ({'trust': 1.0}, {'trust': {'nps': 1.0}})
    """
    if DIMENSIONS_SCOPE not in scopes:
        raise ConfigError("The weight set has no dimension weights (scope 'dimensions').")
    dims = dict(scopes[DIMENSIONS_SCOPE])
    local = {d: dict(scopes[local_scope(d)]) for d in dims if local_scope(d) in scopes}
    return dims, local


@dataclass(frozen=True)
class FuzzyResult:
    """Per customer (rows, same index as the values): vectors, level, index, explanations."""

    grades: tuple[Grade, ...]
    dimensions: tuple[str, ...]
    indicators: tuple[str, ...]
    indicator_dimensions: tuple[str, ...]  # dimension of each indicator, same order
    membership: pd.DataFrame  # overall vector B, one column per grade name
    level: pd.Series  # Level by maximum membership; None when nothing was observed
    risk_index: pd.Series  # 0-100: B · grade scores
    coverage: pd.Series  # share (0-1) of the global weight whose indicators were observed
    dimension_membership: FloatArray  # (customers, dimensions, grades); NaN = nothing seen
    dimension_scores: pd.DataFrame  # 0-100 per dimension
    dimension_coverage: pd.DataFrame  # share (0-1) of the local weight observed
    indicator_membership: FloatArray  # (customers, indicators, grades); NaN = missing
    indicator_scores: pd.DataFrame  # 0-100 per indicator: its row · grade scores
    weights: pd.DataFrame  # effective global weight after renormalisation (0 when missing)
    contributions: pd.DataFrame  # index points per indicator; a row sums to risk_index

    def frame(self) -> pd.DataFrame:
        """One row per customer: risk_index, level, coverage, grade degrees, dimension scores."""
        head = pd.DataFrame(
            {"risk_index": self.risk_index, "level": self.level, "coverage": self.coverage}
        )
        membership = self.membership.add_prefix("membership_")
        return head.join(membership).join(self.dimension_scores.add_prefix("score_"))

    def explain(self, customer: Hashable) -> pd.DataFrame:
        """One row per indicator of `customer`: dimension, degrees, score, weight and
        contribution, the largest contribution first and missing indicators last."""
        row = self.risk_index.index.get_loc(customer)
        if not isinstance(row, int):
            raise KeyError(f"customer {customer!r} appears more than once")
        names = [g.name for g in self.grades]
        table = pd.DataFrame(
            self.indicator_membership[row], index=list(self.indicators), columns=names
        )
        table.insert(0, "dimension", list(self.indicator_dimensions))
        table["score"] = self.indicator_scores.iloc[row]
        table["weight"] = self.weights.iloc[row]
        table["contribution"] = self.contributions.iloc[row]
        return table.sort_values("contribution", ascending=False, na_position="last")


class FuzzyEvaluator:
    """Two-level fuzzy comprehensive evaluation; fit sets the breakpoints and the weights."""

    name = "fuzzy"

    def __init__(self, settings: FuzzySettings | None = None) -> None:
        self.settings = settings if settings is not None else FuzzySettings()
        self.params_: dict[str, MembershipParams] | None = None
        self.dimension_weights_: dict[str, float] = {}
        self.local_weights_: dict[str, dict[str, float]] = {}

    def fit(
        self,
        values: pd.DataFrame,
        catalog: Catalog,
        dimension_weights: Mapping[str, float],
        local_weights: Mapping[str, Mapping[str, float]],
    ) -> Self:
        """Check and normalise the weights; fit the breakpoints the settings do not give."""
        dims = _normalised(dimension_weights, "dimension weights")
        local = {d: _local_weights(d, local_weights, catalog) for d in dims}
        configured = {m.indicator: (i, m) for i, m in enumerate(self.settings.memberships)}
        for ind in configured:
            catalog.get(ind)  # a typo is an error even for an indicator without weight
        params: dict[str, MembershipParams] = {}
        for ind in (i for w in local.values() for i in w):
            direction = catalog.get(ind).direction
            if ind in configured:
                params[ind] = _configured(*configured[ind], direction)
            else:
                params[ind] = self._fitted(ind, values, direction)
        self.params_, self.dimension_weights_, self.local_weights_ = params, dims, local
        return self

    def _fitted(self, ind: str, values: pd.DataFrame, direction: Direction) -> MembershipParams:
        if direction == Direction.NEUTRAL:
            raise ConfigError(
                f"Indicator '{ind}' is neutral: it has no risky side to fit breakpoints on.",
                hint="Give it breakpoints and a direction in the fuzzy settings, or drop it.",
            )
        points = fit_breakpoints(
            _columns(values, [ind])[:, 0], direction, self.settings.fit_quantiles
        )
        if points is None:
            raise InsufficientDataError(
                f"Indicator '{ind}' has no values to fit its breakpoints on.",
                hint="Give it breakpoints in the fuzzy settings, or drop its weight.",
            )
        return MembershipParams(
            indicator=ind, direction=direction, breakpoints=points, source="quantiles"
        )

    def evaluate(self, values: pd.DataFrame) -> FuzzyResult:
        """Membership vectors, levels, indices and contributions for every row of `values`."""
        return _evaluate(self.settings, self._fitted_state(), values)

    def _fitted_state(self) -> _Fitted:
        if self.params_ is None:
            raise ModelNotTrainedError(
                "The fuzzy evaluator has not been fitted.",
                hint="Call fit(...) first, or load fitted parameters with from_dict(...).",
            )
        return _Fitted(self.dimension_weights_, self.local_weights_, self.params_)

    def to_dict(self) -> dict[str, object]:
        """Settings, weights and breakpoints as JSON-ready data (see from_dict)."""
        state = self._fitted_state()
        return {
            "format": FORMAT,
            "settings": self.settings.model_dump(mode="json"),
            "dimension_weights": dict(state.dimension_weights),
            "local_weights": {d: dict(w) for d, w in state.local_weights.items()},
            "memberships": [p.to_dict() for p in state.params.values()],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, object], source: str = "fitted fuzzy model") -> Self:
        """A fitted evaluator back from `to_dict`; ConfigError naming `source` and field."""
        try:
            state = _Stored.model_validate(dict(raw))
        except ValidationError as exc:
            raise _config_error(exc, source) from None
        model = cls(state.settings)
        model.params_ = {p.indicator: p for p in state.memberships}
        model.dimension_weights_ = dict(state.dimension_weights)
        model.local_weights_ = {d: dict(w) for d, w in state.local_weights.items()}
        return model


@dataclass(frozen=True)
class _Fitted:
    dimension_weights: dict[str, float]
    local_weights: dict[str, dict[str, float]]
    params: dict[str, MembershipParams]


class _Stored(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = Field(pattern=f"^{FORMAT}$", description="Format tag of to_dict.")
    settings: FuzzySettings = Field(description="Settings the model was fitted with.")
    dimension_weights: dict[str, float] = Field(description="Normalised dimension weights.")
    local_weights: dict[str, dict[str, float]] = Field(description="Normalised local weights.")
    memberships: tuple[MembershipParams, ...] = Field(description="Breakpoints per indicator.")

    @model_validator(mode="after")
    def _complete(self) -> Self:
        have = {p.indicator for p in self.memberships}
        m = len(self.settings.grades)
        if set(self.local_weights) != set(self.dimension_weights):
            raise ValueError("dimension weights and local weights name different dimensions")
        for ind in (i for local in self.local_weights.values() for i in local):
            if ind not in have:
                raise ValueError(f"indicator '{ind}' has a weight but no breakpoints")
        for p in self.memberships:
            if not point_count_ok(len(p.breakpoints), m):
                raise ValueError(f"'{p.indicator}': {len(p.breakpoints)} breakpoints, {m} grades")
        return self


def _local_weights(
    dim: str, local_weights: Mapping[str, Mapping[str, float]], catalog: Catalog
) -> dict[str, float]:
    if dim not in catalog.dimensions:
        close = difflib.get_close_matches(dim, list(catalog.dimensions), n=1)
        raise ConfigError(
            f"The dimension weights name unknown dimension '{dim}'.",
            hint=(f"Did you mean '{close[0]}'? " if close else "")
            + f"Dimensions: {', '.join(catalog.dimensions)}.",
        )
    if dim not in local_weights:
        raise ConfigError(
            f"Dimension '{dim}' has a weight but no indicator weights.",
            hint=f"Give local weights (scope '{local_scope(dim)}') or drop the dimension.",
        )
    local = _normalised(local_weights[dim], f"indicator weights of '{dim}'")
    for ind in local:
        home = catalog.get(ind).dimension
        if home != dim:
            raise ConfigError(
                f"Indicator '{ind}' is weighted in dimension '{dim}' but the catalog puts "
                f"it in '{home}'.",
                hint="Move its weight to the dimension the catalog gives it.",
            )
    return local


def _configured(i: int, item: IndicatorMembership, direction: Direction) -> MembershipParams:
    where = f"fuzzy settings: memberships[{i}] (indicator '{item.indicator}')"
    direction = item.direction or direction
    if direction == Direction.NEUTRAL:
        raise ConfigError(
            f"{where}: the indicator is neutral in the catalog.",
            hint="Add direction: higher_is_riskier or lower_is_riskier.",
        )
    try:
        return MembershipParams(
            indicator=item.indicator,
            direction=direction,
            breakpoints=item.breakpoints,
            source="config",
        )
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ConfigError(
            f"{where}: {message}.", hint="docs/fuzzy.md explains breakpoints."
        ) from None


def _normalised(weights: Mapping[str, float], what: str) -> dict[str, float]:
    values = np.array(list(weights.values()), dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ConfigError(
            f"The {what} must be finite, non-negative and not empty: {dict(weights)}."
        )
    total = float(values.sum())
    if total <= 0:
        raise ConfigError(f"The {what} are all zero.", hint="Give one a positive weight.")
    return {k: float(v) / total for k, v in zip(weights, values, strict=True)}


def _columns(values: pd.DataFrame, names: list[str]) -> FloatArray:
    absent = [n for n in names if n not in values.columns]
    if absent:
        raise StaleDataError(
            f"The indicator values have no column {', '.join(map(repr, absent))}.",
            hint="Compute the indicators the weights name before the fuzzy evaluation.",
        )
    out: FloatArray = values[names].to_numpy(dtype=float, copy=True)
    return out


def _evaluate(settings: FuzzySettings, fitted: _Fitted, values: pd.DataFrame) -> FuzzyResult:
    grades, op = settings.grades, settings.operator
    m, scores = len(grades), np.array([g.score for g in grades])
    dims = tuple(fitted.dimension_weights)
    inds = tuple(i for d in dims for i in fitted.local_weights[d])
    bounds = np.cumsum([0, *(len(fitted.local_weights[d]) for d in dims)])
    dim_of = np.repeat(np.arange(len(dims)), np.diff(bounds))
    local = np.array([w for d in dims for w in fitted.local_weights[d].values()])
    dim_w = np.array([fitted.dimension_weights[d] for d in dims])
    x = _columns(values, list(inds))
    observed = ~np.isnan(x)
    params = [fitted.params[i] for i in inds]
    signs = np.array([1.0 if p.direction == Direction.HIGHER_IS_RISKIER else -1.0 for p in params])
    edges = np.stack([shoulders(p.risk_points(), m) for p in params])
    # missing values get the degrees of 0 here; their weight is 0, and they turn NaN below
    x *= signs
    x[~observed] = 0.0
    deg = grade_major_memberships(x, edges)  # (m, n, J)
    n = len(values)
    dim_raw = np.empty((m, n, len(dims)))
    dim_cov = np.empty((n, len(dims)))
    local_eff = np.zeros((n, len(inds)))  # local weights renormalised over what was observed
    ind_src = np.zeros((m, n, len(dims)), dtype=np.intp)  # max-min: indicator behind a degree
    for k, (lo, hi) in enumerate(pairwise(bounds)):
        w = local[lo:hi] * observed[:, lo:hi]
        cov = w.sum(axis=1, keepdims=True)
        np.divide(w, cov, out=local_eff[:, lo:hi], where=cov > 0)
        dim_raw[:, :, k], src = compose_raw(local_eff[:, lo:hi], deg[:, :, lo:hi], op)
        dim_cov[:, k] = cov[:, 0]
        if src is not None:
            ind_src[:, :, k] = lo + src
    dim_b = normalised_vectors(dim_raw)  # (m, n, D), NaN where nothing was observed
    dim_eff = np.where(dim_cov > 0, dim_w, 0.0)
    total = dim_eff.sum(axis=1, keepdims=True)
    dim_eff = np.divide(dim_eff, total, out=np.zeros_like(dim_eff), where=total > 0)
    overall_raw, dim_src = compose_raw(dim_eff, np.nan_to_num(dim_b, nan=0.0), op)
    overall = normalised_vectors(overall_raw).T  # (n, m)
    evidence = total[:, 0] > 0
    eff = local_eff  # becomes the effective global weight, dimension by dimension
    for k, (lo, hi) in enumerate(pairwise(bounds)):
        eff[:, lo:hi] *= dim_eff[:, k : k + 1]
    ind_scores = np.tensordot(scores, deg, axes=1)
    if dim_src is None:  # weighted average: index = sum of weight x indicator score
        contrib = eff * ind_scores
    else:  # max-min: a grade's share of the index goes to the indicator behind its degree
        rows, n_ind = np.arange(n), len(inds)
        flat = np.zeros(n * n_ind)
        for g in range(m):
            at = rows * n_ind + ind_src[g, rows, dim_src[g]]
            flat += np.bincount(at, np.nan_to_num(overall[:, g]) * scores[g], n * n_ind)
        contrib = flat.reshape(n, n_ind)
    contrib[~(observed & evidence[:, None])] = np.nan
    ind_scores[~observed] = np.nan
    deg[:, ~observed] = np.nan
    levels = np.array([g.level for g in grades], dtype=object)[max_membership(overall)]
    levels[~evidence] = None
    idx = values.index

    def table(data: FloatArray, columns: tuple[str, ...]) -> pd.DataFrame:
        return pd.DataFrame(data, index=idx, columns=list(columns), copy=False)

    return FuzzyResult(
        grades=grades,
        dimensions=dims,
        indicators=inds,
        indicator_dimensions=tuple(dims[k] for k in dim_of),
        membership=table(overall, tuple(g.name for g in grades)),
        level=pd.Series(levels, index=idx, name="level", dtype=object),
        risk_index=pd.Series(overall @ scores, index=idx, name="risk_index"),
        coverage=pd.Series(dim_cov @ dim_w, index=idx, name="coverage"),
        dimension_membership=np.moveaxis(dim_b, 0, -1),
        dimension_scores=table(np.tensordot(scores, dim_b, axes=1), dims),
        dimension_coverage=table(dim_cov, dims),
        indicator_membership=np.moveaxis(deg, 0, -1),
        indicator_scores=table(ind_scores, inds),
        weights=table(eff, inds),
        contributions=table(contrib, inds),
    )


__all__ = [
    "CompositionOperator",
    "FuzzyEvaluator",
    "FuzzyResult",
    "FuzzySettings",
    "Grade",
    "IndicatorMembership",
    "MembershipParams",
    "comment_set",
    "compose",
    "grade_memberships",
    "max_membership",
    "parse_fuzzy_settings",
    "trapezoidal",
    "triangular",
    "weights_from_scopes",
]
