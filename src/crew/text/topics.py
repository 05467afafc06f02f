"""Complaint topics (投诉主题): a YAML taxonomy with seed phrases in English and Chinese,
the seed matcher, and the workspace's labelled interactions. The topic model trained on
them (and on a built-in corpus) is `crew.text.topic_model`.

The built-in taxonomy is `crew/text/topics.yaml`; `<workspace>/catalog/topics.yaml`
extends it (seeds added to a known topic, new topics appended). Labelled interactions are
read from `<workspace>/catalog/topic_labels.csv` (columns `topic` and `interaction_id` or
`text`).
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crew.errors import TaxonomyError

OTHER = "other"
"""Topic of a text that matches no seed (inquiries, praise, small talk)."""
WORKSPACE_TAXONOMY = Path("catalog") / "topics.yaml"
WORKSPACE_LABELS = Path("catalog") / "topic_labels.csv"
MIN_LABELLED = 30
"""Labelled texts needed (two topics or more) to train a model on them alone (comparisons)."""
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class TopicLabel(BaseModel):
    """A topic's name in English and 简体中文."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1, description="English label.")
    zh: str = Field(min_length=1, description="简体中文 label.")


class Seeds(BaseModel):
    """Seed phrases of a topic, per language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: list[str] = Field(default_factory=list, description="English words and phrases.")
    zh: list[str] = Field(default_factory=list, description="Chinese words and phrases.")


class TopicDef(BaseModel):
    """One topic of the taxonomy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: TopicLabel | None = Field(
        default=None, description="Labels; required for a new topic, optional when extending."
    )
    seeds: Seeds = Field(default_factory=Seeds, description="Seed phrases.")


class TaxonomyFile(BaseModel):
    """The shape of a topics.yaml file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: dict[str, TopicDef] = Field(description="Topic id -> definition, by priority.")

    @field_validator("topics")
    @classmethod
    def _ids(cls, value: dict[str, TopicDef]) -> dict[str, TopicDef]:
        for key in value:
            if not _ID.match(key) or key == OTHER:
                raise ValueError(f"'{key}' is not a usable topic id (snake_case, not 'other')")
        return value


@dataclass(frozen=True)
class Topic:
    """A resolved topic: id, labels and seeds."""

    id: str
    label: TopicLabel
    seeds_en: tuple[str, ...]
    seeds_zh: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    """Topics by priority, with a digest that changes when any seed changes."""

    topics: tuple[Topic, ...]
    sha256: str

    @property
    def ids(self) -> tuple[str, ...]:
        """Topic ids by priority."""
        return tuple(t.id for t in self.topics)

    def label(self, topic: str) -> TopicLabel:
        """Labels of a topic id (`other` included)."""
        for t in self.topics:
            if t.id == topic:
                return t.label
        return TopicLabel(en="Other", zh="其他")


def load_taxonomy(workspace_root: Path | None = None) -> Taxonomy:
    """The built-in taxonomy, extended by the workspace's catalog/topics.yaml if it has one."""
    text = resources.files("crew.text").joinpath("topics.yaml").read_text("utf-8")
    texts = [text]
    merged: dict[str, Topic] = {}
    _merge(merged, _parse(text, "crew/text/topics.yaml"), "crew/text/topics.yaml")
    if workspace_root is not None and (workspace_root / WORKSPACE_TAXONOMY).exists():
        path = workspace_root / WORKSPACE_TAXONOMY
        extra = path.read_text("utf-8")
        texts.append(extra)
        _merge(merged, _parse(extra, str(path)), str(path))
    digest = hashlib.sha256("\n---\n".join(texts).encode()).hexdigest()
    return Taxonomy(tuple(merged.values()), digest)


def _parse(text: str, where: str) -> TaxonomyFile:
    try:
        raw = yaml.safe_load(text) or {}
        return TaxonomyFile.model_validate(raw)
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{where}: not valid YAML ({exc}).") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise TaxonomyError(
            f"{where}: {path}: {message}.", hint="docs/text.md describes the taxonomy file."
        ) from None


def _merge(merged: dict[str, Topic], file: TaxonomyFile, where: str) -> None:
    for key, topic in file.topics.items():
        old = merged.get(key)
        if old is None and topic.label is None:
            raise TaxonomyError(
                f"{where}: topics.{key}: a new topic needs a label (en and zh).",
                hint=f"Known topics: {', '.join(merged)}.",
            )
        merged[key] = Topic(
            id=key,
            label=topic.label or (old.label if old else TopicLabel(en=key, zh=key)),
            seeds_en=(old.seeds_en if old else ()) + tuple(s.lower() for s in topic.seeds.en),
            seeds_zh=(old.seeds_zh if old else ()) + tuple(topic.seeds.zh),
        )


@dataclass(frozen=True)
class TopicResult:
    """Main topic, its confidence (0..1), and every topic the text mentions (main first)."""

    topic: str
    score: float
    topics: tuple[str, ...]
    evidence: tuple[str, ...]
    """Seed phrases found in the text, main topic's first."""


_WORDS = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")


