"""``sellerdesk run``: the bot, by long polling or (``--webhook``) on a webhook."""

from __future__ import annotations

import argparse
import sys

from sellerdesk.bot.settings import load_settings
from sellerdesk.cli.common import (
    EXIT_PROBLEMS,
    EXIT_USAGE,
    load_or_report,
)
from sellerdesk.faq.content.check import placeholder_problems


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.token:
        print(
            "TELEGRAM_BOT_TOKEN is not set.\n"
            "Create a bot with @BotFather, then put its token in .env "
            "(copy .env.example) or in the environment:\n"
            "  TELEGRAM_BOT_TOKEN=123456:ABC... make run",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from sellerdesk.app import check_webhook_settings, run_polling, run_webhook

    if args.webhook:
        check_webhook_settings(settings)  # before loading content: fail fast, clearly
    content = load_or_report(settings.content_dir, sys.stderr)
    if content is None:
        return EXIT_PROBLEMS
    # A seller on init's placeholder staff chat: its buyers would be told their case
    # reached the shop while it reached no one.
    unset = placeholder_problems(content)
    for problem in unset:
        print(f"error: {problem}", file=sys.stderr)
    if unset:
        return EXIT_PROBLEMS
    if args.webhook:
        return run_webhook(settings, content)
    return run_polling(settings, content)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run`` to the command line."""
    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on a webhook (WEBHOOK_URL, WEBHOOK_SECRET, ...) instead of polling",
    )
    run.set_defaults(func=cmd_run)
