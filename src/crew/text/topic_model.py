"""The topic model (主题分类模型): a linear classifier on character n-grams and jieba words.

By default it is trained, when the analyser is built, on the built-in labelled corpus
(`crew/text/topic_corpus.yaml`), every seed phrase of the taxonomy, and the workspace's own
labelled texts (`catalog/topic_labels.csv`), which weigh more and win on a clash. The seeds
also add the other topics a text mentions, and nudge the main topic (a seed found adds
`SEED_PRIOR` to its topic's probability). Training takes about two seconds; the model is
kept in memory (one per taxonomy and label set), never written to disk.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from importlib import resources

import numpy as np
import numpy.typing as npt
import yaml

from crew.errors import TaxonomyError
from crew.text.language import chinese_words, has_chinese
from crew.text.topics import (
    MIN_LABELLED,
    OTHER,
    SeedMatcher,
    Taxonomy,
    TopicResult,
    _result,
)

C = 20.0
"""Inverse regularisation of the logistic regression (chosen by cross-validation on the
hand-labelled sets, docs/text.md)."""
SEED_PRIOR = 0.25
"""Added to the probability of each topic whose seeds a text holds (chosen likewise)."""
LABEL_WEIGHT = 3.0
"""Weight of a workspace's labelled text against a built-in example."""
_CORPUS = "topic_corpus.yaml"
_WORDS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def builtin_corpus() -> tuple[list[str], list[str]]:
    """Texts and topics of the built-in corpus (`crew/text/topic_corpus.yaml`)."""
    raw = resources.files("crew.text").joinpath(_CORPUS).read_text("utf-8")
    data = yaml.safe_load(raw)["topics"]
    texts, topics = [], []
    for topic, by_lang in data.items():
        for text in (*by_lang.get("en", ()), *by_lang.get("zh", ())):
            texts.append(str(text))
            topics.append(str(topic))
    return texts, topics


def _corpus_digest() -> str:
    raw = resources.files("crew.text").joinpath(_CORPUS).read_bytes()
    return hashlib.sha256(raw).hexdigest()


def grams(text: str) -> list[str]:
    """Features of a text: character 1-4-grams of the lower-cased text, and its words
    (jieba's when it holds Chinese, else runs of letters and digits).

    >>> grams("Ab c")
    ['a', 'b', ' ', 'c', 'ab', 'b ', ' c', 'ab ', 'b c', 'ab c', 'w:ab', 'w:c']
    """
    text = text.lower()
    # Single characters matter for Chinese, where one character is often a word (退, 骗, 慢).
    found = [text[i : i + n] for n in (1, 2, 3, 4) for i in range(len(text) - n + 1)]
    words = chinese_words(text) if has_chinese(text) else _WORDS.findall(text)
    return found + ["w:" + w for w in words if w.strip()]


def _columns(text: str, vocabulary: dict[str, int]) -> tuple[list[int], float]:
    """Vocabulary columns of a text's grams (repeated as often as a gram occurs), and the
    L2 norm of all its gram counts (grams outside the vocabulary count in the norm)."""
    found = grams(text)
    counts = Counter(found).values()
    norm = math.hypot(*counts) or 1.0
    return [c for c in map(vocabulary.get, found) if c is not None], norm


