"""Hold the last days of simulated behaviour back, to be streamed in later (`crew replay`).

The held-out rows leave the files that are imported and go to a folder of their own, so a
demo can import the history and then send the most recent days through the event API as if
they were happening now.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

STREAMED = ("transactions", "interactions", "events")
"""The tables whose rows arrive as events; customers and outcomes stay whole."""


def hold_out(files: Path, since: datetime, target: Path) -> dict[str, int]:
    """Move the rows with `ts >= since` of each streamed table's Parquet file to `target`.

    Returns the rows moved per table. The files in `files` keep only the earlier rows.
    """
    target.mkdir(parents=True, exist_ok=True)
    moved: dict[str, int] = {}
    for name in STREAMED:
        path = files / f"{name}.parquet"
        table = pq.read_table(path)
        late = pc.greater_equal(table["ts"], pa.scalar(since, type=table.schema.field("ts").type))
        pq.write_table(table.filter(late), target / path.name, compression="zstd")
        pq.write_table(table.filter(pc.invert(late)), path, compression="zstd")
        moved[name] = int(pc.sum(late).as_py() or 0)
    return moved


__all__ = ["STREAMED", "hold_out"]
