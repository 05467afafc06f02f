"""Shared blacklist entries (行业黑名单): HMAC hashes of identifiers, reasons, provenance.

Revision ID: 0100_blacklist
Revises: 0200
Create Date: 2025-04-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0100_blacklist"
down_revision: str | None = "0200"
branch_labels: str | None = None
depends_on: str | None = None

_TS = sa.DateTime(timezone=True)
_LISTED = "status <> 'withdrawn'"


def upgrade() -> None:
    op.create_table(
        "blacklist_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("identifier_type", sa.Text, nullable=False),
        sa.Column("identifier_hash", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("listed_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_ref", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("added_at", _TS, nullable=False),
        sa.Column("added_by", sa.Text, nullable=False),
        sa.Column("status_changed_at", _TS, nullable=True),
        sa.Column("status_changed_by", sa.Text, nullable=True),
    )
    # One listing per source and identifier; a withdrawn one may be listed again.
    op.create_index(
        "uq_blacklist_listed",
        "blacklist_entries",
        ["source", "identifier_type", "identifier_hash"],
        unique=True,
        sqlite_where=sa.text(_LISTED),
        postgresql_where=sa.text(_LISTED),
    )
    op.create_index(
        "ix_blacklist_hash", "blacklist_entries", ["identifier_type", "identifier_hash"]
    )


def downgrade() -> None:
    op.drop_index("ix_blacklist_hash", table_name="blacklist_entries")
    op.drop_index("uq_blacklist_listed", table_name="blacklist_entries")
    op.drop_table("blacklist_entries")
