"""One definition, two engines: DuckDB and Spark (local mode) give the same indicators."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from crew.indicators.catalog import load_catalog
from crew.indicators.compute import Engine, compute_indicators
from crew.store import Workspace
from crew.types import Industry

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("fixture", "profile"),
    [("sim_workspace", None), ("finance_workspace", Industry.FINANCE)],
)
def test_duckdb_and_spark_agree_on_every_indicator(
    fixture: str, profile: Industry | None, request: pytest.FixtureRequest
) -> None:
    workspace: Workspace = request.getfixturevalue(fixture)
    catalog = load_catalog()
    as_of = datetime(2024, 10, 15, 6, 30, tzinfo=UTC)
    duck = compute_indicators(workspace, catalog, as_of, profile=profile, store=False)
    spark = compute_indicators(
        workspace, catalog, as_of, profile=profile, engine=Engine.SPARK, store=False
    )
    assert duck.values.column_names == spark.values.column_names
    assert duck.values.num_rows == spark.values.num_rows > 300
    left = duck.values.to_pandas().set_index("customer_id").sort_index()
    right = spark.values.to_pandas().set_index("customer_id").sort_index()
    assert list(left.index) == list(right.index)
    informative = 0
    for name in left.columns:
        a, b = left[name].to_numpy(float), right[name].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        assert np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True), name
        informative += int(np.nanstd(a) > 0)
    # The comparison means something only if the indicators vary across customers.
    assert informative >= 30
    if profile == Industry.FINANCE:
        assert left["rapid_in_out_count_30d"].sum() > 0
