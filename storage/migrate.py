"""Run the schema migrations from code: no ``alembic.ini``, so it works from an installed package.

``sellerdesk db upgrade`` calls :func:`upgrade`; tests and the bot's start-up check
call :func:`schema_differences` to be sure the models and the migrations agree.
Developers make a new numbered revision with
``python -m sellerdesk.storage.migrate revision -m "what changes" --url sqlite:///data/dev.db``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection

from sellerdesk.storage.db import make_engine
from sellerdesk.storage.models import Base

#: The migration scripts, found next to this module wherever the package is installed.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaMismatchError(RuntimeError):
    """The database is not at the latest revision, or differs from the models."""


def alembic_config() -> Config:
    """An Alembic configuration pointing at the package's migrations (no ini file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision id among the migration scripts."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _with_connection(url: str | URL, revision: str, action: Any) -> None:
    engine = make_engine(url)
    try:
        # One transaction for the whole run: on PostgreSQL a failed migration leaves
        # nothing half done (its DDL is transactional).
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            action(config, revision)
    finally:
        engine.dispose()


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (creating it from empty if need be)."""
    _with_connection(url, revision, command.upgrade)


def downgrade(url: str | URL, revision: str) -> None:
    """Take the database at ``url`` back to ``revision`` (``"base"``: drop everything)."""
    _with_connection(url, revision, command.downgrade)


def current_revision(connection: Connection) -> str | None:
    """The revision the connected database is at; None if never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def schema_differences(connection: Connection) -> list[Any]:
    """What differs between the connected database and the models (empty when they agree).

    Alembic's autogenerate comparison: tables, columns, types, nullability, indexes
    and unique constraints. CHECK constraints and server defaults are not compared.
    """
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def check(url: str | URL) -> None:
    """Raise :class:`SchemaMismatchError` unless the database is at head and matches the models."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = current_revision(connection)
            head = head_revision()
            if current != head:
                raise SchemaMismatchError(
                    f"database is at revision {current}, code expects {head}: run `db upgrade`"
                )
            differences = schema_differences(connection)
            if differences:
                raise SchemaMismatchError(f"database differs from the models: {differences}")
    finally:
        engine.dispose()


def make_revision(url: str | URL, message: str) -> None:
    """Autogenerate the next numbered revision (``0002``...) from the models' changes.

    ``url`` must point at a database upgraded to head; review the script it writes.
    """
    next_id = f"{int(head_revision()) + 1:04d}"
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True, rev_id=next_id)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """Developer entry point: ``python -m sellerdesk.storage.migrate {upgrade,check,revision}``."""
    parser = argparse.ArgumentParser(prog="python -m sellerdesk.storage.migrate")
    parser.add_argument("action", choices=["upgrade", "check", "revision"])
    parser.add_argument("--url", required=True, help="SQLAlchemy database URL")
    parser.add_argument("-m", "--message", help="what the new revision changes")
    args = parser.parse_args(argv)
    if args.action == "upgrade":
        upgrade(args.url)
    elif args.action == "check":
        check(args.url)
    else:
        if not args.message:
            parser.error("revision needs -m/--message")
        make_revision(args.url, args.message)


if __name__ == "__main__":
    main()
