"""Scaling indicators onto comparable ranges, with the fitted parameters kept.

A scaler is fitted once (for example on the training snapshot) and its parameters are
stored, so that scoring at a later `as_of` uses the same scale instead of re-fitting on
data that has drifted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
QUANTILE_POINTS = 101
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation


class ScaleMethod(StrEnum):
    """How values are mapped onto a common scale."""

    MINMAX = "minmax"  # (x - min) / (max - min)
    ROBUST_Z = "robust_z"  # (x - median) / (1.4826 * MAD)
    QUANTILE = "quantile"  # share of the fitted population at or below x, in [0, 1]


@dataclass(frozen=True)
class Scaler:
    """Fitted scaling parameters per column; `transform` applies them to new values."""

    method: ScaleMethod
    params: dict[str, dict[str, list[float] | float]] = field(default_factory=dict)
    clip: bool = False

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Scaled copy of the fitted columns of `frame` (missing values stay missing)."""
        scaled = {}
        for name, p in self.params.items():
            x = frame[name].to_numpy(dtype=float)
            scaled[name] = _apply(self.method, x, p, self.clip)
        return pd.DataFrame(scaled, index=frame.index)

    def to_json(self) -> str:
        """The parameters as JSON, to store beside a model or a run."""
        return json.dumps({"method": self.method.value, "clip": self.clip, "params": self.params})

    @classmethod
    def from_json(cls, text: str) -> Scaler:
        """A scaler back from `to_json`."""
        raw = json.loads(text)
        return cls(ScaleMethod(raw["method"]), raw["params"], bool(raw["clip"]))


def fit_scaler(
    frame: pd.DataFrame, columns: list[str], method: ScaleMethod, *, clip: bool = False
) -> Scaler:
    """Fit `method` on `columns` of `frame`, ignoring missing values.

    >>> s = fit_scaler(pd.DataFrame({"x": [0.0, 5.0, 10.0]}), ["x"], ScaleMethod.MINMAX)
    >>> s.transform(pd.DataFrame({"x": [2.5, 20.0]}))["x"].tolist()
    [0.25, 2.0]
    """
    params: dict[str, dict[str, list[float] | float]] = {}
    for name in columns:
        x = frame[name].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        params[name] = _fit(method, x)
    return Scaler(method, params, clip)


def _fit(method: ScaleMethod, x: FloatArray) -> dict[str, list[float] | float]:
    if x.size == 0:
        return {"empty": 1.0}
    if method == ScaleMethod.MINMAX:
        return {"min": float(x.min()), "max": float(x.max())}
    if method == ScaleMethod.ROBUST_Z:
        median = float(np.median(x))
        spread = MAD_TO_SIGMA * float(np.median(np.abs(x - median)))
        if spread == 0:
            # Mostly-constant indicators (counts of rare events): fall back to the IQR, then
            # to the standard deviation, so that the rare non-zero values still stand out.
            q1, q3 = np.percentile(x, [25, 75])
            spread = float(q3 - q1) / 1.349 or float(x.std())
        return {"center": median, "scale": spread}
    grid = np.linspace(0.0, 1.0, QUANTILE_POINTS)
    return {"values": np.quantile(x, grid).tolist(), "probs": grid.tolist()}


def _apply(
    method: ScaleMethod, x: FloatArray, p: dict[str, list[float] | float], clip: bool
) -> FloatArray:
    if "empty" in p:
        return np.full_like(x, np.nan)
    if method == ScaleMethod.MINMAX:
        low, high = float(p["min"]), float(p["max"])  # type: ignore[arg-type]
        out = np.zeros_like(x) if high == low else (x - low) / (high - low)
        out = np.where(np.isnan(x), np.nan, out)
        return np.clip(out, 0.0, 1.0) if clip else out
    if method == ScaleMethod.ROBUST_Z:
        center, scale = float(p["center"]), float(p["scale"])  # type: ignore[arg-type]
        out = np.zeros_like(x) if scale == 0 else (x - center) / scale
        return np.where(np.isnan(x), np.nan, out)
    values = np.asarray(p["values"], dtype=float)
    probs = np.asarray(p["probs"], dtype=float)
    # Ties in the fitted values (many zeros): map to the highest share among them.
    unique, last = np.unique(values[::-1], return_index=True)
    top = probs[::-1][last]
    out = np.interp(x, unique, top, left=0.0, right=1.0)
    return np.where(np.isnan(x), np.nan, out)


__all__ = ["ScaleMethod", "Scaler", "fit_scaler"]
