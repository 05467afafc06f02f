"""API tokens in the operational store: created once, hashed, scoped, revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crew.errors import DuplicateTokenError, TokenNotFoundError
from crew.store.operational import OperationalStore
from crew.store.tokens import TokenScope, hash_secret

T0 = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def store() -> OperationalStore:
    return OperationalStore.in_memory()


def test_a_secret_authenticates_its_token_only(store: OperationalStore) -> None:
    reader, secret = store.tokens.create("dash", TokenScope.READ, at=T0)
    _, other = store.tokens.create("feed", TokenScope.INGEST, at=T0)
    assert secret != other and len({secret, other, hash_secret(secret)}) == 3
    assert store.tokens.authenticate(secret) == reader
    assert store.tokens.authenticate(secret + "x") is None
    assert store.tokens.authenticate(hash_secret(secret)) is None  # the hash is no secret


def test_revoked_tokens_fail_and_free_their_name(store: OperationalStore) -> None:
    _, secret = store.tokens.create("dash", TokenScope.READ, at=T0)
    revoked = store.tokens.revoke("dash", at=T0 + timedelta(days=1))
    assert revoked.revoked_at == T0 + timedelta(days=1)
    assert store.tokens.authenticate(secret) is None
    assert store.tokens.list_tokens() == []
    store.tokens.create("dash", TokenScope.ADMIN, at=T0 + timedelta(days=2))
    every = store.tokens.list_tokens(include_revoked=True)
    assert [(t.name, t.scope, t.revoked_at is None) for t in every] == [
        ("dash", TokenScope.ADMIN, True),
        ("dash", TokenScope.READ, False),
    ]


def test_names_are_unique_among_active_tokens(store: OperationalStore) -> None:
    store.tokens.create("dash", TokenScope.READ, at=T0)
    with pytest.raises(DuplicateTokenError, match="already called 'dash'"):
        store.tokens.create("dash", TokenScope.ADMIN, at=T0)
    with pytest.raises(TokenNotFoundError, match="'nobody'"):
        store.tokens.revoke("nobody", at=T0)


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "-leading"])
def test_names_are_checked(store: OperationalStore, name: str) -> None:
    with pytest.raises(ValueError, match="token name"):
        store.tokens.create(name, TokenScope.READ, at=T0)


def test_admin_covers_every_scope() -> None:
    assert all(TokenScope.ADMIN.allows(s) for s in TokenScope)
    assert not TokenScope.READ.allows(TokenScope.INGEST)
    assert not TokenScope.INGEST.allows(TokenScope.ADMIN)
