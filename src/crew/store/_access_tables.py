"""Tables of users and the audit log in the operational store (migration 0003 creates them)."""

from __future__ import annotations

import sqlalchemy as sa

from crew.store._ops_tables import UtcDateTime, metadata

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Passwords are stored only as scrypt hashes with a per-user salt (crew.store.users).
users_table = sa.Table(
    "users",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("disabled_at", UtcDateTime, nullable=True),
)

# Append-only and hash-chained (crew.store.audit): `details` keeps the canonical JSON text
# that was hashed, so no database's JSON type can reorder or reformat it.
audit_table = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", _ID, primary_key=True, autoincrement=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False, index=True),
    sa.Column("subject", sa.Text, nullable=False, index=True),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False, unique=True),
)

# One row (id 1): the newest record's number and hash, so that deleting the newest records
# is detected too. The migration inserts it with seq 0 and the genesis hash.
audit_head_table = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", _ID, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
)

__all__ = ["audit_head_table", "audit_table", "users_table"]
