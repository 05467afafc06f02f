"""The quarantine table of the operational store (a Core handle; migration 0300 creates it)."""

from __future__ import annotations

import sqlalchemy as sa

from crew.store._ops_tables import UtcDateTime, metadata

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# One row per event key: an event delivered again after a crash is not quarantined twice.
quarantine_table = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("event_key", sa.Text, nullable=False, unique=True),
    sa.Column("customer_id", sa.Text, nullable=True),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Index("ix_quarantine_received_at", "received_at"),
)

__all__ = ["quarantine_table"]
