"""The one place where failures become HTTP answers: `{"error": {code, message, hint}}`.

A `CrewError` gets a 4xx (or 503 when a store or the bus is down) chosen by its class;
its code is the class name in snake_case without `Error` (`WarningNotFoundError` ->
`warning_not_found`). Anything else is a bug: logged with its traceback, answered 500.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crew.errors import (
    BackpressureError,
    BlacklistEntryNotFoundError,
    BlacklistKeyError,
    CrewError,
    CustomerNotFoundError,
    DuplicateTokenError,
    DuplicateWarningError,
    EventBusError,
    InvalidBlacklistEntryError,
    InvalidTokenError,
    InvalidTransitionError,
    MissingScopeError,
    OperationalStoreError,
    PayloadTooLargeError,
    RateLimitedError,
    TokenNotFoundError,
    ValidationFailed,
    WarningNotFoundError,
    WorkspaceError,
)

log = logging.getLogger(__name__)

STATUS: dict[type[CrewError], int] = {
    InvalidTokenError: 401,
    MissingScopeError: 403,
    WarningNotFoundError: 404,
    CustomerNotFoundError: 404,
    TokenNotFoundError: 404,
    BlacklistEntryNotFoundError: 404,
    InvalidTransitionError: 409,
    DuplicateWarningError: 409,
    DuplicateTokenError: 409,
    PayloadTooLargeError: 413,
    ValidationFailed: 422,
    InvalidBlacklistEntryError: 422,
    RateLimitedError: 429,
    BackpressureError: 429,
    OperationalStoreError: 503,
    WorkspaceError: 503,  # the analytical store is held by another process
    EventBusError: 503,
    BlacklistKeyError: 503,  # the server has no shared key to check pushes against
}


def error_code(kind: type[Exception]) -> str:
    """The API's code for an error class: snake_case of its name without `Error`.

    >>> error_code(WarningNotFoundError), error_code(ValidationFailed)
    ('warning_not_found', 'validation_failed')
    """
    name = kind.__name__.removesuffix("Error")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def status_of(error: CrewError) -> int:
    """HTTP status of a CrewError: its class's (or nearest parent's) entry, else 400."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def error_response(error: CrewError, *, code: str | None = None) -> JSONResponse:
    """The JSON answer to a CrewError, with Retry-After / WWW-Authenticate when they apply."""
    body: dict[str, object] = {
        "code": code or error_code(type(error)),
        "message": error.message,
        "hint": error.hint,
    }
    if isinstance(error, ValidationFailed):
        body |= {"problems": error.problems, "total": error.total}
    headers: dict[str, str] = {}
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    if isinstance(error, InvalidTokenError):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": body}, status_code=status_of(error), headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map CrewError, request validation, HTTP errors and bugs to the error format."""

    async def crew_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CrewError)
        return error_response(exc)

    async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [".".join(str(p) for p in e["loc"]) + f": {e['msg']}" for e in exc.errors()[:20]]
        error = ValidationFailed(
            f"The request is not valid: {problems[0] if problems else 'unreadable'}.",
            problems=problems,
            total=len(exc.errors()),
            hint="GET /docs describes every parameter.",
        )
        return error_response(error, code="request_validation")

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        phrase = _PHRASES.get(exc.status_code, "http_error")
        body = {"error": {"code": phrase, "message": str(exc.detail), "hint": None}}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        body = {"error": {"code": "internal", "message": "Internal server error.", "hint": None}}
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(CrewError, crew_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, bug)


_PHRASES = {404: "not_found", 405: "method_not_allowed", 406: "not_acceptable"}


__all__ = ["STATUS", "error_code", "error_response", "install_error_handlers", "status_of"]
