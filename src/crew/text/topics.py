"""Complaint topics (投诉主题): a YAML taxonomy with seed phrases in English and Chinese,
and a classifier trained on the workspace's labelled interactions when it has enough,
falling back to the seed phrases when it has not.

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
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crew.errors import TaxonomyError
from crew.text.language import chinese_words

OTHER = "other"
"""Topic of a text that matches no seed (inquiries, praise, small talk)."""
WORKSPACE_TAXONOMY = Path("catalog") / "topics.yaml"
WORKSPACE_LABELS = Path("catalog") / "topic_labels.csv"
MIN_LABELLED = 30
"""Labelled texts needed (over at least two topics) before a classifier replaces the seeds."""
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


class TopicClassifier:
    """A classifier trained on labelled texts, with the seed hits as extra features."""

    def __init__(self, matcher: SeedMatcher, model: Any, classes: tuple[str, ...]) -> None:
        self.matcher = matcher
        self.model = model
        self.classes = classes

    @classmethod
    def fit(
        cls, taxonomy: Taxonomy, texts: Sequence[str], topics: Sequence[str]
    ) -> TopicClassifier:
        """Train on `texts` labelled with `topics` plus every seed phrase as an example."""
        from sklearn.linear_model import LogisticRegression

        matcher = SeedMatcher(taxonomy)
        known = set(taxonomy.ids) | {OTHER}
        unknown = sorted({t for t in topics if t not in known})
        if unknown:
            raise TaxonomyError(
                f"Labelled texts use unknown topics: {', '.join(unknown)}.",
                hint=f"Topics: {', '.join(sorted(known))}; add new ones to catalog/topics.yaml.",
            )
        seed_texts = [s for t in taxonomy.topics for s in (*t.seeds_en, *t.seeds_zh)]
        seed_topics = [t.id for t in taxonomy.topics for _ in (*t.seeds_en, *t.seeds_zh)]
        all_texts = [*texts, *seed_texts]
        all_topics = [*topics, *seed_topics]
        features = _features(matcher, all_texts)
        model = LogisticRegression(C=20.0, solver="saga", max_iter=1000, tol=1e-3)
        model.fit(features, np.array(all_topics))
        return cls(matcher, model, tuple(str(c) for c in model.classes_))

    def classify_many(self, texts: Sequence[str]) -> list[TopicResult]:
        """Main topic and confidence from the model; mentions from the seeds and the model."""
        if not texts:
            return []
        proba = self.model.predict_proba(_features(self.matcher, texts))
        results = []
        for text, row in zip(texts, proba, strict=True):
            best = int(np.argmax(row))
            topic = self.classes[best]
            seeds = _result(self.matcher.taxonomy, self.matcher.hits(text))
            mentioned = tuple(dict.fromkeys([topic, *seeds.topics]))
            if topic == OTHER:
                mentioned = seeds.topics
            results.append(
                TopicResult(topic, round(float(row[best]), 4), mentioned, seeds.evidence)
            )
        return results


def _features(matcher: SeedMatcher, texts: Sequence[str]) -> Any:
    """Character 2-4-grams and jieba words, hashed. Seed hits are deliberately not a
    feature: with them the model leaned on the seeds and generalised worse (docs/text.md)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer=_grams, n_features=2**18, alternate_sign=False).transform(
        list(texts)
    )


def _grams(text: str) -> list[str]:
    text = text.lower()
    grams = [text[i : i + n] for n in (2, 3, 4) for i in range(len(text) - n + 1)]
    return grams + ["w:" + w for w in chinese_words(text) if w.strip()]


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


def topic_classifier(
    taxonomy: Taxonomy, texts: Sequence[str], topics: Sequence[str]
) -> TopicClassifier | None:
    """A trained classifier when there are enough labels (else None: use the seeds)."""
    if len(texts) < MIN_LABELLED or len(set(topics)) < 2:
        return None
    return TopicClassifier.fit(taxonomy, texts, topics)


__all__ = [
    "OTHER",
    "SeedMatcher",
    "Taxonomy",
    "Topic",
    "TopicClassifier",
    "TopicResult",
    "labelled_texts",
    "load_taxonomy",
    "topic_classifier",
]
