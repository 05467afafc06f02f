"""Alembic migrations of the operational store; `crew` runs them when it opens the store."""
