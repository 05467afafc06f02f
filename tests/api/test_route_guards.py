"""Every route of the app, found by walking its router, is guarded: nothing without a login or a
token; each state-changing route refuses every role (or token scope) below the one it needs,
and a missing CSRF token, and changes nothing when it refuses. A route added without an entry
here fails `test_every_state_changing_route_is_listed_here`."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crew.grading.thresholds import THRESHOLDS_FILE
from crew.response.access import POLICY, Permission
from crew.response.cases import plan_cases
from crew.response.playbooks import load_playbooks
from crew.store import Workspace
from crew.store.tokens import TokenScope
from crew.store.users import Role
from crew.store.weights import list_weight_sets, load_weights, save_weight_set

from .conftest import DAY1
from .test_blacklist import ENTRIES, KEY, _push
from .test_dashboard import PASSWORD, login
from .test_security import EVENT

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Open on purpose: the login form, liveness, Prometheus metrics, the API's own description.
OPEN = {"/login", "/v1/health", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect",
        "/redoc"}  # fmt: skip
MOUNTS = {"/static", "/docs-assets"}  # files: the stylesheet, scripts, fonts
WARNING = "churn-C1-20240501"
CASE = "case-churn-C1-20240501"
EXAMPLES = {"customer_id": "C1", "warning_id": WARNING, "case_id": CASE, "entry_id": "1"}
RULE = "activity_drop"


@dataclasses.dataclass(frozen=True)
class Probe:
    """A request that changes something, and who may make it: a dashboard `permission` (a
    session and its CSRF token) or an API token `scope`; neither: any signed-in user."""

    method: str
    route: str
    body: Mapping[str, Any]
    permission: Permission | None = None
    scope: TokenScope | None = None
    changes_store: bool = True  # False: accepted for later processing (events)

    @property
    def url(self) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: EXAMPLES[m.group(1)], self.route)

    @property
    def id(self) -> str:
        kind = self.permission or self.scope or "signed-in"
        return f"{self.method} {self.route} ({kind}: {str(self.body)[:30]})"


THRESHOLDS = {f"{RULE}.low_at": "2.4", f"{RULE}.medium_at": "4.5", f"{RULE}.high_at": "6",
              f"{RULE}.exit_factor": "0.8", f"{RULE}.cooldown_days": "28"}  # fmt: skip
WEIGHTS = {"weight_set": "ahp", "save_as": "ahp", "dimensions|value": "3",
           "dimensions|trust": "1"}  # fmt: skip
PROBES = [
    Probe("POST", "/warnings/bulk", {"action": "acknowledge", "id": [WARNING]}, Permission.ACT),
    Probe("POST", "/warnings/bulk", {"action": "dismiss", "id": [WARNING]}, Permission.ACT),
    Probe(
        "POST",
        "/warnings/bulk",
        {"action": "assign", "assignee": "responder", "id": [WARNING]},
        Permission.ASSIGN,
    ),
    Probe("POST", "/cases/{case_id}/step", {"position": "1"}, Permission.ACT),
    Probe("POST", "/cases/{case_id}/close", {"outcome": "retained"}, Permission.ACT),
    Probe("POST", "/cases/{case_id}/assign", {"team": "compliance"}, Permission.ASSIGN),
    Probe("POST", "/settings/thresholds", THRESHOLDS, Permission.SETTINGS),
    Probe("POST", "/settings/weights", WEIGHTS, Permission.SETTINGS),
    Probe("POST", "/logout", {}),
    Probe("PATCH", "/v1/alerts/{warning_id}", {"state": "acknowledged"}, scope=TokenScope.ADMIN),
    Probe("PATCH", "/v1/alerts/{warning_id}", {"assignee": "li.na"}, scope=TokenScope.ADMIN),
    Probe("POST", "/v1/events", EVENT, scope=TokenScope.INGEST, changes_store=False),
    Probe("POST", "/v1/blacklist", _push(ENTRIES[1:]), scope=TokenScope.ADMIN),
    Probe("PATCH", "/v1/blacklist/{entry_id}", {"status": "disputed"}, scope=TokenScope.ADMIN),
]
EXEMPT = {("POST", "/login")}  # before any session; CSRF and rate limit: test_dashboard.py


def _routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app answers, included routers and mounts too."""
    try:  # FastAPI >= 0.16x keeps included routers whole; older ones flatten them
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover
        routes: Iterable[Any] = app.routes
    else:
        routes = iter_route_contexts(app.routes)
    for route in routes:
        methods = getattr(route, "methods", None) or {"MOUNT"}
        for method in methods - {"HEAD"}:
            yield method, str(route.path)


