"""The ``sellerdesk`` command line: run the bot, check and try the FAQ, manage the
database, print statistics. One module per subcommand; each adds its own parser."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sellerdesk.bot.settings import SettingsError
from sellerdesk.cli import db, faq, init, products, run, stats
from sellerdesk.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE

__all__ = ["EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sellerdesk", description="A Telegram help desk for marketplace sellers."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for subcommand in (run, faq, db, stats, products, init):
        subcommand.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sellerdesk`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except SettingsError as exc:
        print(f"Settings error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())
