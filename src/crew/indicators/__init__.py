"""Indicators (风险识别指标体系): a declarative catalog: point-in-time values on DuckDB or
Spark, or online, one customer's events at a time."""

from crew.indicators.catalog import Catalog, Direction, IndicatorDef, load_catalog
from crew.indicators.compute import Engine, IndicatorRun, compute_indicators
from crew.indicators.normalize import ScaleMethod, Scaler, fit_scaler
from crew.indicators.online import OnlinePlan, compile_online
from crew.indicators.online_state import OnlineState
from crew.indicators.segments import segment_daily_series
from crew.indicators.weights import ahp_weights, combine_weights, entropy_weights

__all__ = [
    "Catalog",
    "Direction",
    "Engine",
    "IndicatorDef",
    "IndicatorRun",
    "OnlinePlan",
    "OnlineState",
    "ScaleMethod",
    "Scaler",
    "ahp_weights",
    "combine_weights",
    "compile_online",
    "compute_indicators",
    "entropy_weights",
    "fit_scaler",
    "load_catalog",
    "segment_daily_series",
]