@pytest.fixture
def world(
    app: FastAPI,
    workspace: Workspace,
    headers: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> FastAPI:
    """The app with a user per role, a case, a weight set and a blacklist entry (id 1)."""
    monkeypatch.setenv("CREW_BLACKLIST_KEY", KEY)
    with TestClient(app) as client:
        pushed = client.post("/v1/blacklist", json=_push(ENTRIES[:1]), headers=headers["admin"])
        assert pushed.status_code == 201, pushed.text
    store = app.state.crew.store
    for role in Role:
        store.users.add(role.value, role, PASSWORD, at=DAY1)
    planned = plan_cases(store.active_warnings(), load_playbooks(), {}, at=DAY1, profile=None,
                         control_share=0.0)  # fmt: skip
    store.cases.open([dataclasses.asdict(p) for p in planned])
    with workspace.connect() as conn:
        save_weight_set(conn, "ahp", {"dimensions": {"value": 0.6, "trust": 0.4}}, "ahp",
                        {"method": "ahp"})  # fmt: skip
    return app


def _snapshot(workspace: Workspace) -> tuple[object, ...]:
    """Everything a request could change: every table of the operational store but the tokens'
    (which note when they were last used), the thresholds file and the stored weight sets."""
    path = Path(workspace.operational_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:
        names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        tables = {n: sorted(map(repr, db.execute(f'SELECT * FROM "{n}"')))
                  for n in names if n != "api_tokens"}  # fmt: skip
    thresholds = workspace.root / THRESHOLDS_FILE
    with workspace.connect() as conn:
        weights = [load_weights(conn, s.name).weights for s in list_weight_sets(conn)]
    return tables, thresholds.read_text() if thresholds.exists() else None, weights


def _refused(status: int, location: str) -> bool:
    return status in (401, 403) or "error=forbidden" in location or "error=bad_csrf" in location


def _send(
    client: TestClient, probe: Probe, *, csrf: str | None = None, token: str | None = None
) -> tuple[int, str]:
    if probe.scope is not None:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        answer = client.request(probe.method, probe.url, json=probe.body, headers=auth)
    else:
        data = {**probe.body, "csrf": csrf} if csrf is not None else probe.body
        answer = client.request(probe.method, probe.url, data=data, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", "")


def test_every_state_changing_route_is_listed_here(world: FastAPI) -> None:
    changing = {(m, p) for m, p in _routes(world) if m in CHANGING}
    listed = {(p.method, p.route) for p in PROBES} | EXEMPT
    assert changing == listed, "a state-changing route needs a probe in PROBES"


def test_nothing_is_served_without_a_login_or_a_token(
    world: FastAPI, client: TestClient, workspace: Workspace
) -> None:
    before = _snapshot(workspace)
    checked = 0
    for method, path in sorted(_routes(world)):
        if path in OPEN or path in MOUNTS or (method, path) in EXEMPT:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: EXAMPLES[m.group(1)], path)
        answer = client.request(method, url, follow_redirects=False)
        if path.startswith("/v1/"):
            assert answer.status_code == 401, f"{method} {path}: {answer.status_code}"
        else:
            assert answer.status_code == 303, f"{method} {path}: {answer.status_code}"
            assert answer.headers["location"].startswith("/login"), f"{method} {path}"
        checked += 1
    assert checked >= 25 and _snapshot(workspace) == before


@pytest.mark.slow  # a fresh app and a login per role: about a minute in all
@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.id)
def test_a_lower_role_or_scope_is_refused_and_changes_nothing(
    probe: Probe, world: FastAPI, workspace: Workspace, headers: dict[str, dict[str, str]]
) -> None:
    secrets = {s: h["Authorization"].removeprefix("Bearer ") for s, h in headers.items()}
    lower: list[Role | TokenScope]
    allowed: list[Role | TokenScope]
    if probe.scope is not None:
        scope = probe.scope
        lower = [s for s in TokenScope if not s.allows(scope)]
        allowed = [s for s in TokenScope if s.allows(scope)]
    else:
        needed = probe.permission
        lower = [r for r in Role if needed is not None and needed not in POLICY[r]]
        allowed = [r for r in Role if needed is None or needed in POLICY[r]]
    assert allowed and (lower or probe.permission is None), probe.id
    for who in lower:
        with TestClient(world) as client:
            csrf = login(client, who.value) if probe.scope is None else None
            before = _snapshot(workspace)
            status, location = _send(client, probe, csrf=csrf, token=secrets.get(who.value))
            assert _refused(status, location), f"{who} was let through: {status} {location}"
            assert _snapshot(workspace) == before, f"{who}: refused, yet something changed"
    # The same request from the least entitled allowed role goes through: the refusals above
    # were for the role, not for a malformed request.
    who = allowed[0] if probe.scope is None else probe.scope
    with TestClient(world) as client:
        csrf = login(client, who.value) if probe.scope is None else None
        before = _snapshot(workspace)
        status, location = _send(client, probe, csrf=csrf, token=secrets.get(who.value))
        assert status < 400 and "error=" not in location, f"{who}: {status} {location}"
        assert (_snapshot(workspace) != before) == probe.changes_store, who


@pytest.mark.parametrize("probe", [p for p in PROBES if p.scope is None], ids=lambda p: p.id)
def test_a_missing_or_wrong_csrf_token_is_refused_and_changes_nothing(
    probe: Probe, world: FastAPI, workspace: Workspace
) -> None:
    with TestClient(world) as client:
        login(client, Role.ADMIN.value)
        for csrf in (None, "forged"):
            before = _snapshot(workspace)
            status, location = _send(client, probe, csrf=csrf)
            if probe.route != "/logout":  # logging out drops the cookie anyway, unaudited
                assert _refused(status, location), f"csrf={csrf}: {status} {location}"
            assert _snapshot(workspace) == before, f"csrf={csrf}: something changed"
