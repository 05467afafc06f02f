"""GET /v1/customers/{id}/risk: the latest score and the active warnings."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_risk_has_the_latest_score_and_active_warnings(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    answer = client.get("/v1/customers/C1/risk", headers=headers["read"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["customer_id"] == "C1"
    score = body["score"]
    assert score["churn_probability"] == 0.82 and score["level"] == "high"
    assert score["clv"] is None  # NaN in the store is null in JSON
    assert score["dimension_scores"] == {"value": 0.4, "trust": 0.9}
    assert score["reasons"][0]["indicator"] == "recency_days"
    assert sorted(w["risk_type"] for w in body["warnings"]) == ["churn", "complaint_surge"]


def test_a_known_customer_without_score(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    body = client.get("/v1/customers/C2/risk", headers=headers["read"]).json()
    assert body["score"] is None and len(body["warnings"]) == 1


def test_an_unknown_customer_is_404(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    answer = client.get("/v1/customers/c1/risk", headers=headers["read"])
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "customer_not_found"
    assert "'c1'" in answer.json()["error"]["message"]
