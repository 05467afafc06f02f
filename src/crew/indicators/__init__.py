"""Indicators (风险识别指标体系): a declarative catalog: point-in-time values on DuckDB or Spark."""

from crew.indicators.catalog import Catalog, Direction, IndicatorDef, load_catalog
from crew.indicators.compute import Engine, IndicatorRun, compute_indicators
from crew.indicators.normalize import ScaleMethod, Scaler, fit_scaler
from crew.indicators.segments import segment_daily_series
from crew.indicators.weights import ahp_weights, combine_weights, entropy_weights

__all__ = [
    "Catalog",
    "Direction",
    "Engine",
    "IndicatorDef",
    "IndicatorRun",
    "ScaleMethod",
    "Scaler",
    "ahp_weights",
    "combine_weights",
    "compute_indicators",
    "entropy_weights",
    "fit_scaler",
    "load_catalog",
    "segment_daily_series",
]
