"""The random control group: warnings that deliberately receive no action.

Measuring whether actions help needs customers who were warned about but left alone. The
assignment hashes the warning id with a salt, so it is random with respect to the customer
yet never changes between runs, replays or machines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

DEFAULT_CONTROL_SHARE = 0.1
MAX_CONTROL_SHARE = 0.5


def in_control_group(
    warning_ids: Sequence[str], share: float = DEFAULT_CONTROL_SHARE, *, salt: str = "crew"
) -> npt.NDArray[np.bool_]:
    """For each warning id, whether it falls in the control group of size `share`.

    >>> in_control_group(["w1", "w2", "w3"], 0.0).tolist()
    [False, False, False]
    """
    if not 0.0 <= share <= MAX_CONTROL_SHARE:
        raise ValueError(f"control share {share} must be between 0 and {MAX_CONTROL_SHARE}")
    cut = int(share * 2**64)
    draws = [
        int.from_bytes(hashlib.sha256(f"{salt}:{i}".encode()).digest()[:8], "big")
        for i in warning_ids
    ]
    return np.array([d < cut for d in draws], dtype=bool)


__all__ = ["DEFAULT_CONTROL_SHARE", "MAX_CONTROL_SHARE", "in_control_group"]
