"""Alembic environment: migrates the database :mod:`storage.migrate` hands over.

:func:`storage.migrate.upgrade` passes an open connection in
``config.attributes["connection"]``, so the migration runs in the caller's
transaction on an engine made by :func:`storage.db.make_engine` (same SQLite
pragmas and PostgreSQL settings as the bot). Without one, ``sqlalchemy.url``
from the config is used.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from sellerdesk.storage.db import make_engine
from sellerdesk.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Print the SQL instead of running it (``--sql``), for a DBA to review."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection or set sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
