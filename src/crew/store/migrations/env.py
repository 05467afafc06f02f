"""Alembic environment: migrate the connection CREW hands over, or `sqlalchemy.url`."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from crew.store._ops_tables import metadata


def run_migrations() -> None:
    """Upgrade or downgrade as Alembic was asked; offline (--sql) mode is not supported."""
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported")
    handed_over = context.config.attributes.get("connection")
    if isinstance(handed_over, sa.Connection):
        _run(handed_over)
        return
    # The `alembic` command of a developer, with sqlalchemy.url set.
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or migrate through crew.store.OperationalStore")
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


try:
    context.is_offline_mode()
except NameError:
    pass  # imported outside Alembic (e.g. by pytest's doctest collection): nothing to run
else:
    run_migrations()
