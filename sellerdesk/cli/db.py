"""``sellerdesk db upgrade``: apply the schema migrations."""

from __future__ import annotations

import argparse

from sellerdesk.bot.settings import load_settings
from sellerdesk.cli.common import (
    EXIT_OK,
)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sellerdesk.storage import migrate

    settings = load_settings()
    url = args.url or settings.database_url
    migrate.upgrade(url)
    print(f"database at revision {migrate.head_revision()}")
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``db`` to the command line."""
    db = commands.add_parser("db", help="manage the database")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply the schema migrations")
    upgrade.add_argument("--url", help="database URL (default: DATABASE_URL)")
    upgrade.set_defaults(func=cmd_db_upgrade)
