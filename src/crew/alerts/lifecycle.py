"""Alert lifecycle: what a run opens, updates, escalates, resolves or holds back.

Pure: it compares this run's graded warnings with the active ones in the operational store
and returns the changes; the store applies them in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from crew.types import WarningState

KEY = ["customer_id", "segment", "risk_type"]
LEVEL_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3}
DEFAULT_COOLDOWN_DAYS = 28

WarningIdMaker = Callable[[str, str | None, str | None, datetime], str]
"""(risk_type, customer_id, segment, first_seen) -> warning id."""


@dataclass(frozen=True)
class Changes:
    """The rows a run writes, and why some warnings were not raised."""

    opened: pd.DataFrame
    updated: pd.DataFrame
    closed: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    held: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Raised again while a closed namesake cools down: id (of that one), level, cooldown_until."""


def plan_changes(
    warnings: pd.DataFrame,
    active: pd.DataFrame,
    cooling: pd.DataFrame,
    *,
    as_of: datetime,
    run_id: str,
    make_id: WarningIdMaker,
    cooldown_days: Mapping[str, int] | None = None,
) -> Changes:
    """Diff this run's `warnings` (one row per subject and risk type) against the store.

    - a warning whose subject and type has an active one updates it (an escalation when its
      level rises); otherwise it opens, unless a closed one of the same subject and type is
      cooling down and the new level is no higher;
    - an open warning that this run no longer raises resolves, and starts its cooldown;
      acknowledged and in-progress warnings stay with the person working them.
    """
    current = _keyed(warnings)
    previous = _keyed(active.reindex(columns=[*KEY, "id", "level", "state"]))
    cooling = _keyed(cooling)
    joined = current.merge(
        previous.rename(columns={"level": "previous_level", "state": "previous_state"}),
        on=KEY,
        how="left",
    )
    known = joined["id"].notna()
    updated = joined[known].drop(columns=["previous_state"]).copy()
    updated["last_seen"] = as_of
    updated["run_id"] = run_id
    new_rank = updated["level"].map(LEVEL_RANK).to_numpy(dtype=float)
    old_rank = updated["previous_level"].map(LEVEL_RANK).to_numpy(dtype=float)
    rise, fall = new_rank > old_rank, new_rank < old_rank

    fresh = joined[~known].drop(columns=["id", "previous_level", "previous_state"])
    held = _cooling_down(fresh, cooling, as_of)
    opened = fresh[~held].copy()
    opened["id"] = [
        make_id(rt, c or None, s or None, as_of)
        for rt, c, s in zip(opened["risk_type"], opened["customer_id"], opened["segment"],
                            strict=True)
    ]  # fmt: skip
    opened["state"] = WarningState.OPEN.value
    opened["first_seen"] = opened["last_seen"] = opened["level_changed_at"] = as_of
    opened["run_id"] = run_id

    raised = set(zip(current["customer_id"], current["segment"], current["risk_type"],
                     strict=True))  # fmt: skip
    keys = zip(previous["customer_id"], previous["segment"], previous["risk_type"], strict=True)
    stale = [k not in raised for k in keys]
    gone = previous[np.array(stale, dtype=bool) & (previous["state"] == WarningState.OPEN.value)]
    closed = pd.DataFrame(
        {
            "id": gone["id"].to_numpy() if len(gone) else np.array([], dtype=object),
            "state": WarningState.RESOLVED.value,
            "resolved_at": as_of,
            "cooldown_until": [
                as_of + timedelta(days=(cooldown_days or {}).get(r, DEFAULT_COOLDOWN_DAYS))
                for r in gone["risk_type"]
            ],
        }
    )
    counts = {
        "raised": len(current),
        "opened": len(opened),
        "updated": len(updated),
        "escalated": int(rise.sum()),
        "de_escalated": int(fall.sum()),
        "resolved": len(closed),
        "held_in_cooldown": int(held.sum()),
    }
    return Changes(
        opened=_restore(opened), updated=_restore(updated.drop(columns=["previous_level"])),
        closed=closed, counts=counts, held=_held(fresh[held], cooling),
    )  # fmt: skip


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in ("customer_id", "segment"):
        if column not in out.columns:
            out[column] = ""
        out[column] = out[column].fillna("").astype(str)
    return out


def _restore(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in ("customer_id", "segment"):
        out[column] = out[column].replace("", None)
    return out.reset_index(drop=True)


def _held(held: pd.DataFrame, cooling: pd.DataFrame) -> pd.DataFrame:
    """Each held warning with the closed one it is held by (the one cooling down longest)."""
    if held.empty:
        return pd.DataFrame(columns=["id", "level", "cooldown_until"])
    latest = cooling.sort_values("cooldown_until").drop_duplicates(KEY, keep="last")
    by = held[[*KEY, "level"]].merge(latest[[*KEY, "id", "cooldown_until"]], on=KEY)
    return by[["id", "level", "cooldown_until"]].reset_index(drop=True)


def _cooling_down(fresh: pd.DataFrame, cooling: pd.DataFrame, as_of: datetime) -> pd.Series:
    if fresh.empty or cooling.empty:
        return pd.Series(False, index=fresh.index)
    cool = cooling[cooling["cooldown_until"] > as_of]
    best = cool.groupby(KEY)["level"].agg(lambda s: max(LEVEL_RANK[v] for v in s))
    keys = pd.MultiIndex.from_frame(fresh[KEY])
    held_level = best.reindex(keys).to_numpy(dtype=float)
    new_level = fresh["level"].map(LEVEL_RANK).to_numpy(dtype=float)
    return pd.Series(~np.isnan(held_level) & (new_level <= held_level), index=fresh.index)


__all__ = ["KEY", "LEVEL_RANK", "Changes", "WarningIdMaker", "plan_changes"]
