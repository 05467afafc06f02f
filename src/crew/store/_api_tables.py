"""Tables of the API in the operational store (Core handles; migration 0002 creates them)."""

from __future__ import annotations

import sqlalchemy as sa

from crew.store._ops_tables import UtcDateTime, metadata

# Secrets are never stored: only the SHA-256 of each one. A revoked token keeps its row so
# the history can still name it; its name may then be given to a new token.
tokens_table = sa.Table(
    "api_tokens",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("secret_sha256", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Index(
        "uq_api_tokens_active_name",
        "name",
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    ),
)

__all__ = ["tokens_table"]
