"""Interaction texts read as they arrive: the `interaction_text` row of a streamed contact.

`crew text analyze` stores, beside each interaction with text, its language, sentiment,
topics and urgency (`interaction_text`); indicators such as
`cancellation_intent_mentions_90d` count those rows. In the stream, the handler analyses a
new interaction's text *before* its signals are graded, with the analyser `crew text
analyze` would use, and folds the result into the online state as a row of that table, so
a "close my account" complaint moves the text indicators within the same batch.

It is on when the workspace uses text analysis (its `interaction_text` table holds rows)
and the `text` extra is installed; otherwise the text indicators keep the stored values,
as in the batch run. Nothing here is logged: texts may carry personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

import duckdb

from crew.indicators.online_state import micros
from crew.ingest.events import Event, InteractionEvent
from crew.store.workspace import Workspace
from crew.text import TextAnalysis, TextAnalyzer, build_analyzer
from crew.text._extra import extra_installed

log = logging.getLogger(__name__)


class TextRows:
    """Makes the `interaction_text` rows of streamed interactions (the online columns)."""

    def __init__(self, analyzer: TextAnalyzer, columns: Collection[str]) -> None:
        self.analyzer = analyzer
        self.columns = tuple(columns)

    @classmethod
    def of_workspace(
        cls, workspace: Workspace, conn: duckdb.DuckDBPyConnection, columns: Collection[str]
    ) -> TextRows | None:
        """The workspace's analyser when it uses text analysis and the extra is installed."""
        if not columns:
            return None
        found = conn.execute("SELECT count(*) FROM interaction_text").fetchone()
        if not found or not found[0]:
            return None
        if not extra_installed():
            log.warning("interaction texts are not analysed in the stream: the text extra "
                        "is not installed")  # fmt: skip
            return None
        return cls(build_analyzer(workspace.root, conn), columns)

    def rows(self, events: Sequence[Event]) -> dict[str, dict[str, object]]:
        """The rows of the interactions among `events` that carry text, by interaction key
        (`interaction_text:<interaction_id>`); the texts are analysed in one batch."""
        contacts = [e for e in events if isinstance(e, InteractionEvent) and e.text]
        if not contacts:
            return {}
        found = self.analyzer.analyze_many(
            [str(e.text) for e in contacts],
            [e.kind.value for e in contacts],
            [e.severity for e in contacts],
        )
        return {
            f"interaction_text:{e.interaction_id}": self._row(e, a)
            for e, a in zip(contacts, found, strict=True)
        }

    def _row(self, event: InteractionEvent, analysis: TextAnalysis) -> dict[str, object]:
        values: dict[str, object] = {
            "customer_id": event.customer_id,
            "ts": micros(event.ts),
            "kind": event.kind.value,
            "lang": analysis.lang.value,
            "sentiment": analysis.sentiment,
            "sentiment_label": analysis.sentiment_label.value,
            "topic": analysis.topic,
            "topic_score": analysis.topic_score,
            "topics": list(analysis.topics),
            "urgency": analysis.urgency,
            "urgency_level": analysis.urgency_level.value,
        }
        return {name: values.get(name) for name in self.columns}


__all__ = ["TextRows"]
