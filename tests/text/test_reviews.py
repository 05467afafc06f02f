"""Fake-review rings: near-identical texts in a burst, extreme ratings, young accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import simulated_workspace

from crew.store import Workspace
from crew.text.reviews import Review, find_review_rings, load_reviews
from crew.types import Industry

T0 = datetime(2025, 5, 1, tzinfo=UTC)
SUFFIXES = ("", "!!", " 👍", "～", "!!!", "。", " 10/10")


def _ring(n: int = 8) -> list[Review]:
    return [
        Review(
            f"f{i}",
            f"ring{i}",
            T0 + timedelta(hours=7 * i),
            5.0,
            "好评！质量非常好，物流超快，五星推荐给大家" + SUFFIXES[i % len(SUFFIXES)],
            (T0 - timedelta(days=10 + i)).date(),
        )
        for i in range(n)
    ]


def _genuine() -> list[Review]:
    # The same short, common praise from many old accounts, spread over half a year.
    return [
        Review(
            f"g{i}",
            f"old{i}",
            T0 - timedelta(days=3 * i),
            5.0 if i % 3 else 4.0,
            "Great quality, fast delivery, would buy again" + ("!" if i % 2 else ""),
            date(2020, 1, 1),
        )
        for i in range(60)
    ] + [
        Review(f"x{i}", f"other{i}", T0 + timedelta(days=i), 3.0, text, date(2021, 1, 1))
        for i, text in enumerate(["还行吧，物流有点慢", "Colour differs from the photo", "一般般"])
    ]


def test_a_burst_ring_is_found_with_its_evidence() -> None:
    rings = find_review_rings(_ring() + _genuine())
    assert len(rings) == 1
    ring = rings[0]
    assert set(ring.accounts) == {f"ring{i}" for i in range(8)}
    assert ring.extreme_share == 1.0 and ring.young_share == 1.0
    assert ring.score >= 0.9
    assert ring.reason().startswith("8 accounts posted near-identical 5.0-star reviews within 2")
    assert "8个账户" in ring.reason()


def test_common_genuine_praise_is_not_a_ring() -> None:
    assert find_review_rings(_genuine()) == []


def test_two_accounts_are_not_a_ring() -> None:
    assert find_review_rings(_ring(2)) == []


@pytest.mark.slow
def test_simulated_rings_are_recovered(tmp_path: Path) -> None:
    """The simulator's fake-review accounts (ground truth) against what the detector flags."""
    workspace: Workspace = simulated_workspace(tmp_path, Industry.ECOMMERCE, customers=5000)
    import pyarrow.parquet as pq

    episodes = pq.read_table(tmp_path / "files" / "episodes.parquet").to_pylist()
    truth = {e["customer_id"] for e in episodes if e["risk_type"] == "fake_review"}
    assert truth
    with workspace.connect() as conn:
        reviews = load_reviews(conn, datetime(2025, 1, 1, tzinfo=UTC), days=366)
    flagged = {a for ring in find_review_rings(reviews) for a in ring.accounts}
    found = len(flagged & truth)
    assert found / len(truth) >= 0.8  # recall
    assert found / len(flagged) >= 0.8  # precision
