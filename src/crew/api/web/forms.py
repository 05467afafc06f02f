"""The dashboard's forms (POST): log in, log out, and bulk actions on warnings.

Every form carries a CSRF token: the session's once logged in, a cookie's on the login
form. Each warning changed here is recorded in its history and in the audit log.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crew.api.state import ApiState, api_state
from crew.api.web.pages import Viewer, WebState, render, viewer, web_state
from crew.api.web.sessions import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from crew.errors import InvalidTransitionError, UserNotFoundError, WarningNotFoundError
from crew.response.access import Permission
from crew.types import WarningState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

Form = dict[str, list[str]]
STATE_ACTIONS = {
    "acknowledge": WarningState.ACKNOWLEDGED,
    "start": WarningState.IN_PROGRESS,
    "resolve": WarningState.RESOLVED,
    "dismiss": WarningState.FALSE_POSITIVE,
}
VIA = {"via": "dashboard"}  # in the audit record of each warning change made here
State = Annotated[ApiState, Depends(api_state)]
Web = Annotated[WebState, Depends(web_state)]


async def form_fields(request: Request) -> Form:
    """The fields of a URL-encoded form body (a dependency; no multipart parser needed)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


Fields = Annotated[Form, Depends(form_fields)]


def first(form: Form, name: str) -> str:
    """The first value of field `name`, or an empty string.

    >>> first({"user": ["ann"]}, "user"), first({}, "user")
    ('ann', '')
    """
    return form.get(name, [""])[0]


def local_path(target: str, default: str = "/") -> str:
    """`target` if it is a path on this site, else `default` (no open redirects).

    >>> local_path("/warnings?level=high"), local_path("//evil.example"), local_path("http://x")
    ('/warnings?level=high', '/', '/')
    """
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _same(token: str, expected: str | None) -> bool:
    return bool(token) and expected is not None and hmac.compare_digest(token, expected)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, web: Web, next: str = "/") -> Response:
    """The login form (with a fresh CSRF cookie); already logged in, straight on."""
    if web.codec.decode(request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(local_path(next), status_code=303)
    return _login_form(request, next, None, 200)


def _login_form(
    request: Request, next: str, error: str | None, status: int, *, seconds: int = 0
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    context = {"next": local_path(next), "login_csrf": token, "error": error, "seconds": seconds}
    response = render(request, "login.html", context, who=None, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure(request), path="/login")  # fmt: skip
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, form: Fields, state: State, web: Web) -> Response:
    """Check the password (throttled per client and name) and start a session."""
    name, target = first(form, "user").strip(), local_path(first(form, "next"))
    if not _same(first(form, "csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_form(request, target, "bad_csrf", 403)
    client = request.client.host if request.client is not None else "unknown"
    wait = web.throttle.wait_for(client, name)
    if wait > 0:
        seconds = int(wait) + 1
        refused = _login_form(request, target, "login_throttled", 429, seconds=seconds)
        refused.headers["Retry-After"] = str(seconds)
        return refused
    user = state.store.users.authenticate(name, first(form, "password"))
    if user is None:
        web.throttle.failed(client, name)
        log.info("dashboard login refused for %r from %s", name, client)
        return _login_form(request, target, "login_failed", 401)
    web.throttle.succeeded(client, name)
    state.store.audit.append(user.name, "user.login", user.name, at=datetime.now(UTC))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, web.codec.encode(web.codec.new(user.name)),
                        max_age=web.codec.seconds, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request, form: Fields, who: Annotated[Viewer, Depends(viewer)], state: State
) -> Response:
    """End the session."""
    if _same(first(form, "csrf"), who.session.csrf):
        state.store.audit.append(who.user.name, "user.logout", who.user.name, at=datetime.now(UTC))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/warnings/bulk")
def bulk_action(
    form: Fields, who: Annotated[Viewer, Depends(viewer)], state: State
) -> RedirectResponse:
    """Acknowledge, start, resolve, dismiss or assign the selected warnings."""
    back = local_path(first(form, "back"), "/warnings")
    if not back.startswith("/warnings"):
        back = "/warnings"
    action, ids = first(form, "action"), form.get("id", [])
    needed = Permission.ASSIGN if action == "assign" else Permission.ACT
    if not _same(first(form, "csrf"), who.session.csrf):
        return _back(back, error="bad_csrf")
    if (action not in STATE_ACTIONS and action != "assign") or not who.can(needed):
        return _back(back, error="forbidden")
    if not ids:
        return _back(back, error="none_selected")
    done = skipped = 0
    for warning_id in dict.fromkeys(ids):  # once each, in the order given
        try:
            changed = (
                _assign(state, who, warning_id, first(form, "assignee"))
                if action == "assign"
                else _move(state, who, warning_id, STATE_ACTIONS[action])
            )
        except (InvalidTransitionError, WarningNotFoundError, UserNotFoundError):
            changed = False
        done, skipped = (done + 1, skipped) if changed else (done, skipped + 1)
    return _back(back, done=done, skipped=skipped)


def _move(state: ApiState, who: Viewer, warning_id: str, target: WarningState) -> bool:
    # The change and its audit record are written in one transaction by the store.
    state.store.set_state(warning_id, target, actor=who.user.name, at=datetime.now(UTC),
                          note="dashboard", audit=VIA)  # fmt: skip
    return True


def _assign(state: ApiState, who: Viewer, warning_id: str, assignee: str) -> bool:
    user = state.store.users.get(assignee)
    if not user.is_active:
        return False
    before = state.store.get_warning(warning_id)
    if before.assignee == user.name:
        return False
    state.store.assign(warning_id, user.name, actor=who.user.name, at=datetime.now(UTC),
                       audit=VIA)  # fmt: skip
    return True


def _back(back: str, **params: object) -> RedirectResponse:
    path, _, query = back.partition("?")
    kept = [(k, v) for k, v in parse_qs(query).items() if k not in {"done", "skipped", "error"}]
    pairs = [(k, x) for k, values in kept for x in values]
    pairs += [(k, str(v)) for k, v in params.items()]
    return RedirectResponse(f"{path}?{urlencode(pairs)}", status_code=303)


__all__ = ["STATE_ACTIONS", "first", "form_fields", "local_path", "router"]
