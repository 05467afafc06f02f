"""analyze_text and the batch enrichment of a workspace (incremental, one transaction)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from crew.indicators._compile import compile_indicators
from crew.indicators.catalog import load_catalog
from crew.indicators.engines import run_duckdb
from crew.store import init_workspace, open_workspace
from crew.text.analyze import TextAnalyzer, analyze_store, analyze_text
from crew.text.evidence import topic_evidence
from crew.text.redaction import redactor_from_store

AS_OF = datetime(2025, 7, 1, tzinfo=UTC)


def _fill(db: duckdb.DuckDBPyConnection) -> None:
    db.execute(
        "INSERT INTO customers (customer_id, signup_date, name) VALUES "
        "('c1', '2024-01-01', '王小明'), ('c2', '2024-01-01', 'Tom Baker'), "
        "('c3', '2024-01-01', NULL)"
    )
    db.execute(
        "INSERT INTO interactions (interaction_id, customer_id, ts, kind, severity, text) VALUES "
        "('i1', 'c1', '2025-06-20 10:00+00', 'complaint', 3, "
        "'我是王小明，电话13812345678，再不退款我就销户，还要打12315投诉！'),"
        "('i2', 'c1', '2025-06-25 10:00+00', 'complaint', 2, '又被重复扣款了，我要注销账户'),"
        "('i3', 'c2', '2025-06-10 10:00+00', 'chat', NULL, "
        "'Hi, this is Tom Baker. Thanks, the agent sorted my refund quickly.'),"
        "('i4', 'c2', '2025-06-11 10:00+00', 'survey', NULL, NULL),"
        "('i5', 'c3', '2025-07-05 10:00+00', 'complaint', 4, "
        "'Parcel never arrived, cancel my order')"
    )


def test_analyze_text_reads_a_cancellation_complaint(analyzer: TextAnalyzer) -> None:
    result = analyze_text(
        "I was charged twice and nobody answers. Close my account TODAY or I go to the regulator!!",
        kind="complaint",
        analyzer=analyzer,
    )
    assert result.lang.value == "en"
    assert result.sentiment_label.value == "negative"
    assert {"cancellation_intent", "regulator_threat", "billing_fees"} <= set(result.topics)
    assert result.urgency_level.value == "high"
    assert result.key_phrases and len(result.key_phrases) <= 5


def test_store_enrichment_is_incremental(
    db: duckdb.DuckDBPyConnection, analyzer: TextAnalyzer
) -> None:
    _fill(db)
    first = analyze_store(db, analyzer, as_of=AS_OF)
    assert (first.analysed, first.new, first.changed, first.unchanged) == (3, 3, 0, 0)
    rows = db.execute(
        "SELECT interaction_id, customer_id, kind, lang, topic, topics, key_phrases "
        "FROM interaction_text ORDER BY interaction_id"
    ).fetchall()
    assert [r[0] for r in rows] == ["i1", "i2", "i3"]  # i4 has no text, i5 is after as_of
    assert rows[0][3] == "zh" and "cancellation_intent" in rows[0][5]
    assert "regulator_threat" in rows[0][5]
    assert rows[2][3] == "en"
    stored_phrases = " ".join(p for r in rows for p in r[6])
    assert "13812345678" not in stored_phrases and "王小明" not in stored_phrases

    again = analyze_store(db, analyzer)
    assert (again.analysed, again.new, again.unchanged) == (1, 1, 3)  # only i5 is new

    db.execute("UPDATE interactions SET text = '物流太慢了' WHERE interaction_id = 'i2'")
    db.execute("UPDATE interactions SET text = NULL WHERE interaction_id = 'i3'")
    changed = analyze_store(db, analyzer)
    assert (changed.analysed, changed.changed, changed.removed) == (1, 1, 1)
    assert db.execute(
        "SELECT topic FROM interaction_text WHERE interaction_id = 'i2'"
    ).fetchall() == [("delivery",)]


def test_a_failed_write_changes_nothing(
    db: duckdb.DuckDBPyConnection, analyzer: TextAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(db)
    analyze_store(db, analyzer, as_of=AS_OF)
    db.execute("UPDATE interactions SET text = 'new text' WHERE interaction_id = 'i3'")
    from crew.text import analyze as module

    def boom(conn: duckdb.DuckDBPyConnection) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "_copy_moved_fields", boom)
    before = db.execute("SELECT * FROM interaction_text ORDER BY 1").fetchall()
    with pytest.raises(RuntimeError):
        analyze_store(db, analyzer)
    assert db.execute("SELECT * FROM interaction_text ORDER BY 1").fetchall() == before


def test_text_indicators_and_evidence(
    db: duckdb.DuckDBPyConnection, analyzer: TextAnalyzer
) -> None:
    _fill(db)
    catalog = load_catalog()
    query = compile_indicators(catalog, AS_OF)
    before = {r["customer_id"]: r for r in run_duckdb(db, query).to_pylist()}
    # Never analysed: counts are 0, shares and trends are empty, nothing fails.
    assert before["c1"]["cancellation_intent_mentions_90d"] == 0
    assert before["c1"]["negative_sentiment_share_30d"] is None
    assert before["c1"]["sentiment_trend"] is None
    analyze_store(db, analyzer)
    after = {r["customer_id"]: r for r in run_duckdb(db, query).to_pylist()}
    assert after["c1"]["cancellation_intent_mentions_90d"] == 2
    assert after["c1"]["regulator_threat_mentions_90d"] == 1
    assert after["c1"]["negative_sentiment_share_30d"] == 1.0
    assert after["c3"]["cancellation_intent_mentions_90d"] == 0  # i5 is after as_of
    sentence = topic_evidence(
        db, "c1", "cancellation_intent", AS_OF, 14, redactor=redactor_from_store(db)
    )
    assert sentence is not None
    assert sentence.startswith(
        "2 complaints in 14 days mention cancelling (最近14天2次投诉提到销户)"
    )
    assert "又被重复扣款了" in sentence  # the latest one is quoted
    assert topic_evidence(db, "c2", "cancellation_intent", AS_OF, 14) is None


def test_an_older_workspace_gets_the_table_when_opened(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "ws")
    with workspace.connect() as conn:
        conn.execute("DROP TABLE interaction_text")  # as made before #9
    with open_workspace(workspace.root).connect() as conn:
        assert conn.execute("SELECT count(*) FROM interaction_text").fetchall() == [(0,)]
