"""The random control group: deterministic, close to its share, validated."""

from __future__ import annotations

import pytest

from crew.alerts.control import in_control_group


def test_control_group_is_deterministic_and_near_its_share() -> None:
    ids = [f"churn-C{i:06d}-20250105" for i in range(10_000)]
    first = in_control_group(ids, 0.1)
    assert (first == in_control_group(ids, 0.1)).all()
    assert 0.09 < first.mean() < 0.11
    # A larger share keeps everyone already in control: growing the group never reshuffles it.
    assert (in_control_group(ids, 0.2) | ~first).all()
    # Another salt is another draw.
    assert (first != in_control_group(ids, 0.1, salt="other")).any()


@pytest.mark.parametrize("share", [-0.1, 0.6])
def test_control_share_out_of_range_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="control share"):
        in_control_group(["w1"], share)
