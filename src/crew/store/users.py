"""Dashboard users in the operational store: a name, a role and a scrypt password hash.

A password is hashed with `hashlib.scrypt` (memory-hard: 16 MiB per check) and a random
per-user salt; only `scrypt$n$r$p$salt$hash` is stored, and checks compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crew.errors import DuplicateUserError, UserNotFoundError
from crew.store._access_tables import users_table

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_N, _R, _P = 2**14, 8, 1  # 128 * r * n bytes = 16 MiB of memory per hash
_SALT_BYTES = 16


class Role(StrEnum):
    """What a dashboard user does; `crew.response.access` says what each role may do."""

    ADMIN = "admin"
    MANAGER = "manager"
    ANALYST = "analyst"
    RESPONDER = "responder"
    COMPLIANCE = "compliance"
    VIEWER = "viewer"  # reads the dashboard, changes nothing, never sees personal data


@dataclass(frozen=True)
class User:
    """One dashboard user as stored: never the password or its hash."""

    name: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        """Whether the user may log in."""
        return self.disabled_at is None


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The stored form of `password`: scrypt parameters, salt and hash, `$`-separated.

    >>> stored = hash_password("s3cret", salt=bytes(16))
    >>> stored.split("$")[:4], check_password("s3cret", stored), check_password("x", stored)
    (['scrypt', '16384', '8', '1'], True, False)
    """
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` (from `hash_password`) was made from."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest)


# Checked against when the user is unknown, so that a wrong name costs as long as a wrong
# password and response times do not reveal which names exist.
_DECOY = hash_password(secrets.token_urlsafe(16))


class UserRegistry:
    """Add, list, disable and authenticate dashboard users in one operational store."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(self, name: str, role: Role, password: str, *, at: datetime) -> User:
        """A new user with `password` (stored only as a hash).

        Raises:
            DuplicateUserError: a user already has this name.
            ValueError: the name is not 1-64 letters, digits or `_.@-`, or the password is empty.
        """
        if not _NAME.match(name):
            raise ValueError(f"user name {name!r}: use 1-64 letters, digits, '_', '.', '@', '-'")
        if not password:
            raise ValueError("the password is empty")
        row = {
            "name": name,
            "role": role.value,
            "password_hash": hash_password(password),
            "created_at": at,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(users_table.insert().values(row))
        except IntegrityError:
            raise DuplicateUserError(
                f"A user is already called '{name}'.",
                hint="Choose another name; 'crew users list' shows the users.",
            ) from None
        return User(name=name, role=role, created_at=at)

    def list_users(self, *, include_disabled: bool = False) -> list[User]:
        """Users by name; disabled ones only when asked."""
        u = users_table.c
        query = sa.select(u.name, u.role, u.created_at, u.disabled_at).order_by(u.name)
        if not include_disabled:
            query = query.where(u.disabled_at.is_(None))
        with self._engine.connect() as conn:
            return [_user(row) for row in conn.execute(query).mappings()]

    def get(self, name: str) -> User:
        """The user `name` (active or not); UserNotFoundError if there is none."""
        u = users_table.c
        query = sa.select(u.name, u.role, u.created_at, u.disabled_at).where(u.name == name)
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise UserNotFoundError(
                f"No user is called '{name}'.", hint="'crew users list' shows the users."
            )
        return _user(row)

    def disable(self, name: str, *, at: datetime) -> User:
        """Stop `name` from logging in (its sessions end at their next request)."""
        u = users_table.c
        with self._engine.begin() as conn:
            conn.execute(
                users_table.update()
                .where(u.name == name, u.disabled_at.is_(None))
                .values(disabled_at=at)
            )
        return self.get(name)

    def authenticate(self, name: str, password: str) -> User | None:
        """The active user `name` if `password` is theirs; None otherwise (whatever the cause)."""
        u = users_table.c
        query = sa.select(u.name, u.role, u.created_at, u.disabled_at, u.password_hash).where(
            u.name == name
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            check_password(password, _DECOY)
            return None
        if not check_password(password, row["password_hash"]) or row["disabled_at"] is not None:
            return None
        return _user(row)


def _user(row: sa.RowMapping) -> User:
    return User(
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )


__all__ = ["Role", "User", "UserRegistry", "check_password", "hash_password"]
