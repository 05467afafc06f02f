"""Read-only connections to a workspace's store, and their fallback inside one process."""

from __future__ import annotations

from crew.store import Workspace


def test_readers_side_by_side_and_beside_a_writer_of_the_same_process(
    workspace: Workspace,
) -> None:
    with workspace.reading() as first, workspace.reading() as second:
        assert first.execute("SELECT count(*) FROM customers").fetchone() == (0,)
        assert second.execute("SELECT 1").fetchone() == (1,)
    with workspace.connect() as writer:
        writer.execute("INSERT INTO customers (customer_id) VALUES ('C1')")
        # Same process, a read-write connection open: DuckDB refuses a read-only one, so
        # the reader falls back to the same kind instead of failing.
        with workspace.reading() as reader:
            assert reader.execute("SELECT count(*) FROM customers").fetchone() == (1,)
