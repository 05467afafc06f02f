"""Who is calling: `Authorization: Bearer <secret>` checked against the stored hashes.

401 when the token is missing, unknown or revoked; 403 when its scope does not cover the
route; 429 (with Retry-After) when the token is over its rate. Secrets are never logged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from fastapi import Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crew.api.state import ApiState, api_state
from crew.errors import InvalidTokenError, MissingScopeError, RateLimitedError
from crew.store.tokens import ApiToken, TokenScope

log = logging.getLogger(__name__)

bearer = HTTPBearer(
    auto_error=False,
    description="An API token made by 'crew tokens create NAME --scope SCOPE'.",
)


def require(scope: TokenScope) -> Callable[..., ApiToken]:
    """A dependency admitting tokens whose scope allows `scope`, within their rate."""

    def dependency(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
        state: ApiState = Depends(api_state),  # noqa: B008
    ) -> ApiToken:
        return _admit(credentials.credentials if credentials else None, state, scope)

    return dependency


def require_in_query(scope: TokenScope) -> Callable[..., ApiToken]:
    """Like `require`, but the secret may also come as `?token=` (browsers' EventSource
    cannot send headers). It then shows in URLs: use a read token, and rotate it."""

    def dependency(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
        state: ApiState = Depends(api_state),  # noqa: B008
        token: str | None = Query(
            None, description="The API token's secret, for clients that cannot send headers."
        ),
    ) -> ApiToken:
        return _admit(credentials.credentials if credentials else token, state, scope)

    return dependency


def _admit(secret: str | None, state: ApiState, scope: TokenScope) -> ApiToken:
    """The token whose secret is `secret`, if it may do `scope` now; else the error."""
    if secret is None:
        raise InvalidTokenError(
            "This request needs an API token.",
            hint="Send 'Authorization: Bearer <secret>'; 'crew tokens create' makes one.",
        )
    token = state.store.tokens.authenticate(secret)
    if token is None:
        log.info("request refused: unknown or revoked API token")
        raise InvalidTokenError(
            "The API token is unknown or revoked.",
            hint="'crew tokens list' shows the active tokens; create a new one if needed.",
        )
    if not token.scope.allows(scope):
        raise MissingScopeError(
            f"Token '{token.name}' has scope {token.scope.value}; this needs {scope.value}.",
            hint=f"Use a token created with --scope {scope.value} (or admin).",
        )
    wait = state.limiter.wait_for(token.name)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimitedError(
            f"Token '{token.name}' is over its rate limit "
            f"({state.limiter.rate:g} requests/s, bursts of {state.limiter.burst}).",
            retry_after=seconds,
            hint=f"Retry after {seconds} s; batch events into fewer requests.",
        )
    return token


__all__ = ["bearer", "require", "require_in_query"]
