"""What the subcommands share: exit codes, the content directory, the matcher."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from sellerdesk.bot.settings import load_settings
from sellerdesk.faq.content.errors import ContentError
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Content, Seller
from sellerdesk.faq.matching.matcher import Matcher, make_matcher

#: Exit codes: done; problems found (content, cases); wrong usage or settings.
EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def content_dir(arg: str | None) -> Path:
    """The content directory given, else ``CONTENT_DIR``."""
    if arg:
        return Path(arg)
    return load_settings().content_dir


def load_or_report(root: Path, out: TextIO) -> Content | None:
    """The content under ``root``, or None after listing its problems on ``out``."""
    try:
        return load_content(root)
    except ContentError as exc:
        print(f"Content in {root} has {len(exc.problems)} problem(s):", file=out)
        for problem in exc.problems:
            print(f"  {problem}", file=out)
        return None


def matcher_for(args: argparse.Namespace, seller: Seller) -> Matcher:
    """The matcher the bot would use, unless ``--matcher`` says otherwise."""
    settings = load_settings()
    return make_matcher(seller, args.matcher or settings.matcher, settings.cache_dir)
