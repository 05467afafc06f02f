"""Interaction text intelligence: language, sentiment, complaint topics, urgency, key
phrases and evidence, PII redaction, and fake-review rings, in English and Chinese, offline.

The analysers need the `text` extra (`pip install 'crew[text]'`); redaction, evidence
sentences and the taxonomy do not. Nothing is downloaded at run time.
"""

from crew.text._extra import extra_installed
from crew.text.analyze import (
    AnalyzeReport,
    TextAnalysis,
    TextAnalyzer,
    analyze_store,
    analyze_text,
    build_analyzer,
    default_analyzer,
)
from crew.text.evidence import evidence_sentence, snippet, topic_evidence
from crew.text.language import Language, detect_language
from crew.text.redaction import Redactor, is_valid_id_number, redact, redactor_from_store
from crew.text.reviews import Review, ReviewRing, find_review_rings, load_reviews
from crew.text.sentiment import SentimentLabel
from crew.text.topic_model import TopicClassifier, default_topic_classifier
from crew.text.topics import OTHER, Taxonomy, load_taxonomy
from crew.text.urgency import UrgencyLevel

__all__ = [
    "OTHER",
    "AnalyzeReport",
    "Language",
    "Redactor",
    "Review",
    "ReviewRing",
    "SentimentLabel",
    "Taxonomy",
    "TextAnalysis",
    "TextAnalyzer",
    "TopicClassifier",
    "UrgencyLevel",
    "analyze_store",
    "analyze_text",
    "build_analyzer",
    "default_analyzer",
    "default_topic_classifier",
    "detect_language",
    "evidence_sentence",
    "extra_installed",
    "find_review_rings",
    "is_valid_id_number",
    "load_reviews",
    "load_taxonomy",
    "redact",
    "redactor_from_store",
    "snippet",
    "topic_evidence",
]
