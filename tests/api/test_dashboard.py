"""The dashboard over HTTP: login, sessions, CSRF, roles, masking and the audit trail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from crew.api.web.pages import dashboard_user
from crew.api.web.sessions import SESSION_COOKIE
from crew.store.users import Role
from crew.types import WarningState

from .conftest import DAY1

PAGES = ("/", "/warnings", "/customers/C1", "/evaluation", "/settings", "/audit")
PASSWORD = "a good password"


@pytest.fixture
def people(app: FastAPI) -> None:
    """One user per role, each called after it."""
    for role in Role:
        app.state.crew.store.users.add(role.value, role, PASSWORD, at=DAY1)


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


def login(client: TestClient, user: str, password: str = PASSWORD) -> str:
    """Log `user` in; the CSRF token of their session."""
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"user": user, "password": password, "csrf": _hidden(form.text, "csrf")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return _hidden(client.get("/warnings").text, "csrf")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_redirects_to_login_without_a_session(client: TestClient, page: str) -> None:
    answer = client.get(page, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_the_api_still_wants_a_token(client: TestClient, people: None) -> None:
    login(client, "admin")
    assert client.get("/v1/alerts").status_code == 401, "a dashboard session is no API token"


def test_wrong_password_and_forged_cookie_are_refused(client: TestClient, people: None) -> None:
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"user": "admin", "password": "wrong", "csrf": _hidden(form.text, "csrf")},
        follow_redirects=False,
    )
    assert answer.status_code == 401 and "Wrong user name or password." in answer.text
    assert SESSION_COOKIE not in answer.cookies
    client.cookies.set(SESSION_COOKIE, "eyJ1IjoiYWRtaW4ifQ.forged")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_needs_its_csrf_token(client: TestClient, people: None) -> None:
    answer = client.post("/login", data={"user": "admin", "password": PASSWORD, "csrf": "x"})
    assert answer.status_code == 403


def test_login_is_rate_limited(client: TestClient, people: None) -> None:
    for _ in range(5):
        token = _hidden(client.get("/login").text, "csrf")
        client.post("/login", data={"user": "admin", "password": "nope", "csrf": token})
    token = _hidden(client.get("/login").text, "csrf")
    answer = client.post("/login", data={"user": "admin", "password": PASSWORD, "csrf": token})
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0


def test_login_goes_to_the_local_page_asked_for(client: TestClient, people: None) -> None:
    for target, expected in (("/warnings?level=high", "/warnings?level=high"),
                             ("https://evil.example/", "/"), ("//evil.example", "/")):  # fmt: skip
        form = client.get("/login", params={"next": target})
        answer = client.post(
            "/login",
            data={"user": "analyst", "password": PASSWORD, "csrf": _hidden(form.text, "csrf"),
                  "next": _hidden(form.text, "next")},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.headers["location"] == expected
        client.cookies.clear()


def test_pages_are_served_with_security_headers(client: TestClient, people: None) -> None:
    login(client, "admin")
    for page in PAGES:
        answer = client.get(page)
        assert answer.status_code == 200, page
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert '<meta charset="utf-8">' in answer.text
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"


def test_roles_gate_pages(client: TestClient, people: None) -> None:
    login(client, "analyst")
    assert client.get("/settings").status_code == 403
    assert client.get("/audit").status_code == 403
    assert client.get("/customers/nobody").status_code == 404


def test_analyst_sees_masked_pii_and_is_not_audited(
    client: TestClient, people: None, app: FastAPI
) -> None:
    login(client, "analyst")
    page = client.get("/customers/C1").text
    assert ">A***<" in page and "Alice" not in page
    assert app.state.crew.store.audit.records(action="pii.view") == []


def test_compliance_sees_pii_and_each_view_is_audited(
    client: TestClient, people: None, app: FastAPI
) -> None:
    login(client, "compliance")
    assert "Alice" in client.get("/customers/C1").text
    client.get("/customers/C1")
    views = app.state.crew.store.audit.records(action="pii.view")
    assert [(r.actor, r.subject, r.details["fields"]) for r in views] == [
        ("compliance", "C1", ["name"]), ("compliance", "C1", ["name"]),
    ]  # fmt: skip
    assert app.state.crew.store.audit.verify().ok


def test_responder_acknowledges_in_bulk(client: TestClient, people: None, app: FastAPI) -> None:
    store = app.state.crew.store
    csrf = login(client, "responder")
    ids = ["churn-C1-20240501", "churn-C2-20240501"]
    answer = client.post(
        "/warnings/bulk",
        data={"csrf": csrf, "action": "acknowledge", "id": ids, "back": "/warnings?level=high"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/warnings?level=high&done=2&skipped=0"
    assert {store.get_warning(i).state for i in ids} == {WarningState.ACKNOWLEDGED}
    assert store.history(ids[0])[-1].actor == "responder"
    records = store.audit.records(action="warning.state")
    assert {(r.actor, r.subject, r.details["to"]) for r in records} == {
        ("responder", i, "acknowledged") for i in ids
    }
    again = client.post("/warnings/bulk", data={"csrf": csrf, "action": "acknowledge", "id": ids})
    assert "0 changed, 2 skipped" in again.text


def test_state_changes_need_the_role_and_the_csrf_token(
    client: TestClient, people: None, app: FastAPI
) -> None:
    store = app.state.crew.store
    csrf = login(client, "analyst")
    data = {"csrf": csrf, "action": "acknowledge", "id": ["churn-C1-20240501"]}
    answer = client.post("/warnings/bulk", data=data, follow_redirects=False)
    assert answer.headers["location"].endswith("error=forbidden")
    client.cookies.clear()
    login(client, "responder")
    answer = client.post("/warnings/bulk", data={**data, "csrf": "stolen"}, follow_redirects=False)
    assert answer.headers["location"].endswith("error=bad_csrf")
    assign = {**data, "action": "assign", "assignee": "responder"}
    answer = client.post("/warnings/bulk", data=assign, follow_redirects=False)
    assert answer.headers["location"].endswith("error=bad_csrf")
    assert store.get_warning("churn-C1-20240501").state == WarningState.OPEN
    assert store.audit.records(action="warning.state") == []


def test_manager_assigns(client: TestClient, people: None, app: FastAPI) -> None:
    csrf = login(client, "manager")
    data = {"csrf": csrf, "action": "assign", "assignee": "responder", "id": ["churn-C2-20240501"]}
    assert "1 changed, 0 skipped" in client.post("/warnings/bulk", data=data).text
    store = app.state.crew.store
    assert store.get_warning("churn-C2-20240501").assignee == "responder"
    (record,) = store.audit.records(action="warning.assign")
    assert record.details == {"field": "assignee", "from": None, "to": "responder",
                              "via": "dashboard"}  # fmt: skip


def test_disabling_a_user_ends_their_session(
    client: TestClient, people: None, app: FastAPI
) -> None:
    login(client, "analyst")
    assert client.get("/", follow_redirects=False).status_code == 200
    app.state.crew.store.users.disable("analyst", at=DAY1)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout(client: TestClient, people: None, app: FastAPI) -> None:
    csrf = login(client, "analyst")
    answer = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert answer.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303
    actions = [r.action for r in app.state.crew.store.audit.records()]
    assert [a for a in actions if a.startswith("user.")] == ["user.logout", "user.login"]


def test_chinese_labels(client: TestClient, people: None) -> None:
    login(client, "admin")
    page = client.get("/warnings", params={"lang": "zh"})
    assert "预警队列" in page.text and ">高<" in page.text and "客户流失" in page.text
    assert page.cookies.get("lang") == "zh"
    assert '<html lang="zh-CN">' in client.get("/").text, "the choice is remembered"


def test_dashboard_user_reads_the_session_cookie(
    client: TestClient, people: None, app: FastAPI
) -> None:
    def request_with(cookie: str | None) -> Request:
        headers = [(b"cookie", f"{SESSION_COOKIE}={cookie}".encode())] if cookie else []
        return Request({"type": "http", "app": app, "headers": headers})

    login(client, "responder")
    cookie = client.cookies.get(SESSION_COOKIE)
    user = dashboard_user(request_with(cookie))
    assert user is not None and user.role == Role.RESPONDER
    assert dashboard_user(request_with(None)) is None
    assert dashboard_user(request_with("forged.cookie")) is None


def test_a_score_the_stream_refreshed_is_shown_as_such(
    client: TestClient, people: None, app: FastAPI
) -> None:
    import pandas as pd

    scores = pd.DataFrame(
        {"as_of": [DAY1 + timedelta(days=2)], "state": ["scored"], "churn_probability": [0.25],
         "risk_index": [88.5],
         "level": ["medium"], "colour": ["orange"], "fuzzy_index": [60.0], "coverage": [1.0],
         "clv": [1200.0], "clv_decline": [0.1], "dimension_scores": [{"transactions": 70.0}],
         "reasons": [[{"indicator": "txn_count_30d", "en": "Fewer purchases", "zh": "购买减少"}]],
         "evidence_note": [None]},
        index=pd.Index(["C1"], name="customer_id"),
    )  # fmt: skip
    moved = [[{"indicator": "txn_count_30d", "before": 9.0, "now": 1.0}]]
    app.state.crew.store.live_scores.save(scores, model_version=1, moved=moved, at=DAY1)
    login(client, "analyst")
    page = client.get("/customers/C1").text  # newer than the run's score of DAY1
    assert "refreshed by the stream" in page and "88.5" in page and "Fewer purchases" in page
    assert "因重大变化由实时流重新评分" in client.get("/customers/C1", params={"lang": "zh"}).text
