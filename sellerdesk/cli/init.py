"""``sellerdesk init``: a new seller folder with example files."""

from __future__ import annotations

import argparse
import sys

from sellerdesk.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    content_dir,
)


def cmd_init(args: argparse.Namespace) -> int:
    from sellerdesk.faq.content.scaffold import (
        ScaffoldError,
        SellerSpec,
        clean_name,
        create_seller,
        default_name,
        next_steps,
        parse_languages,
        validate_seller_id,
    )

    root = content_dir(args.content)
    try:
        validate_seller_id(args.seller)
        spec = SellerSpec(
            seller_id=args.seller,
            name=clean_name(args.name if args.name is not None else default_name(args.seller)),
            languages=parse_languages(args.languages),
            support_chat_id=args.support_chat_id,
        )
        folder = create_seller(root, spec)
    except ScaffoldError as exc:
        print(f"Cannot create the seller: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    if spec.support_chat_id is not None and spec.support_chat_id >= 0:
        print(
            "warning: group chat ids are negative (supergroups start with -100); "
            f"{spec.support_chat_id} looks like a user id",
            file=sys.stderr,
        )
    print(next_steps(folder, root, spec))
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``init`` to the command line."""
    init = commands.add_parser("init", help="create a new seller folder with example files")
    init.add_argument("seller", help="the new seller id (2-32 of a-z, 0-9, '-')")
    init.add_argument("--content", help="content directory (default: CONTENT_DIR)")
    init.add_argument("--name", help="the shop's name shown to buyers (default: from the id)")
    init.add_argument(
        "--languages", default="ru,en,zh", help="answer languages, first is the default (ru,en,zh)"
    )
    init.add_argument(
        "--support-chat-id", type=int, help="the staff supergroup's id (default: a placeholder)"
    )
    init.set_defaults(func=cmd_init)
