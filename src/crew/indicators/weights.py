"""Indicator weights: AHP (层次分析法) from judgements, entropy (熵权法) from data, combined.

Subjective weights come from an analyst's pairwise judgements on Saaty's 1-9 scale, read
from a judgement file (see `crew.indicators.judgements` for its format); a block whose
consistency ratio is 0.1 or more is refused. docs/weights.md explains the scale and the rule.

Objective weights come from the spread of indicator values across customers (entropy
weights): an indicator on which customers differ a lot carries more information.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from crew.errors import InconsistentJudgementsError, WeightsError
from crew.indicators.catalog import Direction, IndicatorDef
from crew.indicators.judgements import (
    JudgementBlock,
    Judgements,
    Matrix,
    checked_matrix,
    load_judgements,
    pair_name,
)

#: Saaty's random consistency index by matrix size n = 1..15 (Saaty 1980; 11-15 as
#: tabulated in Saaty's later work): the mean CI of random reciprocal matrices.
RANDOM_INDEX: Mapping[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}
MAX_CONSISTENCY_RATIO = 0.1

#: Storage scopes of a weight set: dimension weights, global indicator weights, and the
#: local weights of the indicators within one dimension (``indicators:complaints``).
DIMENSIONS_SCOPE = "dimensions"
INDICATORS_SCOPE = "indicators"


@dataclass(frozen=True)
class AhpResult:
    """Priorities of one judgement matrix and how consistent the judgements are."""

    weights: tuple[float, ...]
    lambda_max: float
    consistency_index: float
    random_index: float
    consistency_ratio: float
    method: str = "eigenvector"
    criteria: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, float]:
        """Weights by criterion name (c1, c2, ... when the matrix had no names)."""
        names = self.criteria or tuple(f"c{i + 1}" for i in range(len(self.weights)))
        return dict(zip(names, self.weights, strict=True))


@dataclass(frozen=True)
class AhpHierarchy:
    """Dimension weights, local indicator weights per dimension and global indicator weights."""

    dimensions: AhpResult
    indicators: Mapping[str, AhpResult]

    @property
    def dimension_weights(self) -> dict[str, float]:
        """Weight of each dimension (sums to 1)."""
        return self.dimensions.as_dict()

    @property
    def local_weights(self) -> dict[str, dict[str, float]]:
        """Per dimension, the weights of its indicators within it (each sums to 1)."""
        return {dim: result.as_dict() for dim, result in self.indicators.items()}

    @property
    def global_weights(self) -> dict[str, float]:
        """Indicator weight = its dimension's weight x its local weight."""
        dims = self.dimension_weights
        return {
            item: dims[dim] * w
            for dim, local in self.local_weights.items()
            for item, w in local.items()
        }

    @property
    def consistency_ratios(self) -> dict[str, float]:
        """CR of every block, keyed like the judgement file ("indicators.trust")."""
        ratios = {"dimensions": self.dimensions.consistency_ratio}
        ratios |= {f"indicators.{d}": r.consistency_ratio for d, r in self.indicators.items()}
        return ratios

    def scopes(self) -> dict[str, dict[str, float]]:
        """Weights by storage scope: dimensions, indicators (global), indicators:<dim>."""
        scopes = {DIMENSIONS_SCOPE: self.dimension_weights}
        if self.indicators:
            scopes[INDICATORS_SCOPE] = self.global_weights
        scopes |= {local_scope(d): w for d, w in self.local_weights.items()}
        return scopes


def local_scope(dimension: str) -> str:
    """Storage scope of the local indicator weights within `dimension`.

    >>> local_scope("complaints")
    'indicators:complaints'
    """
    return f"{INDICATORS_SCOPE}:{dimension}"


def ahp_weights(
    matrix: Matrix,
    criteria: Sequence[str] | None = None,
    *,
    max_consistency_ratio: float | None = MAX_CONSISTENCY_RATIO,
    label: str = "judgement matrix",
) -> AhpResult:
    """Priorities of a reciprocal judgement matrix by the principal eigenvector (Saaty).

    Raises WeightsError for a malformed matrix and InconsistentJudgementsError when the
    consistency ratio reaches `max_consistency_ratio` (None computes without refusing).

    >>> r = ahp_weights([[1, 2, 4], [1/2, 1, 2], [1/4, 1/2, 1]])
    >>> [round(w, 4) for w in r.weights], round(r.consistency_ratio, 6)
    ([0.5714, 0.2857, 0.1429], 0.0)
    """
    a = checked_matrix(matrix, criteria, label)
    n = a.shape[0]
    names = tuple(criteria) if criteria is not None else ()
    if n > len(RANDOM_INDEX):
        raise WeightsError(
            f"{label} compares {n} criteria; AHP here supports at most {len(RANDOM_INDEX)}.",
            hint="Group the criteria into dimensions of at most 9 and judge each group apart.",
        )
    values, vectors = np.linalg.eig(a)
    # The Perron root of a positive matrix is real and the largest; eig may return it
    # with a tiny imaginary part.
    k = int(np.argmax(np.where(np.abs(values.imag) < 1e-9, values.real, -np.inf)))
    vector = vectors[:, k].real
    weights = vector / vector.sum()
    lambda_max = float(values[k].real)
    ri = RANDOM_INDEX[n]
    ci = max(0.0, (lambda_max - n) / (n - 1)) if n > 2 else 0.0
    cr = ci / ri if ri > 0 else 0.0
    result = AhpResult(
        weights=tuple(float(w) for w in weights),
        lambda_max=lambda_max,
        consistency_index=ci,
        random_index=ri,
        consistency_ratio=cr,
        criteria=names,
    )
    if max_consistency_ratio is not None and cr >= max_consistency_ratio:
        raise InconsistentJudgementsError(
            f"{label}: inconsistent judgements, CR = {cr:.3f} "
            f"(must be below {max_consistency_ratio:g}).",
            hint=_least_consistent_hint(a, weights, names),
        )
    return result


