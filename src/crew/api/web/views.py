"""The dashboard's pages (GET): overview, warning queue, customer 360, evaluation, audit
log; settings, cases and playbooks have modules of their own. Every page needs a logged-in
user; what it shows depends on their role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from crew.api.state import ApiState, api_state
from crew.api.web.customer import customer_360
from crew.api.web.effectiveness import SUMMARY_FILE, load_effectiveness
from crew.api.web.overview import LEVEL_COLOURS, LEVELS, heat_style, overview
from crew.api.web.pages import (
    PageError,
    Viewer,
    WebState,
    analytics,
    demand,
    render,
    translator,
    viewer,
    web_state,
)
from crew.errors import CustomerNotFoundError
from crew.response.access import Permission
from crew.types import Level, RiskType, WarningState

router = APIRouter(include_in_schema=False)

STREAM_PATH = "/v1/stream/alerts"
QUEUE_LIMIT = 200
ACTIVE = "active"
Who = Annotated[Viewer, Depends(viewer)]
State = Annotated[ApiState, Depends(api_state)]
Web = Annotated[WebState, Depends(web_state)]


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request, who: Who, state: State, web: Web) -> HTMLResponse:
    """Warnings by level and type, the weekly trend, the heat map and the live feed."""
    demand(who, Permission.VIEW)
    t = translator(request, web)
    with analytics(state) as conn:
        data = overview(state.store, conn, list(web.catalog.dimensions), t)
    # Routers included by FastAPI keep their paths to themselves: ask the schema instead.
    has_stream = STREAM_PATH in request.app.openapi().get("paths", {})
    labels = {"level": t.values("level"), "risk": t.values("risk")}
    context = {
        "data": data, "levels": LEVELS, "colours": LEVEL_COLOURS, "heat_style": heat_style,
        "stream_url": STREAM_PATH if has_stream else "", "labels": labels,
    }  # fmt: skip
    return render(request, "overview.html", context, who=who)


@router.get("/warnings", response_class=HTMLResponse)
def queue_page(
    request: Request,
    who: Who,
    state: State,
    level: Annotated[str, Query()] = "",
    risk_type: Annotated[str, Query()] = "",
    status: Annotated[str, Query(alias="state")] = ACTIVE,
    done: Annotated[int | None, Query()] = None,
    skipped: Annotated[int, Query()] = 0,
    error: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The warning queue with filters, and bulk actions for roles that may act or assign."""
    demand(who, Permission.VIEW)
    # The filter form sends empty values for "any"; unknown values are ignored, not an error.
    levels = [Level(level)] if level in {lv.value for lv in LEVELS} else None
    types = [RiskType(risk_type)] if risk_type in {rt.value for rt in RiskType} else None
    if status == ACTIVE:
        states = [s for s in WarningState if s.is_active]
    elif status == "all":
        states = list(WarningState)
    elif status in {s.value for s in WarningState}:
        states = [WarningState(status)]
    else:
        raise PageError(404, "not_found")
    warnings = state.store.list_warnings(
        states=states,
        levels=levels,
        risk_types=types,
        limit=QUEUE_LIMIT,
    )
    users = state.store.users.list_users() if who.can(Permission.ASSIGN) else []
    context = {
        "warnings": warnings, "level": level if levels else "",
        "risk_type": risk_type if types else "", "status": status,
        "levels": LEVELS, "risk_types": list(RiskType), "states": list(WarningState),
        "users": users, "limit": QUEUE_LIMIT, "done": done, "skipped": skipped,
        "error": error if error in {"none_selected", "bad_csrf", "forbidden"} else None,
        "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }  # fmt: skip
    return render(request, "queue.html", context, who=who)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(
    request: Request, customer_id: str, who: Who, state: State, web: Web
) -> HTMLResponse:
    """Customer 360: PII masked unless the role may see it, and then the view is audited."""
    demand(who, Permission.VIEW)
    try:
        with analytics(state) as conn:
            data = customer_360(conn, state.store, web.catalog, customer_id, who.user.role)
    except CustomerNotFoundError:
        raise PageError(404, "not_found") from None
    if data.unmasked and data.pii_fields:
        state.store.audit.append(
            who.user.name,
            "pii.view",
            customer_id,
            {"fields": data.pii_fields, "page": "customer", "role": who.user.role.value},
            at=datetime.now(UTC),
        )
    return render(request, "customer.html", {"c": data}, who=who)


@router.get("/evaluation", response_class=HTMLResponse)
def evaluation_page(request: Request, who: Who, state: State) -> HTMLResponse:
    """Key figures and charts of the latest backtest (`crew backtest`)."""
    demand(who, Permission.VIEW)
    data = load_effectiveness(state.workspace.root)
    return render(request, "evaluation.html", {"e": data, "file": str(SUMMARY_FILE)}, who=who)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, who: Who, state: State, verify: Annotated[bool, Query()] = False
) -> HTMLResponse:
    """The newest audit records; with `?verify=1`, the hash chain checked as well."""
    demand(who, Permission.READ_AUDIT)
    records = state.store.audit.records(limit=QUEUE_LIMIT)
    check = state.store.audit.verify() if verify else None
    return render(request, "audit.html", {"records": records, "check": check}, who=who)


__all__ = ["STREAM_PATH", "router"]
