"""API tokens in the operational store: named, scoped, and kept only as a SHA-256 hash.

A secret is shown once, when the token is created; afterwards only its hash exists, so a
copy of the database lets nobody call the API.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crew.errors import DuplicateTokenError, TokenNotFoundError
from crew.store._api_tables import tokens_table

SECRET_PREFIX = "crew_"  # makes a leaked secret easy to recognise in a scanner
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


class TokenScope(StrEnum):
    """What an API token may do: send events, read, or everything (read, send, change)."""

    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"

    def allows(self, needed: TokenScope) -> bool:
        """Whether a token of this scope may do what `needed` stands for.

        >>> TokenScope.ADMIN.allows(TokenScope.READ), TokenScope.INGEST.allows(TokenScope.READ)
        (True, False)
        """
        return self == needed or self == TokenScope.ADMIN


@dataclass(frozen=True)
class ApiToken:
    """One API token as stored: never its secret."""

    name: str
    scope: TokenScope
    created_at: datetime
    revoked_at: datetime | None = None


def hash_secret(secret: str) -> str:
    """Hex SHA-256 of a token secret, the only form in which it is stored.

    >>> hash_secret("crew_x")[:12]
    '9218971ee0d8'
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TokenRegistry:
    """Create, list, revoke and check API tokens in one operational store."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def create(self, name: str, scope: TokenScope, *, at: datetime) -> tuple[ApiToken, str]:
        """A new token and its secret (returned once, stored only as a hash).

        Raises:
            DuplicateTokenError: an active token already has this name.
            ValueError: the name is not 1-64 letters, digits or `_.@-`.
        """
        if not _NAME.match(name):
            raise ValueError(f"token name {name!r}: use 1-64 letters, digits, '_', '.', '@', '-'")
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        row = {
            "name": name,
            "scope": scope.value,
            "secret_sha256": hash_secret(secret),
            "created_at": at,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(tokens_table.insert().values(row))
        except IntegrityError:
            raise DuplicateTokenError(
                f"An active API token is already called '{name}'.",
                hint=f"Choose another name, or 'crew tokens revoke {name}' first.",
            ) from None
        return ApiToken(name=name, scope=scope, created_at=at), secret

    def list_tokens(self, *, include_revoked: bool = False) -> list[ApiToken]:
        """Tokens by name (then newest first); revoked ones only when asked."""
        t = tokens_table.c
        query = sa.select(t.name, t.scope, t.created_at, t.revoked_at)
        if not include_revoked:
            query = query.where(t.revoked_at.is_(None))
        query = query.order_by(t.name, t.created_at.desc())
        with self._engine.connect() as conn:
            return [_token(row) for row in conn.execute(query).mappings()]

    def revoke(self, name: str, *, at: datetime) -> ApiToken:
        """Revoke the active token `name`: its secret stops working at once."""
        t = tokens_table.c
        with self._engine.begin() as conn:
            updated = conn.execute(
                tokens_table.update()
                .where(t.name == name, t.revoked_at.is_(None))
                .values(revoked_at=at)
                .returning(t.name, t.scope, t.created_at, t.revoked_at)
            ).mappings()
            row = updated.first()
        if row is None:
            raise TokenNotFoundError(
                f"No active API token is called '{name}'.",
                hint="'crew tokens list' shows the active tokens.",
            )
        return _token(row)

    def authenticate(self, secret: str) -> ApiToken | None:
        """The active token whose secret this is; None for an unknown or revoked secret."""
        t = tokens_table.c
        query = sa.select(t.name, t.scope, t.created_at, t.revoked_at).where(
            t.secret_sha256 == hash_secret(secret), t.revoked_at.is_(None)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _token(row)


def _token(row: sa.RowMapping) -> ApiToken:
    return ApiToken(
        name=row["name"],
        scope=TokenScope(row["scope"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


__all__ = ["SECRET_PREFIX", "ApiToken", "TokenRegistry", "TokenScope", "hash_secret"]
