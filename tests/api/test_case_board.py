"""The dashboard's case board: cases by deadline, a step marked done, a case given to another
team; role checks, CSRF, history and audit."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crew.response.cases import plan_cases
from crew.response.playbooks import load_playbooks
from crew.store.users import Role
from crew.types import CaseState

from .conftest import DAY1
from .test_dashboard import PASSWORD, login


@pytest.fixture
def cases(app: FastAPI) -> list[str]:
    store = app.state.crew.store
    for role in Role:
        store.users.add(role.value, role, PASSWORD, at=DAY1)
    active = store.active_warnings()
    planned = plan_cases(active, load_playbooks(), {}, at=DAY1, profile=None, control_share=0.0)
    store.cases.open([dataclasses.asdict(p) for p in planned], actor="crew")
    return [p.id for p in planned]


def test_the_board_lists_cases_by_deadline_and_flags_overdue_ones(
    client: TestClient, cases: list[str]
) -> None:
    login(client, "analyst")
    board = client.get("/cases").text
    assert all(f'data-id="{c}"' in board for c in cases)
    # Opened on 2024-05-01 with deadlines of hours: every one is overdue by now.
    assert board.count('class="overdue"') == len(cases)
    assert client.get("/cases?state=nonsense").status_code == 404
    chinese = client.get("/cases?lang=zh").text
    assert "处置工单" in chinese and "已逾期" in chinese


def test_a_responder_marks_a_step_done_and_it_is_recorded(
    client: TestClient, cases: list[str], app: FastAPI
) -> None:
    csrf = login(client, "responder")
    case_id = cases[0]
    done = client.post(f"/cases/{case_id}/step", data={"csrf": csrf, "position": "1"},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and "error" not in done.headers["location"]
    case = app.state.crew.store.cases.get(case_id)
    assert case.steps[0].done_by == "responder"
    assert case.state in (CaseState.IN_PROGRESS, CaseState.AWAITING_OUTCOME)
    audit = app.state.crew.store.audit.records()
    assert any(r.action == "case.step" and r.subject == case_id for r in audit)
    page = client.get(f"/cases/{case_id}").text
    assert "responder" in page


def test_assigning_needs_the_role_and_the_csrf_token(
    client: TestClient, cases: list[str], app: FastAPI
) -> None:
    case_id = cases[0]
    csrf = login(client, "analyst")
    refused = client.post(f"/cases/{case_id}/assign", data={"csrf": csrf, "team": "compliance"},
                          follow_redirects=False)  # fmt: skip
    assert refused.headers["location"].endswith("error=forbidden")
    client.post("/logout", data={"csrf": csrf})
    csrf = login(client, "manager")
    forged = client.post(f"/cases/{case_id}/assign", data={"csrf": "x", "team": "compliance"},
                         follow_redirects=False)  # fmt: skip
    assert forged.headers["location"].endswith("error=bad_csrf")
    unknown = client.post(f"/cases/{case_id}/assign", data={"csrf": csrf, "team": "nobody"},
                          follow_redirects=False)  # fmt: skip
    assert unknown.headers["location"].endswith("error=not_allowed")
    assert app.state.crew.store.cases.get(case_id).owner_team != "compliance"
    given = client.post(f"/cases/{case_id}/assign", data={"csrf": csrf, "team": "compliance"},
                        follow_redirects=False)  # fmt: skip
    assert "error" not in given.headers["location"]
    case = app.state.crew.store.cases.get(case_id)
    assert case.owner_team == "compliance"
    assert case.history[-1]["actor"] == "manager" and case.history[-1]["field"] == "owner_team"


def test_a_responder_closes_a_case_with_its_outcome(
    client: TestClient, cases: list[str], app: FastAPI
) -> None:
    csrf = login(client, "responder")
    case_id = cases[-1]
    bad = client.post(f"/cases/{case_id}/close", data={"csrf": csrf, "outcome": "maybe"},
                      follow_redirects=False)  # fmt: skip
    assert bad.headers["location"].endswith("error=not_allowed")
    closed = client.post(f"/cases/{case_id}/close", data={"csrf": csrf, "outcome": "retained"},
                         follow_redirects=False)  # fmt: skip
    assert "error" not in closed.headers["location"]
    case = app.state.crew.store.cases.get(case_id)
    assert case.state == CaseState.CLOSED and case.outcome is not None
    assert case.outcome.value == "retained"
    page = client.get(f"/cases/{case_id}?lang=zh").text
    assert "已挽留" in page and 'id="close-case"' not in page
