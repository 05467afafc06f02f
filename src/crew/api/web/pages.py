"""What every dashboard page shares: who is looking, in which language, and the rendering.

Pages answer HTML, never the API's JSON errors: a missing or expired session redirects to
the login page, a missing permission answers a 403 page, a busy store a 503 page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from crew.api.state import ApiState, api_state
from crew.api.web.i18n import LANG_NAMES, LANGS, Translator, lang_of
from crew.api.web.sessions import SESSION_COOKIE, LoginThrottle, Session, SessionCodec
from crew.errors import UserNotFoundError, WorkspaceError
from crew.indicators.catalog import Catalog, Label
from crew.response.access import Permission, can
from crew.store.users import User

# Inline scripts are refused; matplotlib's SVG charts carry inline styles, hence 'unsafe-inline'
# for styles only. connect-src 'self' lets the live feed reach /v1/stream/alerts.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages may hold personal data
}
NAV = (
    ("overview", "/", Permission.VIEW),
    ("queue", "/warnings", Permission.VIEW),
    ("cases", "/cases", Permission.VIEW),
    ("playbooks", "/playbooks", Permission.VIEW),
    ("evaluation", "/evaluation", Permission.VIEW),
    ("audit", "/audit", Permission.READ_AUDIT),
    ("settings", "/settings", Permission.SETTINGS),
)


@dataclass(frozen=True)
class WebState:
    """The dashboard's services, kept on `app.state.crew_web` beside the API's."""

    codec: SessionCodec
    throttle: LoginThrottle
    templates: Environment
    catalog: Catalog
    signals: dict[str, Label]
    static_dir: Path


@dataclass(frozen=True)
class Viewer:
    """The logged-in user of a request and their session."""

    user: User
    session: Session

    def can(self, permission: Permission) -> bool:
        """Whether this user's role has `permission`."""
        return can(self.user.role, permission)


class LoginRequired(Exception):
    """No valid session: the page redirects to the login page."""


class PageError(Exception):
    """A page that cannot be shown: an HTTP status and the message key explaining why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def web_state(request: Request) -> WebState:
    """The dashboard's state (a FastAPI dependency)."""
    state = request.app.state.crew_web
    assert isinstance(state, WebState)
    return state


def viewer(
    request: Request,
    state: ApiState = Depends(api_state),  # noqa: B008
    web: WebState = Depends(web_state),  # noqa: B008
) -> Viewer:
    """The logged-in user (a dependency); LoginRequired when there is none or it is disabled."""
    session = web.codec.decode(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise LoginRequired()
    try:
        user = state.store.users.get(session.user)
    except UserNotFoundError:
        raise LoginRequired() from None
    if not user.is_active:
        raise LoginRequired()
    return Viewer(user, session)


def dashboard_user(request: Request) -> User | None:
    """The active user logged in to the dashboard by `request`'s session cookie, or None.

    For API routes that a dashboard page calls from the browser, such as the live feed's
    `EventSource`, which cannot send an `Authorization` header but does send the cookie.
    """
    web, state = web_state(request), api_state(request)
    session = web.codec.decode(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    try:
        user = state.store.users.get(session.user)
    except UserNotFoundError:
        return None
    return user if user.is_active else None


def demand(who: Viewer, permission: Permission) -> None:
    """Refuse the request with a 403 page unless `who` has `permission`."""
    if not who.can(permission):
        raise PageError(403, "forbidden")


@contextmanager
def analytics(state: ApiState) -> Iterator[Any]:
    """A connection to the analytical store; a 503 page when another process holds it."""
    try:
        with state.workspace.connect() as conn:
            yield conn
    except WorkspaceError:
        raise PageError(503, "unavailable") from None


def translator(request: Request, web: WebState) -> Translator:
    """The request's language, with the catalog's labels."""
    return Translator(lang_of(request), web.catalog, web.signals)


def render(
    request: Request,
    template: str,
    context: Mapping[str, object],
    *,
    who: Viewer | None,
    status: int = 200,
) -> HTMLResponse:
    """A page: `template` with `context` plus user, language, navigation and CSRF token."""
    web = web_state(request)
    t = translator(request, web)
    nav = [(key, href) for key, href, perm in NAV if who is not None and who.can(perm)]
    langs = [(code, LANG_NAMES[code], _relative(request, lang=code)) for code in LANGS]
    html = web.templates.get_template(template).render(
        t=t, lang=t.lang, who=who, nav=nav, langs=langs, path=request.url.path,
        csrf=who.session.csrf if who is not None else "", **context,
    )  # fmt: skip
    response = HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)
    remember_lang(request, response)
    return response


def _relative(request: Request, **params: str) -> str:
    """This page's path and query with `params` set, without scheme and host."""
    url = request.url.include_query_params(**params)
    return f"{url.path}?{url.query}"


def remember_lang(request: Request, response: Response) -> None:
    """Keep a `?lang=` choice in a cookie for the next pages."""
    chosen = request.query_params.get("lang")
    if chosen in LANGS and chosen != request.cookies.get("lang"):
        response.set_cookie("lang", chosen, max_age=365 * 86400, samesite="lax")


def make_templates() -> Environment:
    """The Jinja environment of the dashboard's templates (autoescaped, strict)."""
    environment = Environment(
        loader=PackageLoader("crew.api.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["day"] = _day
    environment.filters["stamp"] = _stamp
    environment.filters["num"] = _num
    return environment


def install_page_errors(app: FastAPI) -> None:
    """Redirect LoginRequired to the login page; render PageError as an HTML page."""

    async def login_required(request: Request, _exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        context = {"title": exc.message, "message": exc.message}
        return render(request, "message.html", context, who=None, status=exc.status)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageError, page_error)


def _day(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d")
    return value.isoformat() if isinstance(value, date) else ("—" if value is None else str(value))


def _stamp(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return _day(value)


def _num(value: object, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"
    return str(value)


__all__ = [
    "LoginRequired",
    "PageError",
    "Viewer",
    "WebState",
    "analytics",
    "dashboard_user",
    "demand",
    "install_page_errors",
    "make_templates",
    "remember_lang",
    "render",
    "translator",
    "viewer",
    "web_state",
]
