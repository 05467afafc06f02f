"""Dashboard users: scrypt hashes with their own salt, wrong passwords refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from crew.errors import DuplicateUserError, UserNotFoundError
from crew.store.operational import OperationalStore
from crew.store.users import Role, check_password, hash_password

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def store() -> OperationalStore:
    return OperationalStore.in_memory()


def test_a_user_logs_in_with_their_password_only(store: OperationalStore) -> None:
    added = store.users.add("ann", Role.RESPONDER, "correct horse", at=T0)
    assert added.role == Role.RESPONDER and added.is_active
    assert store.users.authenticate("ann", "correct horse") == added
    assert store.users.authenticate("ann", "correct horse ") is None
    assert store.users.authenticate("ann", "") is None
    assert store.users.authenticate("nobody", "correct horse") is None


def test_only_a_salted_scrypt_hash_is_stored(store: OperationalStore) -> None:
    store.users.add("ann", Role.ANALYST, "same password", at=T0)
    store.users.add("bob", Role.ANALYST, "same password", at=T0)
    engine = store._engine
    with engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(sa.text("SELECT password_hash FROM users"))]
    assert all(h.startswith("scrypt$16384$8$1$") for h in hashes)
    assert len(set(hashes)) == 2, "each user has their own salt"
    assert not any("same password" in h for h in hashes)


def test_hash_and_check() -> None:
    stored = hash_password("密码123")
    assert check_password("密码123", stored)
    assert not check_password("密码124", stored)
    assert not check_password("x", "md5$abc")
    assert not check_password("x", "scrypt$bad")


def test_names_are_unique_and_checked(store: OperationalStore) -> None:
    store.users.add("ann", Role.ADMIN, "pw", at=T0)
    with pytest.raises(DuplicateUserError, match="already called 'ann'"):
        store.users.add("ann", Role.ANALYST, "pw", at=T0)
    with pytest.raises(ValueError, match="user name"):
        store.users.add("bad name", Role.ANALYST, "pw", at=T0)
    with pytest.raises(ValueError, match="empty"):
        store.users.add("carl", Role.ANALYST, "", at=T0)


def test_a_disabled_user_cannot_log_in(store: OperationalStore) -> None:
    store.users.add("ann", Role.ADMIN, "pw", at=T0)
    store.users.add("bob", Role.ANALYST, "pw", at=T0)
    assert not store.users.disable("ann", at=T0).is_active
    assert store.users.authenticate("ann", "pw") is None
    assert [u.name for u in store.users.list_users()] == ["bob"]
    assert [u.name for u in store.users.list_users(include_disabled=True)] == ["ann", "bob"]
    with pytest.raises(UserNotFoundError):
        store.users.get("nobody")
