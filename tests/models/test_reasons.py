"""Reason sentences: readable, bilingual, honest about what they say."""

from __future__ import annotations

import math

import pytest

from crew.indicators.catalog import load_catalog
from crew.models.assessment import reason_sentence

CATALOG = load_catalog()


@pytest.mark.parametrize(
    ("indicator", "value", "below", "en", "zh"),
    [
        (
            "txn_freq_change",
            -0.72,
            0.05,
            "Purchase frequency change: fell 72% below this customer's usual level",
            "购买频率变化：较该客户常态下降72%",
        ),
        (
            "category_breadth_change",
            -2.0,
            0.01,
            "Category breadth change: fell 100% below this customer's usual level",
            "购买品类宽度变化：较该客户常态下降100%",
        ),
        (
            "complaint_growth",
            2.0,
            0.99,
            "Complaint growth: 3.0x this customer's usual rate",
            "投诉增长率：为该客户常态的3.0倍",
        ),
        (
            "recency_days",
            201.4,
            0.934,
            "Days since last purchase: 201 days, higher than 93% of customers",
            "距最近一次购买天数：201天，高于93%的客户",
        ),
        (
            "complaint_count_30d",
            4.0,
            0.9996,
            "Complaints in the last 30 days: 4, higher than 99% of customers",
            "近30天投诉次数：4，高于99%的客户",
        ),
        (
            "refund_rate_90d",
            0.25,
            0.9,
            "Refund rate, last 90 days: 25%, higher than 90% of customers",
            "近90天退款率：25%，高于90%的客户",
        ),
        ("data_exposure", 1.0, 0.99, "Personal data exposed: yes", "个人数据泄露：是"),
    ],
)
def test_sentences(indicator: str, value: float, below: float, en: str, zh: str) -> None:
    assert reason_sentence(CATALOG.get(indicator), value, below) == (en, zh)


def test_a_missing_value_says_how_the_model_reads_it() -> None:
    en, zh = reason_sentence(CATALOG.get("max_amount_zscore_30d"), math.nan, math.nan)
    assert en.endswith("not available, which the model reads as a risk sign")
    assert zh.endswith("无数据（模型视为风险信号）")
