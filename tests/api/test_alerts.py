"""/v1/alerts: listing with filters, one warning with its history, state changes."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient


def test_active_warnings_are_listed_with_their_fields(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    answer = client.get("/v1/alerts", headers=headers["read"])
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 3
    first = next(w for w in body["warnings"] if w["id"] == "churn-C1-20240501")
    assert first["level"] == "high" and first["state"] == "open" and first["subject"] == "C1"
    assert first["evidence"] == {"recency_days": 80, "note": "最近无购买"}
    assert first["first_seen"] == "2024-05-01T00:00:00Z"


def test_filters_combine(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    def ids(query: str) -> list[str]:
        answer = client.get(f"/v1/alerts?{query}", headers=headers["read"])
        assert answer.status_code == 200, answer.text
        return sorted(w["id"] for w in answer.json()["warnings"])

    assert ids("customer=C1&type=churn") == ["churn-C1-20240501"]
    assert ids("level=medium&level=low") == ["churn-C2-20240501", "complaint_surge-C1-20240501"]
    assert ids("state=resolved") == []
    assert len(ids("limit=1")) == 1


def test_a_bad_filter_is_422_naming_the_parameter(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    answer = client.get("/v1/alerts?level=extreme&limit=0", headers=headers["read"])
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "request_validation"
    assert any(p.startswith("query.level") for p in error["problems"])
    assert any(p.startswith("query.limit") for p in error["problems"])


def test_one_warning_comes_with_its_history(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    answer = client.get("/v1/alerts/churn-C1-20240501", headers=headers["read"])
    assert answer.status_code == 200
    history = answer.json()["history"]
    assert [(h["field"], h["actor"], h["new_value"]) for h in history] == [
        ("created", "crew run", "open")
    ]


def test_an_unknown_warning_is_404(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    answer = client.get("/v1/alerts/churn-C9-20240501", headers=headers["read"])
    assert answer.status_code == 404
    assert answer.json() == {
        "error": {
            "code": "warning_not_found",
            "message": "No warning 'churn-C9-20240501'.",
            "hint": "'crew alerts list' shows the ids.",
        }
    }


def test_patch_moves_the_state_and_assigns_with_the_token_as_actor(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    answer = client.patch(
        "/v1/alerts/churn-C1-20240501",
        headers=headers["admin"],
        json={"state": "acknowledged", "assignee": "li.na", "note": "called the customer"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"] == "acknowledged" and body["assignee"] == "li.na"
    changes = [(h["field"], h["actor"], h["new_value"], h["note"]) for h in body["history"][1:]]
    assert changes == [
        ("state", "admin-bot", "acknowledged", "called the customer"),
        ("assignee", "admin-bot", "li.na", None),
    ]


def test_an_illegal_transition_is_409_and_writes_nothing(
    app: FastAPI, client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    url = "/v1/alerts/churn-C2-20240501"
    assert (
        client.patch(url, headers=headers["admin"], json={"state": "resolved"}).status_code == 200
    )
    answer = client.patch(
        url, headers=headers["admin"], json={"state": "in_progress", "assignee": "li.na"}
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "invalid_transition"
    assert "resolved" in answer.json()["error"]["message"]
    stored = app.state.crew.store.get_warning("churn-C2-20240501")
    assert stored.assignee is None and stored.state.value == "resolved"
    assert len(app.state.crew.store.history("churn-C2-20240501")) == 2


def test_patch_needs_a_change_and_known_fields(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    url = "/v1/alerts/churn-C1-20240501"
    empty = client.patch(url, headers=headers["admin"], json={})
    typo = client.patch(url, headers=headers["admin"], json={"stat": "resolved"})
    wrong = client.patch(url, headers=headers["admin"], json={"state": "closed"})
    assert [r.status_code for r in (empty, typo, wrong)] == [422, 422, 422]
    assert "give a state, an assignee or both" in empty.json()["error"]["message"]
    assert any(p.startswith("body.stat") for p in typo.json()["error"]["problems"])


def test_patch_needs_the_admin_scope(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    answer = client.patch(
        "/v1/alerts/churn-C1-20240501", headers=headers["read"], json={"state": "acknowledged"}
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "missing_scope"