class TopicClassifier:
    """A linear model over a gram vocabulary; seeds add mentions and a small prior."""

    def __init__(
        self,
        matcher: SeedMatcher,
        vocabulary: dict[str, int],
        weights: npt.NDArray[np.float64],
        intercept: npt.NDArray[np.float64],
        classes: tuple[str, ...],
        digest: str,
        source: str,
    ) -> None:
        self.matcher = matcher
        self.vocabulary = vocabulary
        self.weights = weights
        self.intercept = intercept
        self.classes = classes
        self.digest = digest
        """Changes with the corpus, the taxonomy or the labels the model was trained on."""
        self.source = source
        """What it was trained on, for messages: 'built-in model + 40 labelled texts'."""
        ids = matcher.taxonomy.ids
        self._seed_column = [classes.index(t) if t in classes else -1 for t in ids]

    @classmethod
    def fit(
        cls,
        taxonomy: Taxonomy,
        texts: Sequence[str],
        topics: Sequence[str],
        *,
        builtin: bool = True,
    ) -> TopicClassifier:
        """Train on `texts` labelled `topics` (weight `LABEL_WEIGHT` when `builtin`), the
        built-in corpus (unless `builtin` is False) and every seed phrase as an example."""
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression

        _check_topics(taxonomy, topics)
        seed_texts = [s for t in taxonomy.topics for s in (*t.seeds_en, *t.seeds_zh)]
        seed_topics = [t.id for t in taxonomy.topics for _ in (*t.seeds_en, *t.seeds_zh)]
        own = {t.strip().lower() for t in texts}
        base_texts, base_topics = builtin_corpus() if builtin else ([], [])
        kept = [i for i, t in enumerate(base_texts) if t.strip().lower() not in own]
        all_texts = [*texts, *(base_texts[i] for i in kept), *seed_texts]
        all_topics = [*topics, *(base_topics[i] for i in kept), *seed_topics]
        weight = np.ones(len(all_texts))
        weight[: len(texts)] = LABEL_WEIGHT if builtin else 1.0
        vocabulary: dict[str, int] = {}
        for text in all_texts:
            for gram in grams(text):
                vocabulary.setdefault(gram, len(vocabulary))
        columns, data, indptr = [], [], [0]
        for text in all_texts:
            found, norm = _columns(text, vocabulary)
            columns += found
            data += [1.0 / norm] * len(found)
            indptr.append(len(columns))
        shape = (len(all_texts), len(vocabulary))
        features = csr_matrix((data, columns, indptr), shape=shape)
        features.sum_duplicates()
        model = LogisticRegression(C=C, solver="saga", max_iter=1000, tol=1e-3, random_state=0)
        model.fit(features, np.array(all_topics), sample_weight=weight)
        classes = tuple(str(c) for c in model.classes_)
        coef = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if len(classes) == 2:  # a binary model keeps one row: the second class's side
            coef = np.vstack([-coef[0], coef[0]])
            intercept = np.array([-intercept[0], intercept[0]])
        digest = hashlib.sha256(
            "\n".join(
                [_corpus_digest() if builtin else "-", taxonomy.sha256, *texts, *topics]
            ).encode()
        ).hexdigest()
        own_part = f"{len(texts)} labelled text{'s' * (len(texts) != 1)}" if texts else ""
        source = " + ".join(p for p in ("built-in model" if builtin else "", own_part) if p)
        return cls(
            SeedMatcher(taxonomy), vocabulary, coef.T.copy(), intercept, classes, digest, source
        )

    def probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Class probabilities (columns in `classes` order) of each text."""
        scores = np.tile(self.intercept, (len(texts), 1))
        for i, text in enumerate(texts):
            columns, norm = _columns(text, self.vocabulary)
            if columns:
                scores[i] += self.weights[columns].sum(axis=0) / norm
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def classify_many(self, texts: Sequence[str]) -> list[TopicResult]:
        """Main topic and confidence from the model (nudged by the seeds found); the other
        topics mentioned and the evidence from the seeds."""
        if not texts:
            return []
        proba = self.probabilities(texts)
        results = []
        for text, row in zip(texts, proba, strict=True):
            hits = self.matcher.hits(text)
            nudged = row.copy()
            for k, found in enumerate(hits):
                if found and self._seed_column[k] >= 0:
                    nudged[self._seed_column[k]] += SEED_PRIOR
            best = int(np.argmax(nudged))
            topic = self.classes[best]
            seeds = _result(self.matcher.taxonomy, hits)
            mentioned = seeds.topics if topic == OTHER else (topic, *seeds.topics)
            results.append(
                TopicResult(
                    topic, round(float(row[best]), 4), tuple(dict.fromkeys(mentioned)),
                    seeds.evidence,
                )
            )  # fmt: skip
        return results


def _check_topics(taxonomy: Taxonomy, topics: Sequence[str]) -> None:
    known = set(taxonomy.ids) | {OTHER}
    unknown = sorted({t for t in topics if t not in known})
    if unknown:
        raise TaxonomyError(
            f"Labelled texts use unknown topics: {', '.join(unknown)}.",
            hint=f"Topics: {', '.join(sorted(known))}; add new ones to catalog/topics.yaml.",
        )


_DEFAULT: dict[str, TopicClassifier] = {}


def default_topic_classifier(
    taxonomy: Taxonomy, texts: Sequence[str] = (), topics: Sequence[str] = ()
) -> TopicClassifier:
    """The default model: built-in corpus + seeds + the workspace's labelled texts.

    Without labels it is trained once per process and taxonomy and kept.

    Raises:
        TaxonomyError: a label names a topic the taxonomy does not have.
    """
    if texts:
        return TopicClassifier.fit(taxonomy, texts, topics)
    model = _DEFAULT.get(taxonomy.sha256)
    if model is None:
        model = _DEFAULT[taxonomy.sha256] = TopicClassifier.fit(taxonomy, [], [])
    return model


def topic_classifier(
    taxonomy: Taxonomy, texts: Sequence[str], topics: Sequence[str]
) -> TopicClassifier | None:
    """A model trained on `texts` and the seeds alone, without the built-in corpus, when
    there are enough labels (else None); for comparisons (bench/text_accuracy.py)."""
    if len(texts) < MIN_LABELLED or len(set(topics)) < 2:
        return None
    return TopicClassifier.fit(taxonomy, texts, topics, builtin=False)


__all__ = [
    "TopicClassifier",
    "builtin_corpus",
    "default_topic_classifier",
    "grams",
    "topic_classifier",
]
