"""Reasons that quote the evidence: "3 complaints in 14 days mention cancelling
(最近14天3次投诉提到销户): “I want to close my account …”", personal data redacted."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from crew.text.redaction import Redactor, redact

SNIPPET_CHARS = 80

# topic -> (English, one text; English, several texts; Chinese)
_TOPIC_WORDS: dict[str, tuple[str, str, str]] = {
    "cancellation_intent": ("mentions cancelling", "mention cancelling", "提到销户"),
    "regulator_threat": (
        "threatens to go to a regulator",
        "threaten to go to a regulator",
        "提到向监管部门投诉",
    ),
    "privacy_data": ("is about personal data", "are about personal data", "涉及个人信息"),
    "fraud_security": (
        "reports fraud or a security problem",
        "report fraud or a security problem",
        "反映欺诈或账户安全问题",
    ),
    "billing_fees": ("is about billing or fees", "are about billing or fees", "涉及账单或费用"),
    "delivery": ("is about delivery", "are about delivery", "涉及物流配送"),
    "product_quality": ("is about product quality", "are about product quality", "涉及产品质量"),
    "service_quality": ("is about service quality", "are about service quality", "涉及服务质量"),
}
_KIND_WORDS: dict[str, tuple[str, str, str]] = {
    "complaint": ("complaint", "complaints", "投诉"),
    "regulator_complaint": ("regulator complaint", "regulator complaints", "监管投诉"),
    "review": ("review", "reviews", "评价"),
    "dispute": ("dispute", "disputes", "争议"),
    "ticket": ("ticket", "tickets", "工单"),
    "chat": ("chat", "chats", "在线咨询"),
    "call": ("call", "calls", "来电"),
}
_ANY_KIND = ("contact", "contacts", "联系")


def snippet(text: str, redactor: Redactor | None = None, max_chars: int = SNIPPET_CHARS) -> str:
    """A text redacted, on one line, cut at `max_chars` with an ellipsis.

    >>> snippet("Call me on 13812345678\\nI want to close my account now", max_chars=30)
    'Call me on [PHONE] I want to…'
    """
    flat = " ".join(redact(text, redactor).split())
    return flat if len(flat) <= max_chars else flat[: max_chars - 1].rstrip() + "…"


def evidence_sentence(
    topic: str,
    count: int,
    days: int,
    *,
    kind: str | None = "complaint",
    text: str | None = None,
    redactor: Redactor | None = None,
) -> str:
    """A reason in English and Chinese, quoting a redacted snippet when `text` is given.

    >>> evidence_sentence("cancellation_intent", 3, 14)
    '3 complaints in 14 days mention cancelling (最近14天3次投诉提到销户)'
    >>> evidence_sentence("privacy_data", 1, 30, kind=None, text="My ID 11010519491231002X leaked")
    '1 contact in 30 days is about personal data (最近30天1次联系涉及个人信息): “My ID [ID] leaked”'
    """
    one, many, zh = _TOPIC_WORDS.get(topic, (f"is about {topic}", f"are about {topic}", topic))
    noun_one, noun_many, noun_zh = _KIND_WORDS.get(kind or "", _ANY_KIND)
    noun, verb = (noun_one, one) if count == 1 else (noun_many, many)
    sentence = f"{count} {noun} in {days} days {verb} (最近{days}天{count}次{noun_zh}{zh})"
    if text:
        sentence += f": “{snippet(text, redactor)}”"
    return sentence


def topic_evidence(
    conn: duckdb.DuckDBPyConnection,
    customer_id: str,
    topic: str,
    as_of: datetime,
    days: int,
    *,
    kind: str | None = "complaint",
    redactor: Redactor | None = None,
) -> str | None:
    """The evidence sentence for one customer from `interaction_text`, quoting the latest
    matching text before `as_of`; None when no text in the window mentions `topic`."""
    where = "t.customer_id = ? AND t.ts < ? AND t.ts >= ? AND list_contains(t.topics, ?)"
    params: list[object] = [customer_id, as_of, as_of - timedelta(days=days), topic]
    if kind is not None:
        where += " AND t.kind = ?"
        params.append(kind)
    rows = conn.execute(
        "SELECT count(*), arg_max(i.text, t.ts) FROM interaction_text t JOIN interactions i "
        f"USING (interaction_id) WHERE {where}",
        params,
    ).fetchall()
    row = rows[0] if rows else None
    if row is None or not row[0]:
        return None
    return evidence_sentence(topic, int(row[0]), days, kind=kind, text=row[1], redactor=redactor)


__all__ = ["SNIPPET_CHARS", "evidence_sentence", "snippet", "topic_evidence"]