def _forms(word: str) -> set[str]:
    """A seed's last word with its usual endings (refund: refunds, refunded, refunding).

    >>> sorted(_forms("charge"))
    ['charge', 'charged', 'charges', 'charging']
    """
    if not word.isalpha():
        return {word}
    if word.endswith("e") and len(word) > 3:
        return {word, word + "s", word + "d", word[:-1] + "ing"}
    return {word, word + "s", word + "es", word + "ed", word + "ing"}


class SeedMatcher:
    """Topics by seed phrases: the more distinct seeds of a topic a text holds, the surer.

    English seeds are looked up word by word (an index from a seed's first word), Chinese
    seeds by substring, so the cost grows with the text, not with the taxonomy.
    """

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._zh = [t.seeds_zh for t in taxonomy.topics]
        # first word form -> (topic index, seed, remaining words, forms of the last word)
        self._index: dict[str, list[tuple[int, str, tuple[str, ...], frozenset[str]]]] = {}
        for k, topic in enumerate(taxonomy.topics):
            for seed in topic.seeds_en:
                words = tuple(_WORDS.findall(seed))
                if not words:
                    continue
                last = frozenset(_forms(words[-1]))
                heads = last if len(words) == 1 else {words[0]}
                for head in heads:
                    self._index.setdefault(head, []).append((k, seed, words[1:], last))

    def hits(self, text: str) -> list[list[str]]:
        """Seeds of each topic (taxonomy order) found in `text`, without seeds that are
        part of a longer one found (charge in charged twice)."""
        found: list[list[str]] = [[s for s in seeds if s in text] for seeds in self._zh]
        if text.isascii() or any("a" <= c <= "z" or "A" <= c <= "Z" for c in text):
            words = _WORDS.findall(text.lower())
            for i, word in enumerate(words):
                for k, seed, rest, last in self._index.get(word, ()):
                    if not rest:
                        found[k].append(seed)
                        continue
                    tail = words[i + 1 : i + 1 + len(rest)]
                    whole = len(tail) == len(rest) and tuple(tail[:-1]) == rest[:-1]
                    if whole and tail[-1] in last:
                        found[k].append(seed)
        return [_longest(h) for h in found]

    def classify(self, text: str) -> TopicResult:
        """Main topic by seed count (ties go to the earlier topic), confidence, all topics.

        >>> m = SeedMatcher(load_taxonomy())
        >>> r = m.classify("Charged twice again, I will close my account")
        >>> r.topic, r.topics
        ('cancellation_intent', ('cancellation_intent', 'billing_fees'))
        >>> r.evidence
        ('close my account', 'charged twice')
        """
        return _result(self.taxonomy, self.hits(text))


def _longest(hits: list[str]) -> list[str]:
    unique = list(dict.fromkeys(hits))
    return [h for h in unique if not any(h != o and h in o for o in unique)]


def _result(taxonomy: Taxonomy, hits: list[list[str]]) -> TopicResult:
    counts = [_weight(h) for h in hits]
    total = sum(counts)
    if total == 0:
        return TopicResult(OTHER, 0.0, (), ())
    order = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    best = order[0]
    score = (1.0 - math.exp(-counts[best])) * counts[best] / total
    mentioned = tuple(taxonomy.topics[i].id for i in order if counts[i] > 0)
    evidence = tuple(s for i in order for s in hits[i])
    return TopicResult(taxonomy.topics[best].id, round(score, 4), mentioned, evidence)


def _weight(hits: list[str]) -> float:
    """Seeds found, a longer phrase counting more than a single word (it is more specific)."""
    return sum(1.5 if (" " in h or (len(h) >= 3 and not h.isascii())) else 1.0 for h in hits)


def labelled_texts(
    conn: duckdb.DuckDBPyConnection, workspace_root: Path | None
) -> tuple[list[str], list[str]]:
    """Texts and topics from the workspace's catalog/topic_labels.csv (empty without one)."""
    if workspace_root is None or not (workspace_root / WORKSPACE_LABELS).exists():
        return [], []
    path = workspace_root / WORKSPACE_LABELS
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if rows and "topic" not in rows[0]:
        raise TaxonomyError(
            f"{path}: no 'topic' column.", hint="Columns: topic and interaction_id or text."
        )
    by_id = {r["interaction_id"]: r["topic"] for r in rows if r.get("interaction_id")}
    texts = [r["text"] for r in rows if r.get("text") and not r.get("interaction_id")]
    topics = [r["topic"] for r in rows if r.get("text") and not r.get("interaction_id")]
    if by_id:
        found = conn.execute(
            "SELECT interaction_id, text FROM interactions "
            "WHERE text IS NOT NULL AND interaction_id IN (SELECT unnest(?))",
            [list(by_id)],
        ).fetchall()
        for interaction_id, text in found:
            texts.append(text)
            topics.append(by_id[interaction_id])
    return texts, topics


__all__ = [
    "OTHER",
    "SeedMatcher",
    "Taxonomy",
    "Topic",
    "TopicResult",
    "labelled_texts",
    "load_taxonomy",
]
