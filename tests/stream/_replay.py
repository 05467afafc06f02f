"""A stream handler started, like a worker's, from a workspace's rows before an instant."""

from __future__ import annotations

from datetime import datetime

from crew.indicators.online_state import OnlineState
from crew.pipeline import RunSetup
from crew.store import OperationalStore, Workspace
from crew.stream.handler import InstantWarnings
from crew.stream.monitor import Monitor
from crew.stream.online import CustomerDirectory, bootstrap, load_customers
from crew.stream.texts import TextRows


def started_handler(
    workspace: Workspace, since: datetime, clock: datetime, texts: TextRows | None = None
) -> InstantWarnings:
    """The default handler on an in-memory store, its state bootstrapped before `since`."""
    setup = RunSetup.load(workspace.root, None, None)
    monitor = Monitor(setup.catalog, setup.specs, setup.rules)
    state = OnlineState(monitor.plan)
    with workspace.connect() as conn:
        customers = load_customers(conn)
        bootstrap(conn, state, since, customers=customers)
    return InstantWarnings(
        monitor, state, OperationalStore.in_memory(), CustomerDirectory(customers),
        clock=lambda: clock, texts=texts,
    )  # fmt: skip
