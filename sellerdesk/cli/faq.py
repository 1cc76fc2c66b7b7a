"""``sellerdesk faq check|ask|eval|gaps``: validate, try and evaluate FAQ content."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sellerdesk.bot.settings import load_settings
from sellerdesk.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    content_dir,
    load_or_report,
    matcher_for,
)
from sellerdesk.faq.content.check import check_content
from sellerdesk.faq.content.errors import ContentError
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Content
from sellerdesk.faq.evaluate import evaluate, read_cases
from sellerdesk.faq.matching.decision import Action, Decision
from sellerdesk.faq.matching.policy import MODES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _online(content: Content) -> list[str]:
    """Ask Telegram whether the bot can work in every staff group, and Ozon whether
    each seller's key may read its buyer chats (``--online``)."""
    import asyncio

    from telegram import Bot
    from telegram.error import TelegramError

    from sellerdesk.bot.channels import ozon_chats
    from sellerdesk.bot.telegram_io.chat_check import online_problems

    settings = load_settings()
    found = [
        str(p) for p in asyncio.run(ozon_chats.online_problems(content, settings.ozon_api_url))
    ]
    if not settings.token:
        return [
            "--online needs TELEGRAM_BOT_TOKEN (the bot asks Telegram about its groups)",
            *found,
        ]

    async def ask() -> list[str]:
        bot = Bot(settings.token, base_url=f"{settings.api_url}/bot")
        async with bot:
            return [str(p) for p in await online_problems(bot, content)]

    try:
        return [*asyncio.run(ask()), *found]
    except (TelegramError, TimeoutError) as error:
        return [f"could not ask Telegram: {error}", *found]


def cmd_faq_check(args: argparse.Namespace) -> int:
    root = content_dir(args.dir)
    report = check_content(root)
    if args.online and report.content is not None and not report.errors:
        online = _online(report.content)
        for line in online:
            print(f"error: {line}")
        if online:
            print(f"{len(online)} error(s) found online in {root}")
            return EXIT_PROBLEMS
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
    if decision.rest:
        lines.append(f"answered part: {decision.part}")
        lines.append(f"left for a person: {decision.rest}")
    if decision.candidates:
        lines.append(
            f"{'score':>6}  {'candidate':<28} signals in standard deviations above the "
            "seller's wrong entries / best matching question"
        )
    for cand in decision.candidates:
        parts = " ".join(f"{k}={v:.2f}" for k, v in cand.parts.items())
        lines.append(f"{cand.score:6.1f}  {cand.target:<28} {parts}")
        if cand.matched:
            lines.append(f"{'':6}  {'':<28} ~ {cand.matched[:80]}")
    return "\n".join(lines)


