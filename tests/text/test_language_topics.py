"""Language detection, the taxonomy, the seed matcher, a model trained on labels alone."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sklearn.metrics import f1_score

from crew.errors import TaxonomyError
from crew.text.language import Language, detect_language
from crew.text.topic_model import TopicClassifier, topic_classifier
from crew.text.topics import OTHER, SeedMatcher, load_taxonomy

DATA = Path(__file__).parent.parent / "data"
TOPICS = (
    "regulator_threat", "cancellation_intent", "fraud_security", "privacy_data",
    "billing_fees", "delivery", "product_quality", "service_quality",
)  # fmt: skip


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_language() -> None:
    assert detect_language("我的快递丢了") == Language.ZH
    assert detect_language("My parcel is lost") == Language.EN
    assert detect_language("我要cancel我的account") == Language.ZH
    assert detect_language("") == Language.EN


def test_builtin_taxonomy_has_the_issue_topics_in_both_languages() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.ids == TOPICS
    for topic in taxonomy.topics:
        assert topic.seeds_en and topic.seeds_zh, topic.id
        assert topic.label.en and topic.label.zh


def test_workspace_taxonomy_extends_and_adds(tmp_path: Path) -> None:
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "topics.yaml").write_text(
        "topics:\n"
        "  delivery: {seeds: {zh: [菜鸟驿站]}}\n"
        "  store_visit:\n"
        "    label: {en: Store visit, zh: 门店}\n"
        "    seeds: {en: [in the store], zh: [门店]}\n",
        encoding="utf-8",
    )
    taxonomy = load_taxonomy(tmp_path)
    assert taxonomy.ids[-1] == "store_visit"
    assert taxonomy.sha256 != load_taxonomy().sha256
    matcher = SeedMatcher(taxonomy)
    assert matcher.classify("包裹一直在菜鸟驿站").topic == "delivery"
    assert "store_visit" in matcher.classify("The staff in the store ignored me").topics


def test_bad_taxonomy_names_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "topics.yaml").write_text(
        "topics:\n  newtopic: {seeds: {en: [x]}}\n", encoding="utf-8"
    )
    with pytest.raises(TaxonomyError, match=r"topics\.newtopic: a new topic needs a label"):
        load_taxonomy(tmp_path)
    (tmp_path / "catalog" / "topics.yaml").write_text(
        "topics:\n  Bad-Id: {seeds: {en: [x]}}\n", encoding="utf-8"
    )
    with pytest.raises(TaxonomyError, match="is not a usable topic id"):
        load_taxonomy(tmp_path)


def test_seed_matcher_inflections_and_mentions() -> None:
    matcher = SeedMatcher(load_taxonomy())
    result = matcher.classify("They refunded the wrong amount and I'll report you to the regulator")
    assert result.topic == "regulator_threat"
    assert set(result.topics) == {"regulator_threat", "billing_fees"}
    assert matcher.classify("Hello, nice weather today").topic == OTHER
    assert matcher.classify("Hello, nice weather today").score == 0.0


def test_seed_macro_f1_on_the_hand_labelled_set() -> None:
    """211 complaints written for the tests (docs/text.md reports this figure)."""
    rows = _rows("topics_labelled.tsv")
    assert len(rows) >= 200
    assert {r["topic"] for r in rows} == set(TOPICS)
    matcher = SeedMatcher(load_taxonomy())
    predicted = [matcher.classify(r["text"]).topic for r in rows]
    score = f1_score([r["topic"] for r in rows], predicted, labels=list(TOPICS), average="macro")
    assert score >= 0.8


def test_classifier_on_labels_alone_generalises_to_the_fresh_set() -> None:
    """Trained on the 211 texts and the seeds only (no built-in corpus), scored on 96 texts
    written afterwards."""
    train, test = _rows("topics_labelled.tsv"), _rows("topics_fresh.tsv")
    taxonomy = load_taxonomy()
    classifier = topic_classifier(taxonomy, [r["text"] for r in train], [r["topic"] for r in train])
    assert isinstance(classifier, TopicClassifier)
    predicted = [r.topic for r in classifier.classify_many([r["text"] for r in test])]
    score = f1_score([r["topic"] for r in test], predicted, labels=list(TOPICS), average="macro")
    assert score >= 0.7  # measured 0.79 (docs/text.md)


def test_too_few_labels_train_no_model_on_labels_alone() -> None:
    assert topic_classifier(load_taxonomy(), ["a", "b"], ["delivery", "billing_fees"]) is None


def test_unknown_labelled_topic_is_refused() -> None:
    with pytest.raises(TaxonomyError, match="unknown topics: shipping"):
        TopicClassifier.fit(load_taxonomy(), ["x"] * 40, ["shipping"] * 20 + ["delivery"] * 20)
