"""Issue #7's check: a simulated day replayed through the stream handler gives, at its end,
the values `crew indicators compute --as-of <day end>` gives, for every online indicator.

The online state starts from the stored rows before the day (the bootstrap), then the day's
rows arrive as events, oldest first, in batches as a worker hands them out.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from tests.stream._replay import started_handler

from crew.indicators.compute import compute_indicators
from crew.indicators.online_state import micros
from crew.store import Workspace
from crew.stream.handler import InstantWarnings
from crew.stream.online import stored_events

DAY = datetime(2024, 10, 15, tzinfo=UTC)
END = DAY + timedelta(days=1)
BATCH = 50


def replayed_day(workspace: Workspace) -> tuple[InstantWarnings, int]:
    handler = started_handler(workspace, DAY, END)
    with workspace.connect() as conn:
        day = list(stored_events(conn, since=DAY, until=END))
    for start in range(0, len(day), BATCH):
        handler(day[start : start + BATCH])
    return handler, len(day)


def same(batch: object, online: object) -> bool:
    if batch is None or (isinstance(batch, float) and math.isnan(batch)):
        return online is None or (isinstance(online, float) and math.isnan(online))
    return online is not None and abs(float(online) - float(batch)) <= 1e-9  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sim_workspace", "finance_workspace"])
def test_a_streamed_day_ends_where_the_batch_computation_does(
    name: str, request: pytest.FixtureRequest
) -> None:
    workspace: Workspace = request.getfixturevalue(name)
    handler, streamed = replayed_day(workspace)
    batch = compute_indicators(workspace, handler.monitor.catalog, END, store=False)
    plan = handler.state.plan
    compared = [c for c in batch.indicators if c in plan.order]
    skipped = {c for c in batch.indicators if c not in plan.order}
    assert skipped == {u.id for u in plan.unsupported if u.id in batch.indicators}
    rows = batch.values.to_pylist()
    assert streamed > 100 and len(rows) > 300 and len(compared) >= 40
    differences = []
    for row in rows:
        online = handler.state.values(row["customer_id"], micros(END))
        differences += [
            (row["customer_id"], c, row[c], online[c])
            for c in compared
            if not same(row[c], online[c])
        ]
    assert differences == []
    assert handler.stats.events == streamed and handler.stats.repeats == 0