def _least_consistent_hint(a: np.ndarray, weights: np.ndarray, names: Sequence[str]) -> str:
    """Names the judgement that deviates most (in log ratio) from the derived weights."""
    n = a.shape[0]
    implied = np.outer(weights, 1 / weights)  # w_i / w_j
    deviation = np.abs(np.log(a / implied))
    i, j = divmod(int(np.argmax(np.triu(deviation, k=1))), n)
    pair = pair_name(names or None, i, j)
    return (
        f"The least consistent judgement is row {i + 1}, col {j + 1}{pair}: you gave "
        f"{_fraction(a[i, j])}, the other judgements imply about {_fraction(implied[i, j])}. "
        "Revise it (or the judgements it contradicts) and run again."
    )


def _fraction(value: float) -> str:
    """A judgement as written on Saaty's scale.

    >>> _fraction(3.0), _fraction(1 / 3), _fraction(0.8)
    ('3', '1/3', '1/1.25')
    """
    if value >= 1:
        return f"{value:.3g}"
    return f"1/{1 / value:.3g}"


def ahp_hierarchy(
    judgements: Judgements, *, max_consistency_ratio: float | None = MAX_CONSISTENCY_RATIO
) -> AhpHierarchy:
    """AHP on every block of a judgement file; refuses the first inconsistent block."""
    prefix = f"{judgements.source}: " if judgements.source is not None else ""

    def solve(block: JudgementBlock) -> AhpResult:
        return ahp_weights(
            block.matrix,
            block.criteria,
            max_consistency_ratio=max_consistency_ratio,
            label=f"{prefix}{block.name}",
        )

    return AhpHierarchy(
        dimensions=solve(judgements.dimensions),
        indicators={dim: solve(block) for dim, block in judgements.indicators.items()},
    )


