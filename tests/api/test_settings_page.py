"""Settings editing: admins change thresholds and weights; checked, atomic, CSRF, audited."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crew.grading.thresholds import THRESHOLDS_FILE, load_thresholds
from crew.store import Workspace
from crew.store.weights import load_weights, save_weight_set

from .test_dashboard import login, people  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("people")

RULE = "activity_drop"  # built in: low 2.4, medium 4, high 6, exit factor 0.8, 28 days


@pytest.fixture
def weights(workspace: Workspace) -> None:
    """A stored weight set 'ahp' with two scopes."""
    with workspace.connect() as conn:
        save_weight_set(
            conn, "ahp",
            {"dimensions": {"value": 0.6, "trust": 0.4},
             "indicators:trust": {"nps_latest": 0.5, "csat_avg_90d": 0.5}},
            "ahp", {"method": "ahp"},
        )  # fmt: skip


def _post(client: TestClient, path: str, data: dict[str, str]) -> tuple[int, str, str]:
    answer = client.post(path, data=data, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", ""), answer.text


def _in_force(workspace: Workspace) -> dict[str, float | int | None]:
    rule = load_thresholds(workspace.root, workspace.settings.industry)[RULE]
    return {k: getattr(rule, k) for k in ("low_at", "medium_at", "high_at", "exit_factor",
                                          "cooldown_days")}  # fmt: skip


def test_an_admin_saves_thresholds_that_the_loader_then_returns(
    client: TestClient,
    workspace: Workspace,
    app: FastAPI,
) -> None:
    csrf = login(client, "admin")
    page = client.get("/settings").text
    assert 'id="thresholds-form"' in page and f'name="{RULE}.high_at" value="6.0"' in page
    status, where, _ = _post(client, "/settings/thresholds", {
        "csrf": csrf, f"{RULE}.low_at": "2.4", f"{RULE}.medium_at": "4.5",
        f"{RULE}.high_at": "", f"{RULE}.exit_factor": "0.9", f"{RULE}.cooldown_days": "14",
    })  # fmt: skip
    assert (status, where) == (303, "/settings?saved=thresholds")
    assert _in_force(workspace) == {"low_at": 2.4, "medium_at": 4.5, "high_at": None,
                                    "exit_factor": 0.9, "cooldown_days": 14}  # fmt: skip
    other = load_thresholds(workspace.root, workspace.settings.industry)["complaint_surge"]
    assert other.high_at == 5.0, "rules not edited keep their built-in values"
    (record,) = app.state.crew.store.audit.records(action="settings.thresholds")
    assert record.actor == "admin" and record.subject == str(THRESHOLDS_FILE)
    (change,) = record.details["changes"]
    assert change["signal"] == RULE
    assert change["old"]["medium_at"] == 4.0 and change["new"]["medium_at"] == 4.5
    assert change["old"]["high_at"] == 6.0 and change["new"]["high_at"] is None
    assert "4.5" in client.get("/settings?saved=thresholds").text
    _, where, _ = _post(client, "/settings/thresholds", {"csrf": csrf, f"{RULE}.medium_at": "4.5"})
    assert where == "/settings?saved=nothing", "an unchanged form writes nothing"
    assert len(app.state.crew.store.audit.records(action="settings.thresholds")) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("medium_at", "abc", f"{RULE}.medium_at: &#39;abc&#39; is not a number."),
        ("high_at", "3", f"{RULE}: limits must rise from low to high (got [2.4, 4.0, 3.0])."),
        ("exit_factor", "1.5", f"{RULE}.exit_factor: Input should be less than or equal to 1."),
        ("cooldown_days", "2.5", f"{RULE}.cooldown_days: Input should be a valid integer"),
        ("low_at", "nan", f"{RULE}.low_at: nan is not a finite number."),
    ],
)
def test_a_bad_value_is_named_and_the_file_is_left_as_it_was(
    client: TestClient, workspace: Workspace, app: FastAPI,
    field: str, value: str, message: str,
) -> None:  # fmt: skip
    path = workspace.root / THRESHOLDS_FILE
    path.parent.mkdir(exist_ok=True)
    before = "rules:\n  - {signal: complaint_surge, low_at: 3, medium_at: 4}\n"
    path.write_text(before, encoding="utf-8")
    csrf = login(client, "admin")
    status, _, page = _post(client, "/settings/thresholds",
                            {"csrf": csrf, f"{RULE}.{field}": value})  # fmt: skip
    assert status == 400
    (shown,) = re.findall(r'id="settings-error">([^<]*)<', page)
    assert message in shown and shown.count("\n") == 0
    assert path.read_text(encoding="utf-8") == before
    assert [p.name for p in path.parent.iterdir()] == ["thresholds.yaml"], "no draft left"
    assert not app.state.crew.store.audit.records(action="settings.thresholds")


def test_other_roles_get_403_and_no_form(
    client: TestClient,
    workspace: Workspace,
) -> None:
    for role in ("analyst", "manager", "responder", "compliance"):
        csrf = login(client, role)
        page = client.get("/settings")
        assert page.status_code == 403 and "thresholds-form" not in page.text
        assert 'href="/settings"' not in client.get("/").text
        for path in ("/settings/thresholds", "/settings/weights"):
            status, _, _ = _post(client, path, {"csrf": csrf, f"{RULE}.low_at": "1"})
            assert status == 403
        client.post("/logout", data={"csrf": csrf})
    assert not (workspace.root / THRESHOLDS_FILE).exists()


def test_saving_needs_the_csrf_token(
    client: TestClient,
    workspace: Workspace,
) -> None:
    login(client, "admin")
    for token in ("", "forged"):
        status, _, page = _post(client, "/settings/thresholds",
                                {"csrf": token, f"{RULE}.low_at": "1"})  # fmt: skip
        assert status == 403 and "The form has expired" in page
    assert not (workspace.root / THRESHOLDS_FILE).exists()


def test_an_admin_edits_weights_renormalised_and_audited(
    client: TestClient, workspace: Workspace, app: FastAPI,
    weights: None,
) -> None:  # fmt: skip
    csrf = login(client, "admin")
    assert 'name="dimensions|value" value="0.6"' in client.get("/settings").text
    status, where, _ = _post(client, "/settings/weights", {
        "csrf": csrf, "weight_set": "ahp", "save_as": "ahp",
        "dimensions|value": "3", "dimensions|trust": "1",
        "indicators:trust|nps_latest": "0.5", "indicators:trust|csat_avg_90d": "0.5",
    })  # fmt: skip
    assert (status, where) == (303, "/settings?saved=weights/ahp")
    with workspace.connect() as conn:
        stored = load_weights(conn, "ahp")
    assert stored.weights["dimensions"] == {"value": 0.75, "trust": 0.25}
    assert stored.weights["indicators:trust"] == {"nps_latest": 0.5, "csat_avg_90d": 0.5}
    assert stored.methods["dimensions"] == "manual"
    assert stored.provenance["dimensions"]["edited_by"] == "admin"
    (record,) = app.state.crew.store.audit.records(action="settings.weights")
    assert record.subject == "weights/ahp"
    changes = record.details["changes"]
    assert changes == {"dimensions": {"old": {"value": 0.6, "trust": 0.4},
                                      "new": {"value": 0.75, "trust": 0.25}}}  # fmt: skip


def test_weights_saved_under_a_new_name_keep_the_old_set(
    client: TestClient,
    workspace: Workspace,
    weights: None,
) -> None:
    csrf = login(client, "admin")
    _, where, _ = _post(client, "/settings/weights", {
        "csrf": csrf, "weight_set": "ahp", "save_as": "ahp-tuned", "dimensions|trust": "0.6",
    })  # fmt: skip
    assert where == "/settings?saved=weights/ahp-tuned"
    with workspace.connect() as conn:
        assert load_weights(conn, "ahp").weights["dimensions"] == {"value": 0.6, "trust": 0.4}
        tuned = load_weights(conn, "ahp-tuned").weights["dimensions"]
    assert tuned == {"value": 0.5, "trust": 0.5}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"dimensions|value": "-1"}, "dimensions|value: a weight is a number of 0 or more."),
        ({"dimensions|value": "x"}, "dimensions|value: &#39;x&#39; is not a number."),
        ({"dimensions|value": "0", "dimensions|trust": "0"},
         "dimensions: at least one weight must be above 0."),
        ({"save_as": "no spaces"}, "save_as: &#39;no spaces&#39; is not a weight-set name."),
    ],
)  # fmt: skip
def test_bad_weights_are_named_and_nothing_is_stored(
    client: TestClient, workspace: Workspace, app: FastAPI,
    weights: None, data: dict[str, str], message: str,
) -> None:  # fmt: skip
    csrf = login(client, "admin")
    status, _, page = _post(client, "/settings/weights",
                            {"csrf": csrf, "weight_set": "ahp", **data})  # fmt: skip
    assert status == 400 and message in page
    with workspace.connect() as conn:
        stored = load_weights(conn, "ahp")
    assert stored.weights["dimensions"] == {"value": 0.6, "trust": 0.4}
    assert stored.methods["dimensions"] == "ahp"
    assert not app.state.crew.store.audit.records(action="settings.weights")
