"""Fake reviews and click farming (虚假评价、刷单): rings of accounts that post
near-identical review texts in a burst, with extreme ratings, from young accounts.

Near-duplicates are found with MinHash LSH (`datasketch`) over character 3-gram shingles
of the normalised text (case, punctuation, emoji and spacing removed), so "Perfect!!" and
"perfect 👍" fall together. Each group of near-duplicates is then searched for its
densest burst (most distinct accounts within `burst_days`), which is scored from four
pieces of evidence, each 0..1:

- size: distinct accounts in the burst (8 or more counts fully);
- extremity: share of the burst's ratings that are 1 or 5 stars;
- youth: share of the burst's accounts opened less than `young_days` before their review;
- concentration: share of the group's accounts that are in the burst (a phrase that many
  genuine customers use all year has a low concentration).

score = 0.3 size + 0.25 extremity + 0.3 youth + 0.15 concentration; a ring is reported
from `min_score` (0.6). Texts shorter than 6 characters after normalising ("好评", "ok")
are too common to be evidence and are left out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

import duckdb

from crew.text._extra import require
from crew.text.evidence import snippet
from crew.text.redaction import Redactor

MIN_CHARS = 6
_DROP = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Review:
    """One review: who, when, how many stars, what it says, how old the account was."""

    interaction_id: str
    customer_id: str
    ts: datetime
    rating: float | None
    text: str
    signup_date: date | None = None


@dataclass(frozen=True)
class ReviewRing:
    """A burst of near-identical reviews across accounts, with its evidence."""

    accounts: tuple[str, ...]
    review_ids: tuple[str, ...]
    first_ts: datetime
    last_ts: datetime
    mean_rating: float | None
    extreme_share: float
    young_share: float
    median_account_age_days: float | None
    concentration: float
    score: float
    sample: str
    """A redacted example of the texts."""

    @property
    def span_days(self) -> float:
        """Days from the first to the last review of the burst."""
        return (self.last_ts - self.first_ts).total_seconds() / 86400

    def reason(self) -> str:
        """The evidence in one sentence, English and Chinese.

        >>> from datetime import UTC
        >>> ring = ReviewRing(("a", "b", "c"), ("1", "2", "3"), datetime(2025, 1, 1, tzinfo=UTC),
        ...     datetime(2025, 1, 3, tzinfo=UTC), 5.0, 1.0, 2 / 3, 20.0, 1.0, 0.9, "great!!")
        >>> print(ring.reason().replace("; ", ";\\n").replace(" (", "\\n("))
        3 accounts posted near-identical 5.0-star reviews within 2 days;
        2 of them were under 90 days old
        (3个账户在2天内发布近乎相同的5.0星评价，其中2个账户注册不足90天): “great!!”
        """
        days = max(1, round(self.span_days))
        young = round(self.young_share * len(self.accounts))
        stars = f"{self.mean_rating:.1f}-star " if self.mean_rating is not None else ""
        stars_zh = f"{self.mean_rating:.1f}星" if self.mean_rating is not None else ""
        return (
            f"{len(self.accounts)} accounts posted near-identical {stars}reviews within {days} "
            f"days; {young} of them were under 90 days old ({len(self.accounts)}个账户在{days}天"
            f"内发布近乎相同的{stars_zh}评价，其中{young}个账户注册不足90天): “{self.sample}”"
        )


def normalize_review(text: str) -> str:
    """Lower case, width-folded, without punctuation, emoji or spaces.

    >>> normalize_review("Perfect quality!!! 5 Stars 👍"), normalize_review("好评！质量　非常好～")
    ('perfectquality5stars', '好评质量非常好')
    """
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


def shingles(text: str, k: int = 3) -> set[str]:
    """Character k-grams of a normalised text.

    >>> sorted(shingles("abcd"))
    ['abc', 'bcd']
    """
    return {text[i : i + k] for i in range(max(len(text) - k + 1, 1))}


def find_review_rings(
    reviews: Sequence[Review],
    *,
    threshold: float = 0.6,
    num_perm: int = 64,
    burst_days: float = 7.0,
    min_accounts: int = 3,
    young_days: int = 90,
    min_score: float = 0.6,
    redactor: Redactor | None = None,
) -> list[ReviewRing]:
    """Rings of accounts posting near-identical reviews in a burst, most suspicious first."""
    datasketch = require("datasketch")
    by_text: dict[str, list[int]] = {}
    for i, review in enumerate(reviews):
        norm = normalize_review(review.text or "")
        if len(norm) >= MIN_CHARS:
            by_text.setdefault(norm, []).append(i)
    texts = list(by_text)
    lsh = datasketch.MinHashLSH(threshold=threshold, num_perm=num_perm)
    hashes = datasketch.MinHash.bulk(
        [[s.encode("utf-8") for s in shingles(t)] for t in texts], num_perm=num_perm, seed=1
    )
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, mh in enumerate(hashes):
        for j in lsh.query(mh):
            parent[root(i)] = root(int(j))
        lsh.insert(i, mh)
    groups: dict[int, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(root(i), []).extend(by_text[text])
    rings = []
    for members in groups.values():
        ring = _burst_ring(
            [reviews[i] for i in members], burst_days, min_accounts, young_days, redactor
        )
        if ring is not None and ring.score >= min_score:
            rings.append(ring)
    return sorted(rings, key=lambda r: (-r.score, -len(r.accounts), r.first_ts))


def _burst_ring(
    group: list[Review],
    burst_days: float,
    min_accounts: int,
    young_days: int,
    redactor: Redactor | None,
) -> ReviewRing | None:
    accounts_all = {r.customer_id for r in group}
    if len(accounts_all) < min_accounts:
        return None
    group = sorted(group, key=lambda r: r.ts)
    window = timedelta(days=burst_days)
    best: tuple[int, int, int] = (0, 0, 0)  # distinct accounts, start, end (exclusive)
    start = 0
    for end in range(len(group)):
        while group[end].ts - group[start].ts > window:
            start += 1
        distinct = len({r.customer_id for r in group[start : end + 1]})
        if distinct > best[0]:
            best = (distinct, start, end + 1)
    if best[0] < min_accounts:
        return None
    burst = group[best[1] : best[2]]
    accounts = tuple(sorted({r.customer_id for r in burst}))
    ratings = [r.rating for r in burst if r.rating is not None]
    ages = {
        r.customer_id: (r.ts.date() - r.signup_date).days
        for r in burst
        if r.signup_date is not None
    }
    size = min(1.0, len(accounts) / 8)
    extreme = sum(1 for x in ratings if x <= 1 or x >= 5) / len(ratings) if ratings else 0.0
    young = sum(1 for a in ages.values() if a < young_days) / len(accounts)
    concentration = len(accounts) / len(accounts_all)
    score = 0.3 * size + 0.25 * extreme + 0.3 * young + 0.15 * concentration
    return ReviewRing(
        accounts=accounts,
        review_ids=tuple(r.interaction_id for r in burst),
        first_ts=burst[0].ts,
        last_ts=burst[-1].ts,
        mean_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
        extreme_share=round(extreme, 4),
        young_share=round(young, 4),
        median_account_age_days=float(median(ages.values())) if ages else None,
        concentration=round(concentration, 4),
        score=round(score, 4),
        sample=snippet(burst[0].text, redactor),
    )


def load_reviews(conn: duckdb.DuckDBPyConnection, as_of: datetime, days: int = 180) -> list[Review]:
    """Reviews with text in the `days` before `as_of`, with their account's signup date."""
    rows = conn.execute(
        "SELECT i.interaction_id, i.customer_id, i.ts, i.rating, i.text, c.signup_date "
        "FROM interactions i LEFT JOIN customers c USING (customer_id) "
        "WHERE i.kind = 'review' AND i.text IS NOT NULL AND i.ts < ? AND i.ts >= ? "
        "ORDER BY i.ts, i.interaction_id",
        [as_of, as_of - timedelta(days=days)],
    ).fetchall()
    return [Review(*row) for row in rows]


__all__ = [
    "Review",
    "ReviewRing",
    "find_review_rings",
    "load_reviews",
    "normalize_review",
    "shingles",
]
