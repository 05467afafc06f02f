"""The monitor's screen drops only customers that could not have been warned.

Weeks of simulated events go through the online state in batches; after each batch the
touched customers are graded twice, with the screen and without it, and both must give
the same warnings, row for row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from tests.stream._replay import started_handler

from crew.store import Workspace
from crew.stream.online import stored_events

START = datetime(2024, 7, 1, tzinfo=UTC)
END = START + timedelta(days=91)
BATCH = 200


def rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The warnings as a plain table (an empty result has no columns to compare)."""
    if frame.empty:
        return pd.DataFrame()
    return frame.sort_values(["customer_id", "risk_type"]).reset_index(drop=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sim_workspace", "finance_workspace"])
def test_screened_warnings_equal_the_unscreened_ones(
    name: str, request: pytest.FixtureRequest
) -> None:
    workspace: Workspace = request.getfixturevalue(name)
    handler = started_handler(workspace, START, END)
    monitor, state = handler.monitor, handler.state
    with workspace.connect() as conn:
        stream = list(stored_events(conn, since=START, until=END))
    graded = screened_out = 0
    for i in range(0, len(stream), BATCH):
        changed = handler.update(stream[i : i + BATCH])
        touched = {c: monitor.risk_types(names) for c, names in changed.items()}
        at = handler.event_time
        full = monitor.graded_unscreened(state, touched, at)
        fast = monitor.warnings(state, touched, at)
        pd.testing.assert_frame_equal(rows(fast), rows(full))
        graded += len(full)
        judged = [c for c, types in touched.items() if types]
        screened_out += len(judged) - sum(
            monitor.screen.may_warn(
                monitor._values(state, c, touched[c], at),
                touched[c],
                monitor._weekly(state, c, at),
            )
            for c in judged
        )
    assert graded > 0, "the weeks replayed raised no warning: the comparison proves nothing"
    assert screened_out > 0, "the screen let every customer through"
