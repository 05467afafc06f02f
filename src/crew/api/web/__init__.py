"""The dashboard: server-rendered pages for people, on the same app as the REST API.

Login with a signed session cookie, role-based pages, personal data masked unless the role
may see it (and then audited), English and 简体中文. Assets are served from `static/`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles

from crew.api.auth import bearer
from crew.api.routes.stream import STREAM_READER
from crew.api.state import ApiState, api_state
from crew.api.web.cases import router as cases_router
from crew.api.web.forms import router as forms_router
from crew.api.web.pages import WebState, dashboard_user, install_page_errors, make_templates
from crew.api.web.playbooks import router as playbooks_router
from crew.api.web.sessions import LoginThrottle, SessionCodec, session_secret
from crew.api.web.settings import router as settings_router
from crew.api.web.views import router as views_router
from crew.indicators.catalog import load_catalog
from crew.signals.specs import load_signals
from crew.store.workspace import Workspace

STATIC_DIR = Path(__file__).parent / "static"


def install_dashboard(app: FastAPI, workspace: Workspace) -> None:
    """Add the dashboard's pages, forms and static files to `app` (the API's app)."""
    app.state.crew_web = WebState(
        codec=SessionCodec(session_secret(workspace.root)),
        throttle=LoginThrottle(),
        templates=make_templates(),
        catalog=load_catalog(workspace.root),
        signals={s.name: s.label for s in load_signals(workspace.root)},
        static_dir=STATIC_DIR,
    )
    app.include_router(views_router)
    app.include_router(cases_router)
    app.include_router(forms_router)
    app.include_router(playbooks_router)
    app.include_router(settings_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_page_errors(app)
    app.dependency_overrides[STREAM_READER] = _stream_reader


def _stream_reader(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    state: ApiState = Depends(api_state),  # noqa: B008
    token: str | None = Query(
        None, description="The API token's secret, for clients that cannot send headers."
    ),
) -> object:
    """The live feed admits a logged-in dashboard user by cookie, else a read token."""
    user = dashboard_user(request)
    if user is not None:
        return user
    return STREAM_READER(credentials, state, token)


__all__ = ["STATIC_DIR", "install_dashboard"]
