"""Risk models: calibrated churn probability, fuzzy comprehensive evaluation, CLV."""

from crew.models.churn import ChurnModel
from crew.models.clv import BgNbd, CustomerLifetimeValue, GammaGamma, fit_clv, score_clv
from crew.models.dataset import Examples, build_examples, build_snapshot_examples
from crew.models.fuzzy import FuzzyEvaluator, FuzzyResult
from crew.models.fuzzy_settings import FuzzySettings
from crew.models.labels import ChurnDefinition, churn_labels
from crew.models.metrics import ScoreMetrics, score_metrics
from crew.models.rfm import rfm_summary

__all__ = [
    "BgNbd",
    "ChurnDefinition",
    "ChurnModel",
    "CustomerLifetimeValue",
    "Examples",
    "FuzzyEvaluator",
    "FuzzyResult",
    "FuzzySettings",
    "GammaGamma",
    "ScoreMetrics",
    "build_examples",
    "build_snapshot_examples",
    "churn_labels",
    "fit_clv",
    "rfm_summary",
    "score_clv",
    "score_metrics",
]
