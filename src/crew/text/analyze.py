"""Analyse interaction texts: one text now (`analyze_text`), or every new or changed text
of a workspace in one transaction (`analyze_store`).

`analyze_text` is what the stream workers will call per event before the event's signals
are evaluated: it holds no I/O, and after the models are loaded (once per process) it
takes well under a millisecond for a short text.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa

from crew.store.duckdb import transaction
from crew.text.language import Language, detect_language
from crew.text.phrases import key_phrases
from crew.text.redaction import Redactor, redact, redactor_from_store
from crew.text.sentiment import (
    MODEL_VERSION,
    ChineseSentiment,
    EnglishSentiment,
    SentimentLabel,
    label_for,
    load_chinese_sentiment,
    with_complaint_prior,
)
from crew.text.topic_model import TopicClassifier, default_topic_classifier
from crew.text.topics import SeedMatcher, Taxonomy, TopicResult, labelled_texts, load_taxonomy
from crew.text.urgency import UrgencyLevel, urgency_for, urgency_level

ANALYZER_VERSION = "text-2"
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|ID|NUMBER|NAME)\]")
BATCH = 2000
Progress = Callable[[int, int], None]
"""Told (texts done, texts in all) as a batch run advances."""


@dataclass(frozen=True)
class TextAnalysis:
    """What one text says: language, sentiment, topics, urgency, key phrases."""

    lang: Language
    sentiment: float
    sentiment_label: SentimentLabel
    topic: str
    topic_score: float
    topics: tuple[str, ...]
    urgency: float
    urgency_level: UrgencyLevel
    key_phrases: tuple[str, ...]
    evidence: tuple[str, ...] = field(default=())
    """Seed phrases that decided the topics."""


@dataclass
class TextAnalyzer:
    """The loaded models; build once per process (`default_analyzer`) and reuse."""

    taxonomy: Taxonomy
    english: EnglishSentiment
    chinese: ChineseSentiment
    classifier: TopicClassifier | None = None
    """The topic model; None: topics from the seed phrases alone."""
    redactor: Redactor = field(default_factory=Redactor)

    def __post_init__(self) -> None:
        self.matcher = SeedMatcher(self.taxonomy)

    @property
    def version(self) -> str:
        """Changes when a model, the taxonomy or the labels change: texts are then redone."""
        topics = "seeds" if self.classifier is None else f"model-{self.classifier.digest[:12]}"
        return f"{ANALYZER_VERSION}/{MODEL_VERSION}/{self.taxonomy.sha256[:12]}/{topics}"

    @property
    def topic_source(self) -> str:
        """Where topics come from, for messages: 'seeds', 'built-in model', ..."""
        return "seeds" if self.classifier is None else self.classifier.source

    def analyze_many(
        self,
        texts: Sequence[str],
        kinds: Sequence[str | None] | None = None,
        severities: Sequence[int | None] | None = None,
        redactor: Redactor | None = None,
    ) -> list[TextAnalysis]:
        """Analyse a batch (the Chinese model and a trained classifier run vectorised);
        key phrases are taken from the text redacted by `redactor` (default: the analyser's)."""
        redactor = redactor or self.redactor
        n = len(texts)
        kinds = kinds if kinds is not None else [None] * n
        severities = severities if severities is not None else [None] * n
        langs = [detect_language(t) for t in texts]
        sentiment = [0.0] * n
        zh = [i for i in range(n) if langs[i] == Language.ZH]
        for i, score in zip(zh, self.chinese.scores([texts[i] for i in zh]), strict=True):
            sentiment[i] = float(score)
        for i in range(n):
            if langs[i] == Language.EN:
                sentiment[i] = self.english.score(texts[i])
        if self.classifier is not None:
            topics = self.classifier.classify_many(texts)
        else:
            topics = [self.matcher.classify(t) for t in texts]
        sentiment = [
            with_complaint_prior(s, t, bool(r.topics))
            for s, t, r in zip(sentiment, texts, topics, strict=True)
        ]
        return [
            self._finish(
                texts[i], langs[i], sentiment[i], topics[i], kinds[i], severities[i], redactor
            )
            for i in range(n)
        ]

    def _finish(
        self,
        text: str,
        lang: Language,
        sentiment: float,
        topic: TopicResult,
        kind: str | None,
        severity: int | None,
        redactor: Redactor,
    ) -> TextAnalysis:
        urgency = urgency_for(
            text, sentiment=sentiment, topics=topic.topics, kind=kind, severity=severity
        )
        masked = _PLACEHOLDER.sub("，" if lang == Language.ZH else ", ", redact(text, redactor))
        phrases = key_phrases(masked, lang, topic.evidence[:2])
        return TextAnalysis(
            lang=lang,
            sentiment=round(sentiment, 4),
            sentiment_label=label_for(sentiment),
            topic=topic.topic,
            topic_score=topic.score,
            topics=topic.topics,
            urgency=urgency,
            urgency_level=urgency_level(urgency),
            key_phrases=tuple(phrases),
            evidence=topic.evidence,
        )


def build_analyzer(
    workspace_root: Path | None = None,
    conn: duckdb.DuckDBPyConnection | None = None,
    *,
    chinese: ChineseSentiment | None = None,
    seeds_only: bool = False,
) -> TextAnalyzer:
    """Load the models: the taxonomy (with the workspace's), the topic model (built-in
    corpus, seeds and the workspace's labelled texts; about 2 s to train, once per process
    unless the workspace has labels), the redactor with the workspace's customer names.
    `seeds_only` skips the topic model: topics then come from the seed phrases alone."""
    taxonomy = load_taxonomy(workspace_root)
    texts: list[str] = []
    topics: list[str] = []
    redactor = Redactor()
    if conn is not None:
        texts, topics = labelled_texts(conn, workspace_root)
        redactor = redactor_from_store(conn)
    classifier = None if seeds_only else default_topic_classifier(taxonomy, texts, topics)
    return TextAnalyzer(
        taxonomy=taxonomy,
        english=EnglishSentiment(),
        chinese=chinese or load_chinese_sentiment(),
        classifier=classifier,
        redactor=redactor,
    )


@lru_cache(maxsize=1)
def default_analyzer() -> TextAnalyzer:
    """The built-in analyser (no workspace), loaded on first use and kept."""
    return build_analyzer()


def analyze_text(
    text: str,
    *,
    kind: str | None = None,
    severity: int | None = None,
    analyzer: TextAnalyzer | None = None,
) -> TextAnalysis:
    """Analyse one text (for a stream worker: call it per event, reuse `analyzer`).

    Raises:
        MissingExtraError: the `text` extra is not installed.
    """
    return (analyzer or default_analyzer()).analyze_many([text], [kind], [severity])[0]


def text_hash(text: str) -> str:
    """SHA-256 of a text, hex (what decides whether a text is analysed again).

    >>> text_hash("abc")[:12]
    'ba7816bf8f01'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AnalyzeReport:
    """What a batch run did."""

    analysed: int
    new: int
    changed: int
    unchanged: int
    removed: int
    seconds: float
    analyzer: str

    @property
    def texts_per_second(self) -> float:
        """Throughput of the analysis itself."""
        return self.analysed / self.seconds if self.seconds > 0 else 0.0


def analyze_store(
    conn: duckdb.DuckDBPyConnection,
    analyzer: TextAnalyzer,
    *,
    as_of: datetime | None = None,
    progress: Progress | None = None,
) -> AnalyzeReport:
    """Analyse every interaction text (before `as_of` when given) that is new, changed or
    was analysed by another analyser version; all written in one transaction."""
    at = as_of.astimezone(UTC) if as_of is not None else None
    where = "i.text IS NOT NULL AND length(trim(i.text)) > 0" + (" AND i.ts < ?" if at else "")
    params: list[object] = [at] if at else []
    version = analyzer.version
    known = analyzer.redactor.chinese_names or analyzer.redactor.latin_names
    redactor = analyzer.redactor if known else redactor_from_store(conn)
    rows = conn.execute(
        "SELECT i.interaction_id, i.customer_id, i.ts, i.kind, i.severity, i.text, "
        "t.text_hash, t.analyzer FROM interactions i "
        f"LEFT JOIN interaction_text t USING (interaction_id) WHERE {where}",
        params,
    ).fetchall()
    todo, new, changed = [], 0, 0
    for row in rows:
        digest = text_hash(row[5])
        if row[6] == digest and row[7] == version:
            continue
        new += row[6] is None
        changed += row[6] is not None
        todo.append((*row[:6], digest))
    started = time.perf_counter()
    results: list[TextAnalysis] = []
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        results += analyzer.analyze_many(
            [r[5] for r in chunk], [r[3] for r in chunk], [r[4] for r in chunk], redactor
        )
        if progress is not None:
            progress(len(results), len(todo))
    seconds = time.perf_counter() - started
    table = _as_table(todo, results, version)
    with transaction(conn):
        removed = _remove_stale(conn)
        if len(table):
            conn.register("_crew_text_rows", table)
            conn.execute("INSERT OR REPLACE INTO interaction_text SELECT * FROM _crew_text_rows")
            conn.unregister("_crew_text_rows")
        _copy_moved_fields(conn)
    return AnalyzeReport(
        analysed=len(todo),
        new=new,
        changed=changed,
        unchanged=len(rows) - len(todo),
        removed=removed,
        seconds=seconds,
        analyzer=version,
    )


def _remove_stale(conn: duckdb.DuckDBPyConnection) -> int:
    """Drop analyses whose interaction is gone or has no text any more."""
    rows = conn.execute(
        "SELECT count(*) FROM interaction_text t WHERE NOT EXISTS (SELECT 1 FROM interactions "
        "i WHERE i.interaction_id = t.interaction_id AND i.text IS NOT NULL)"
    ).fetchall()
    count = int(rows[0][0]) if rows else 0
    if count:
        conn.execute(
            "DELETE FROM interaction_text WHERE interaction_id NOT IN (SELECT interaction_id "
            "FROM interactions WHERE text IS NOT NULL)"
        )
    return count


def _copy_moved_fields(conn: duckdb.DuckDBPyConnection) -> None:
    """A re-imported interaction may keep its text but move in time or change kind."""
    conn.execute(
        "UPDATE interaction_text t SET customer_id = i.customer_id, ts = i.ts, kind = i.kind "
        "FROM interactions i WHERE i.interaction_id = t.interaction_id AND (t.ts <> i.ts OR "
        "t.kind <> i.kind OR t.customer_id <> i.customer_id)"
    )


def _as_table(
    todo: list[tuple[object, ...]], results: list[TextAnalysis], version: str
) -> pa.Table:
    now = datetime.now(UTC)
    return pa.table(
        {
            "interaction_id": pa.array([r[0] for r in todo], pa.string()),
            "customer_id": pa.array([r[1] for r in todo], pa.string()),
            "ts": pa.array([r[2] for r in todo], pa.timestamp("us", tz="UTC")),
            "kind": pa.array([r[3] for r in todo], pa.string()),
            "lang": pa.array([a.lang.value for a in results], pa.string()),
            "sentiment": pa.array([a.sentiment for a in results], pa.float64()),
            "sentiment_label": pa.array([a.sentiment_label.value for a in results], pa.string()),
            "topic": pa.array([a.topic for a in results], pa.string()),
            "topic_score": pa.array([a.topic_score for a in results], pa.float64()),
            "topics": pa.array([list(a.topics) for a in results], pa.list_(pa.string())),
            "urgency": pa.array([a.urgency for a in results], pa.float64()),
            "urgency_level": pa.array([a.urgency_level.value for a in results], pa.string()),
            "key_phrases": pa.array([list(a.key_phrases) for a in results], pa.list_(pa.string())),
            "text_hash": pa.array([r[6] for r in todo], pa.string()),
            "analyzer": pa.array([version] * len(todo), pa.string()),
            "analyzed_at": pa.array([now] * len(todo), pa.timestamp("us", tz="UTC")),
        }
    )


__all__ = [
    "ANALYZER_VERSION",
    "AnalyzeReport",
    "TextAnalysis",
    "TextAnalyzer",
    "analyze_store",
    "analyze_text",
    "build_analyzer",
    "default_analyzer",
    "text_hash",
]
