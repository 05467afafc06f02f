"""The case board (处置工单): cases being worked, their steps and deadlines; mark a step done,
give a case to another team, close it with its outcome. Every change is in the case's
history and the audit log."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from crew.api.state import ApiState, api_state
from crew.api.web.forms import Fields, first
from crew.api.web.pages import PageError, Viewer, demand, render, viewer
from crew.errors import CaseNotFoundError, CrewError
from crew.response.access import Permission
from crew.response.playbooks import load_playbooks
from crew.store.cases import WORKING
from crew.types import CaseOutcome, CaseState

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
State = Annotated[ApiState, Depends(api_state)]
BOARD_LIMIT = 300


@router.get("/cases", response_class=HTMLResponse)
def board_page(
    request: Request,
    who: Who,
    state: State,
    team: Annotated[str, Query()] = "",
    status: Annotated[str, Query(alias="state")] = "working",
) -> HTMLResponse:
    """Cases by nearest deadline, with their owner team and next step."""
    demand(who, Permission.VIEW)
    states = list(WORKING) if status == "working" else None
    if states is None:
        if status not in {s.value for s in CaseState}:
            raise PageError(404, "not_found")
        states = [CaseState(status)]
    cases = state.store.cases.find(states=states, team=team or None, limit=BOARD_LIMIT)
    now = datetime.now(UTC)
    rows = []
    for case in cases:
        pending = [s for s in case.steps if s.done_at is None]
        step = pending[0] if pending else None
        rows.append((step.due_at if step else None, case, step))
    # Nearest deadline first; cases with nothing left to do last.
    rows.sort(key=lambda r: (r[0] is None, r[0] or now))
    shown = [
        {"case": case, "next": step, "overdue": step is not None and step.due_at < now}
        for _, case, step in rows
    ]
    book = load_playbooks(state.workspace.root)
    context = {
        "rows": shown, "team": team, "status": status, "teams": book.teams,
        "states": list(CaseState), "limit": BOARD_LIMIT,
    }  # fmt: skip
    return render(request, "cases.html", context, who=who)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: str,
    who: Who,
    state: State,
    error: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """One case: steps with owners and deadlines, every change with who and when."""
    demand(who, Permission.VIEW)
    try:
        case = state.store.cases.get(case_id)
    except CaseNotFoundError:
        raise PageError(404, "not_found") from None
    book = load_playbooks(state.workspace.root)
    context = {
        "case": case, "teams": book.teams, "now": datetime.now(UTC),
        "outcomes": list(CaseOutcome),
        "error": error if error in {"bad_csrf", "forbidden", "not_allowed"} else None,
    }  # fmt: skip
    return render(request, "case.html", context, who=who)


@router.post("/cases/{case_id}/step")
def step_done(case_id: str, form: Fields, who: Who, state: State) -> RedirectResponse:
    """Mark the case's step `position` done (roles that act on warnings)."""
    return _change(case_id, form, who, state, Permission.ACT, "step")


@router.post("/cases/{case_id}/close")
def close_case(case_id: str, form: Fields, who: Who, state: State) -> RedirectResponse:
    """Close the case with what happened (roles that act on warnings)."""
    return _change(case_id, form, who, state, Permission.ACT, "close")


@router.post("/cases/{case_id}/assign")
def assign_case(case_id: str, form: Fields, who: Who, state: State) -> RedirectResponse:
    """Give the case to another team (roles that assign)."""
    return _change(case_id, form, who, state, Permission.ASSIGN, "assign")


def _change(
    case_id: str, form: Fields, who: Viewer, state: ApiState, needed: Permission, what: str
) -> RedirectResponse:
    back = f"/cases/{case_id}"
    if not hmac.compare_digest(first(form, "csrf") or "-", who.session.csrf or ""):
        return RedirectResponse(f"{back}?error=bad_csrf", status_code=303)
    if not who.can(needed):
        return RedirectResponse(f"{back}?error=forbidden", status_code=303)
    now, name = datetime.now(UTC), who.user.name
    # The case change and its audit record are written in one transaction by the store.
    via = {"via": "dashboard"}
    try:
        if what == "step":
            position = int(first(form, "position") or 0)
            state.store.cases.complete_step(case_id, position, actor=name, at=now,
                                            note="dashboard", audit=via)  # fmt: skip
        elif what == "close":
            outcome = CaseOutcome(first(form, "outcome"))
            state.store.cases.close(case_id, outcome, actor=name, at=now, note="dashboard",
                                    audit=via)  # fmt: skip
        else:
            team = first(form, "team")
            if team not in load_playbooks(state.workspace.root).teams:
                return RedirectResponse(f"{back}?error=not_allowed", status_code=303)
            state.store.cases.reassign(case_id, team, actor=name, at=now, note="dashboard",
                                       audit=via)  # fmt: skip
    except (CrewError, ValueError):
        return RedirectResponse(f"{back}?error=not_allowed", status_code=303)
    return RedirectResponse(back, status_code=303)


__all__ = ["router"]