def cmd_faq_ask(args: argparse.Namespace) -> int:
    root = content_dir(args.content)
    content = load_or_report(root, sys.stderr)
    if content is None:
        return EXIT_PROBLEMS
    seller = content.sellers.get(args.seller)
    if seller is None:
        known = ", ".join(sorted(content.sellers))
        print(f"No seller {args.seller!r} in {root}; known: {known}", file=sys.stderr)
        return EXIT_USAGE
    matcher = matcher_for(args, seller)
    decision = matcher.decide(args.question, offer_id=args.offer)
    if args.json:
        print(
            json.dumps(
                {
                    "action": decision.action.value,
                    "reason": decision.reason,
                    "lang": decision.lang,
                    "confidence": round(decision.confidence, 4),
                    "offered": decision.offered,
                    "part": decision.part,
                    "rest": decision.rest,
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
    root = content_dir(args.content)
    content = load_or_report(root, sys.stderr)
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
        result = evaluate(cases, content, lambda seller: matcher_for(args, seller))
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


#: Questions one ``faq gaps`` report reads at most (the first asked in the period).
GAPS_MAX_QUESTIONS = 5000


def _gap_sellers(session: Session, content: Content | None) -> list[str]:
    """Sellers ``faq gaps`` knows: those in the content files and in the database."""
    from sellerdesk.storage.repo.questions import asking_sellers
    from sellerdesk.storage.repo.sellers import list_sellers

    known = {s.seller_id for s in list_sellers(session)} | set(asking_sellers(session))
    if content is not None:
        known |= set(content.sellers)
    return sorted(known)


def _quiet_content(arg: str | None) -> Content | None:
    """The content files when they load (for the entry ids drafts must avoid)."""
    try:
        return load_content(content_dir(arg))
    except ContentError:
        return None


def cmd_faq_gaps(args: argparse.Namespace) -> int:
    from sellerdesk.bot.reports.unanswered import find_gaps, format_gaps
    from sellerdesk.faq.content.checker import parse_duration
    from sellerdesk.storage.db import make_engine, session_factory
    from sellerdesk.storage.migrate import SchemaMismatchError, check

    period = parse_duration(args.since)
    if period is None or period.total_seconds() <= 0:
        print(
            f"--since {args.since!r}: expected a duration such as 24h, 7d or 30d", file=sys.stderr
        )
        return EXIT_USAGE
    if args.limit < 1:
        print("--limit must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    url = args.url or load_settings().database_url
    try:
        check(url)
    except SchemaMismatchError as exc:
        print(f"Database not ready: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    content = _quiet_content(args.content)
    seller = content.sellers.get(args.seller) if content is not None else None
    until = datetime.now(UTC)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            known = _gap_sellers(session, content)
            if args.seller not in known:
                print(
                    f"No seller {args.seller!r} in the content files or the database; "
                    f"known: {', '.join(known) or 'none'}",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            report = find_gaps(
                session,
                args.seller,
                until - period,
                until,
                taken_ids=[e.id for e in seller.entries] if seller is not None else (),
                max_questions=GAPS_MAX_QUESTIONS,
            )
    finally:
        engine.dispose()
    if args.json:
        drafts = [draft.as_json() for draft in report.drafts[: args.limit]]
        print(json.dumps(drafts, ensure_ascii=False, indent=2))
    else:
        print(format_gaps(args.seller, f"last {args.since}", report, args.limit), end="")
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``faq`` to the command line."""
    faq = commands.add_parser("faq", help="check, try and evaluate FAQ content")
    faq_commands = faq.add_subparsers(dest="faq_command", required=True)

    check = faq_commands.add_parser("check", help="validate a content directory")
    check.add_argument("dir", nargs="?", help="content directory (default: CONTENT_DIR)")
    check.add_argument(
        "--online",
        action="store_true",
        help="also ask Telegram whether the bot can work in every staff group",
    )
    check.set_defaults(func=cmd_faq_check)

    ask = faq_commands.add_parser("ask", help="show the decision for one question")
    ask.add_argument("seller", help="seller id")
    ask.add_argument("question", help="the buyer's question")
    ask.add_argument("--content", help="content directory (default: CONTENT_DIR)")
    ask.add_argument("--json", action="store_true", help="print JSON")
    ask.add_argument(
        "--offer", help="offer id of the product the buyer came from (a product deep link)"
    )
    ask.add_argument("--matcher", choices=MODES, help="default: MATCHER, else hybrid if installed")
    ask.set_defaults(func=cmd_faq_ask)

    ev = faq_commands.add_parser("eval", help="evaluate the matcher on labelled cases")
    ev.add_argument("cases", help="JSON Lines file of cases")
    ev.add_argument("--content", help="content directory (default: CONTENT_DIR)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--matcher", choices=MODES, help="default: MATCHER, else hybrid if installed")
    ev.set_defaults(func=cmd_faq_eval)

    gaps = faq_commands.add_parser(
        "gaps", help="group the questions the FAQ did not answer, with draft entries"
    )
    gaps.add_argument("seller", help="seller id")
    gaps.add_argument("--since", default="7d", help="period to look back: 24h, 7d... (default 7d)")
    gaps.add_argument("--limit", type=int, default=20, help="groups shown, biggest first (20)")
    gaps.add_argument("--json", action="store_true", help="print a JSON list")
    gaps.add_argument("--url", help="database URL (default: DATABASE_URL)")
    gaps.add_argument("--content", help="content directory (default: CONTENT_DIR)")
    gaps.set_defaults(func=cmd_faq_gaps)
