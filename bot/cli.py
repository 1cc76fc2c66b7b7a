"""The ``sellerdesk`` command line: run the bot, check and try the FAQ, manage the database,
print statistics."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.settings import SettingsError, load_settings
from faq.check import check_content
from faq.content import load_content
from faq.decision import Action, Decision
from faq.errors import ContentError
from faq.evaluate import evaluate, read_cases
from faq.matcher import MODES, Matcher, make_matcher
from faq.model import Content, Seller

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _content_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    return load_settings().content_dir


def _load(root: Path, out: TextIO) -> Content | None:
    try:
        return load_content(root)
    except ContentError as exc:
        print(f"Content in {root} has {len(exc.problems)} problem(s):", file=out)
        for problem in exc.problems:
            print(f"  {problem}", file=out)
        return None


def _matcher_for(args: argparse.Namespace, seller: Seller) -> Matcher:
    """The matcher the bot would use, unless ``--matcher`` says otherwise."""
    settings = load_settings()
    return make_matcher(seller, args.matcher or settings.matcher, settings.cache_dir)


def cmd_faq_check(args: argparse.Namespace) -> int:
    root = _content_dir(args.dir)
    report = check_content(root)
    for problem in report.errors:
        print(f"error: {problem}")
    for problem in report.warnings:
        print(f"warning: {problem}")
    if report.errors:
        print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) in {root}")
        return EXIT_PROBLEMS
    assert report.content is not None
    for seller in report.content.sellers.values():
        print(
            f"ok: {seller.id}: {len(seller.entries)} FAQ entries, {len(seller.products)} "
            f"products, {len(seller.templates)} templates"
        )
    print(f"{len(report.warnings)} warning(s)")
    return EXIT_OK


def format_decision(decision: Decision) -> str:
    """The decision and its candidates, as admins read it when tuning an FAQ."""
    lines = [f"decision: {decision.action.value} ({decision.reason}); language: {decision.lang}"]
    if decision.action is Action.SUGGEST:
        lines.append("offered: " + ", ".join(c.target for c in decision.suggestions))
    if decision.candidates:
        lines.append(f"{'score':>6}  {'candidate':<28} parts / best matching question")
    for cand in decision.candidates:
        parts = " ".join(f"{k}={v:g}" for k, v in cand.parts.items())
        lines.append(f"{cand.score:6.1f}  {cand.target:<28} {parts}")
        if cand.matched:
            lines.append(f"{'':6}  {'':<28} ~ {cand.matched[:80]}")
    return "\n".join(lines)


def cmd_faq_ask(args: argparse.Namespace) -> int:
    root = _content_dir(args.content)
    content = _load(root, sys.stderr)
    if content is None:
        return EXIT_PROBLEMS
    seller = content.sellers.get(args.seller)
    if seller is None:
        known = ", ".join(sorted(content.sellers))
        print(f"No seller {args.seller!r} in {root}; known: {known}", file=sys.stderr)
        return EXIT_USAGE
    matcher = _matcher_for(args, seller)
    decision = matcher.decide(args.question)
    if args.json:
        print(
            json.dumps(
                {
                    "action": decision.action.value,
                    "reason": decision.reason,
                    "lang": decision.lang,
                    "candidates": [
                        {
                            "target": c.target,
                            "score": c.score,
                            "parts": c.parts,
                            "matched": c.matched,
                        }
                        for c in decision.candidates
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_OK
    print(f"matcher: {matcher.mode}")
    print(format_decision(decision))
    best = decision.best
    if decision.action is Action.ANSWER and best is not None:
        if best.is_product:
            product = seller.product(best.ref)
            if product is not None:
                print(f"\nanswer (product):\n{product.text()}")
        else:
            entry = seller.entry(best.ref)
            if entry is not None:
                print(f"\nanswer:\n{entry.answer_in(decision.lang, seller.languages)}")
    return EXIT_OK


def cmd_faq_eval(args: argparse.Namespace) -> int:
    root = _content_dir(args.content)
    content = _load(root, sys.stderr)
    if content is None:
        return EXIT_PROBLEMS
    try:
        cases = read_cases(Path(args.cases))
    except ContentError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_PROBLEMS
    except OSError as exc:
        print(f"Cannot read {args.cases}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = evaluate(cases, content, lambda seller: _matcher_for(args, seller))
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_PROBLEMS
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return EXIT_OK
    keys = ["cases", "in_scope", "out_of_scope", "top1_accuracy", "top3_accuracy"]
    keys += ["answer_accuracy", "suggest_recall", "wrong_answer_rate", "handoff_recall"]
    keys += ["mean_ms", "p99_ms"]
    for key in keys:
        print(f"{key:>18}: {result[key]}")
    for lang, figures in result["per_lang"].items():
        summary = ", ".join(
            f"{k}={figures[k]}"
            for k in ("top1_accuracy", "answer_accuracy", "wrong_answer_rate", "handoff_recall")
        )
        print(f"{lang:>18}: {summary}")
    return EXIT_OK


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
    from bot.app import check_webhook_settings, run_polling, run_webhook

    if args.webhook:
        check_webhook_settings(settings)  # before loading content: fail fast, clearly
    content = _load(settings.content_dir, sys.stderr)
    if content is None:
        return EXIT_PROBLEMS
    if args.webhook:
        return run_webhook(settings, content)
    return run_polling(settings, content)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage import migrate

    settings = load_settings()
    url = args.url or settings.database_url
    migrate.upgrade(url)
    print(f"database at revision {migrate.head_revision()}")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from bot.stats import format_stats, seller_stats
    from storage.db import make_engine, session_factory
    from storage.migrate import SchemaMismatchError, check
    from storage.repo.sellers import list_sellers

    settings = load_settings()
    url = args.url or settings.database_url
    try:
        check(url)
    except SchemaMismatchError as exc:
        print(f"Database not ready: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    until = datetime.now(UTC)
    since = until - timedelta(days=args.days) if args.days else datetime(1970, 1, 1, tzinfo=UTC)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            known = [s.seller_id for s in list_sellers(session)]
            if args.seller and args.seller not in known:
                print(f"No seller {args.seller!r} in the database; known: {', '.join(known)}")
                return EXIT_USAGE
            figures = [
                seller_stats(session, seller_id, since, until)
                for seller_id in ([args.seller] if args.seller else known)
            ]
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([f.as_json() for f in figures], ensure_ascii=False))
    else:
        period = f"last {args.days} day(s)" if args.days else "all time"
        print(f"sellerdesk stats, {period}")
        for item in figures:
            print(format_stats(item))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sellerdesk", description="A Telegram help desk for marketplace sellers."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on a webhook (WEBHOOK_URL, WEBHOOK_SECRET, ...) instead of polling",
    )
    run.set_defaults(func=cmd_run)

    faq = commands.add_parser("faq", help="check, try and evaluate FAQ content")
    faq_commands = faq.add_subparsers(dest="faq_command", required=True)

    check = faq_commands.add_parser("check", help="validate a content directory")
    check.add_argument("dir", nargs="?", help="content directory (default: CONTENT_DIR)")
    check.set_defaults(func=cmd_faq_check)

    ask = faq_commands.add_parser("ask", help="show the decision for one question")
    ask.add_argument("seller", help="seller id")
    ask.add_argument("question", help="the buyer's question")
    ask.add_argument("--content", help="content directory (default: CONTENT_DIR)")
    ask.add_argument("--json", action="store_true", help="print JSON")
    ask.add_argument("--matcher", choices=MODES, help="default: MATCHER, else hybrid if installed")
    ask.set_defaults(func=cmd_faq_ask)

    ev = faq_commands.add_parser("eval", help="evaluate the matcher on labelled cases")
    ev.add_argument("cases", help="JSON Lines file of cases")
    ev.add_argument("--content", help="content directory (default: CONTENT_DIR)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--matcher", choices=MODES, help="default: MATCHER, else hybrid if installed")
    ev.set_defaults(func=cmd_faq_eval)

    db = commands.add_parser("db", help="manage the database")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply the schema migrations")
    upgrade.add_argument("--url", help="database URL (default: DATABASE_URL)")
    upgrade.set_defaults(func=cmd_db_upgrade)

    stats = commands.add_parser("stats", help="cases, deflection, reply times and ratings")
    stats.add_argument("seller", nargs="?", help="one seller id (default: every seller)")
    stats.add_argument("--days", type=int, help="only the last N days (default: all time)")
    stats.add_argument("--url", help="database URL (default: DATABASE_URL)")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(func=cmd_stats)
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