def entropy_weights(
    values: npt.ArrayLike, higher_is_riskier: Sequence[bool]
) -> npt.NDArray[np.float64]:
    """Entropy weights of indicator columns (rows = customers), summing to 1.

    Each column is min-max normalised towards risk, r = (x - min)/(max - min), or
    (max - x)/(max - min) when lower is riskier; then p_ij = r_ij / sum_i r_ij with the
    convention 0 * ln 0 = 0 (no epsilon shift), e_j = -(1/ln k_j) sum_i p_ij ln p_ij over the
    k_j customers with a value (NaN is ignored per column), d_j = 1 - e_j, w_j = d_j / sum d.
    A column that is constant (or has fewer than two values) carries no information: weight 0.

    >>> entropy_weights([[1, 5, 3], [2, 5, 1], [4, 5, 2]], [True, True, False]).round(4).tolist()
    [0.5371, 0.0, 0.4629]
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2:
        raise WeightsError(
            f"Entropy weights need a table (customers x indicators); got {x.ndim} dimension(s).",
            hint="Pass one row per customer and one column per indicator.",
        )
    n, m = x.shape
    if len(higher_is_riskier) != m:
        raise WeightsError(
            f"{m} indicator columns but {len(higher_is_riskier)} directions.",
            hint="Give one higher_is_riskier flag per column.",
        )
    if n < 2:
        raise WeightsError(
            f"Entropy weights need at least 2 customers; got {n}.",
            hint="Compute indicators for more customers first.",
        )
    if np.isinf(x).any():
        col = int(np.argwhere(np.isinf(x))[0][1])
        raise WeightsError(
            f"Column {col + 1} holds an infinite value.",
            hint="Fix the indicator (e.g. a division by zero) before weighting.",
        )
    divergence = np.array([_divergence(x[:, j], higher_is_riskier[j]) for j in range(m)])
    total = float(divergence.sum())
    if total <= 0:
        raise WeightsError(
            "Every indicator column is constant (or empty): entropy weights are undefined.",
            hint="Use data where customers differ, or AHP weights alone.",
        )
    weights: npt.NDArray[np.float64] = divergence / total
    return weights


def _divergence(column: npt.NDArray[np.float64], higher_is_riskier: bool) -> float:
    """d = 1 - e of one column; 0 when it carries no information."""
    x = column[~np.isnan(column)]
    k = x.size
    low, high = (float(x.min()), float(x.max())) if k else (0.0, 0.0)
    if k < 2 or high == low:
        return 0.0
    r = (x - low) / (high - low) if higher_is_riskier else (high - x) / (high - low)
    p = r / r.sum()
    nonzero = p[p > 0]  # 0 * ln 0 = 0
    entropy = -float((nonzero * np.log(nonzero)).sum()) / math.log(k)
    return max(0.0, 1.0 - entropy)


def entropy_scopes(
    values: npt.ArrayLike, indicators: Sequence[IndicatorDef]
) -> dict[str, dict[str, float]]:
    """Entropy weights of `indicators` (columns of `values`) as storage scopes.

    `indicators` holds the global weights; a dimension's weight is the sum of its
    indicators' weights, and `indicators:<dimension>` their shares within it. Indicators
    and dimensions that carry no information (weight 0) are left out of the local scopes.
    """
    weights = entropy_weights(
        values, [i.direction == Direction.HIGHER_IS_RISKIER for i in indicators]
    )
    global_weights = {i.id: float(w) for i, w in zip(indicators, weights, strict=True)}
    dims: dict[str, float] = {}
    for ind in indicators:
        dims[ind.dimension] = dims.get(ind.dimension, 0.0) + global_weights[ind.id]
    scopes = {
        DIMENSIONS_SCOPE: {d: w for d, w in dims.items() if w > 0},
        INDICATORS_SCOPE: global_weights,
    }
    for dim, total in dims.items():
        if total > 0:
            scopes[local_scope(dim)] = {
                i.id: global_weights[i.id] / total
                for i in indicators
                if i.dimension == dim and global_weights[i.id] > 0
            }
    return scopes


def combine_weights(
    subjective: Mapping[str, float],
    objective: Mapping[str, float],
    method: Literal["multiplicative", "linear"],
    alpha: float = 0.5,
) -> dict[str, float]:
    """Combine subjective (e.g. AHP) and objective (e.g. entropy) weights over the same keys.

    Both are first rescaled to sum 1. Multiplicative: w = a*b / sum(a*b); linear:
    w = alpha*a + (1 - alpha)*b.

    >>> w = combine_weights({"x": 0.5, "y": 0.5}, {"x": 0.2, "y": 0.8}, "multiplicative")
    >>> {k: round(v, 6) for k, v in w.items()}
    {'x': 0.2, 'y': 0.8}
    >>> w = combine_weights({"x": 0.5, "y": 0.5}, {"x": 0.2, "y": 0.8}, "linear", alpha=0.5)
    >>> {k: round(v, 6) for k, v in w.items()}
    {'x': 0.35, 'y': 0.65}
    """
    only_a = sorted(set(subjective) - set(objective))
    only_b = sorted(set(objective) - set(subjective))
    if only_a or only_b:
        parts = []
        if only_a:
            parts.append(f"only in the subjective weights: {', '.join(only_a)}")
        if only_b:
            parts.append(f"only in the objective weights: {', '.join(only_b)}")
        raise WeightsError(
            f"The weights cover different items ({'; '.join(parts)}).",
            hint="Weight the same indicators both ways before combining.",
        )
    if method not in ("multiplicative", "linear"):
        raise WeightsError(
            f"Unknown combination method {method!r}.", hint="Use 'multiplicative' or 'linear'."
        )
    if method == "linear" and not (math.isfinite(alpha) and 0 <= alpha <= 1):
        raise WeightsError(
            f"alpha is {alpha:g}; it must lie in [0, 1].",
            hint="alpha is the share of the subjective weights (0.5 = half each).",
        )
    keys = list(subjective)
    a = _rescaled("subjective", [subjective[k] for k in keys])
    b = _rescaled("objective", [objective[k] for k in keys])
    if method == "linear":
        combined = alpha * a + (1 - alpha) * b
    else:
        product = a * b
        if product.sum() <= 0:
            raise WeightsError(
                "No item has a positive weight in both sets; the product is all zeros.",
                hint="Use --method linear, or check the weights with 'crew weights show'.",
            )
        combined = product / product.sum()
    return {k: float(w) for k, w in zip(keys, combined, strict=True)}


def _rescaled(which: str, values: Sequence[float]) -> npt.NDArray[np.float64]:
    w = np.asarray(values, dtype=np.float64)
    if w.size == 0 or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise WeightsError(
            f"The {which} weights must be non-negative numbers with a positive sum.",
            hint="Check the weight set with 'crew weights show'.",
        )
    rescaled: npt.NDArray[np.float64] = w / w.sum()
    return rescaled


__all__ = [
    "DIMENSIONS_SCOPE",
    "INDICATORS_SCOPE",
    "MAX_CONSISTENCY_RATIO",
    "RANDOM_INDEX",
    "AhpHierarchy",
    "AhpResult",
    "JudgementBlock",
    "Judgements",
    "ahp_hierarchy",
    "ahp_weights",
    "combine_weights",
    "entropy_scopes",
    "entropy_weights",
    "load_judgements",
    "local_scope",
]
