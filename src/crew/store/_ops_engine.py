"""The operational store's engine: URL checks, SQLite settings, migrations, open errors."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy.exc import ArgumentError, DBAPIError

from crew.errors import OperationalStoreError
from crew.store._ops_tables import dump_json

MIGRATIONS = Path(__file__).parent / "migrations"  # Alembic's script_location; no alembic.ini
_MIGRATION_LOCK = 0x63726577  # "crew": one PostgreSQL advisory lock for the migrations


def create_engine(url: str) -> sa.Engine:
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        # The text may hold a password, so it is not repeated.
        raise OperationalStoreError(
            "store.operational_url is not a SQLAlchemy URL.",
            hint="Use e.g. postgresql+psycopg://user@host:5432/db or sqlite:///path/ops.sqlite.",
        ) from None
    options: dict[str, object] = {"json_serializer": dump_json}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        options["connect_args"] = {"connect_timeout": 10}
    try:
        engine = sa.create_engine(parsed, **options)
    except (ArgumentError, ImportError) as exc:
        raise OperationalStoreError(
            f"Cannot use {parsed.render_as_string(hide_password=True)}: {exc}.",
            hint="Supported: sqlite:///FILE and postgresql+psycopg://USER@HOST:PORT/DB.",
        ) from None
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    return engine


def configure_sqlite(engine: sa.Engine) -> None:
    """Real transactions, foreign keys and write-ahead logging on every SQLite connection."""
    # pysqlite guesses where transactions begin; SQLAlchemy's BEGIN makes a run truly atomic.
    # WAL lets the CLI and the API read while a run writes.

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")


def migrate(engine: sa.Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Processes starting together (crew serve, crew worker x N) migrate one at a
            # time; the others then find the schema at head. Released at commit.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_error(url: sa.URL, exc: DBAPIError | CommandError) -> OperationalStoreError:
    where = url.render_as_string(hide_password=True)
    if isinstance(exc, CommandError):
        return OperationalStoreError(
            f"The operational store at {where} has a schema this crew does not know ({exc}).",
            hint="It was written by a newer crew; upgrade crew, or point at another store.",
        )
    reason = " ".join((str(exc.orig) if exc.orig is not None else str(exc)).split())
    if url.password:
        reason = reason.replace(str(url.password), "***")
    if url.get_backend_name() == "sqlite":
        hint = "Check that the folder exists and is writable, or set store.operational_url."
    else:
        hint = (
            f"Check that the database server on {url.host or 'localhost'} is running and that "
            "store.operational_url in crew.toml (or CREW_STORE__OPERATIONAL_URL) is right."
        )
    return OperationalStoreError(
        f"Cannot open the operational store at {where}: {reason}", hint=hint
    )


__all__ = ["MIGRATIONS", "configure_sqlite", "create_engine", "migrate", "open_error"]
