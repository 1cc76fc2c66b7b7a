"""The ``sellerdesk`` command line: run the bot, check and try the FAQ, manage the database,
print statistics."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sellerdesk.bot.settings import SettingsError, load_settings
from sellerdesk.faq.content.catalog_import import (
    Catalog,
    CatalogImportError,
    Table,
    format_report,
    import_catalog,
    merge_catalog,
    parse_column_map,
    read_products_table,
    write_products_csv,
)
from sellerdesk.faq.content.check import check_content
from sellerdesk.faq.content.errors import ContentError
from sellerdesk.faq.content.loader import SELLER_ID, load_content
from sellerdesk.faq.content.model import Content, Seller
from sellerdesk.faq.evaluate import evaluate, read_cases
from sellerdesk.faq.matching.decision import Action, Decision
from sellerdesk.faq.matching.matcher import MODES, Matcher, make_matcher

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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
    from sellerdesk.app import check_webhook_settings, run_polling, run_webhook

    if args.webhook:
        check_webhook_settings(settings)  # before loading content: fail fast, clearly
    content = _load(settings.content_dir, sys.stderr)
    if content is None:
        return EXIT_PROBLEMS
    if args.webhook:
        return run_webhook(settings, content)
    return run_polling(settings, content)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sellerdesk.storage import migrate

    settings = load_settings()
    url = args.url or settings.database_url
    migrate.upgrade(url)
    print(f"database at revision {migrate.head_revision()}")
    return EXIT_OK


def _chart_seller(args: argparse.Namespace, known: Sequence[str]) -> str | None:
    """The one seller ``--chart`` draws: the one named, or the only one there is."""
    if args.seller:
        return str(args.seller)
    if len(known) == 1:
        return known[0]
    print(
        "A chart is drawn for one seller: name it, e.g. "
        f"sellerdesk stats {known[0] if known else 'SELLER'} --chart stats.png "
        f"(known: {', '.join(known) or 'none'})",
        file=sys.stderr,
    )
    return None


def _chart_seller_content(args: argparse.Namespace, seller_id: str) -> tuple[str, float | None]:
    """The shop name and first-reply deadline (seconds) of ``seller_id`` from the content
    files; its id and no deadline line when the files do not have it."""
    root = _content_dir(args.content)
    try:
        seller = load_content(root).sellers.get(seller_id)
    except ContentError as exc:
        print(
            f"warning: content in {root} not loaded ({len(exc.problems)} problem(s))",
            file=sys.stderr,
        )
        seller = None
    if seller is None:
        print(
            f"warning: no seller {seller_id!r} in {root}: the chart shows its id and no deadline",
            file=sys.stderr,
        )
        return seller_id, None
    return seller.name, seller.sla.first_reply.total_seconds()


def cmd_stats(args: argparse.Namespace) -> int:
    from sellerdesk.bot.reports.charts import render_chart
    from sellerdesk.bot.reports.stats import (
        DEFAULT_CHART_DAYS,
        MAX_CHART_DAYS,
        SellerChart,
        chart_period,
        format_stats,
        seller_chart,
        seller_stats,
    )
    from sellerdesk.storage.db import make_engine, session_factory
    from sellerdesk.storage.migrate import SchemaMismatchError, check
    from sellerdesk.storage.repo.sellers import list_sellers

    settings = load_settings()
    url = args.url or settings.database_url
    try:
        check(url)
    except SchemaMismatchError as exc:
        print(f"Database not ready: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    until = datetime.now(UTC)
    since = until - timedelta(days=args.days) if args.days else datetime(1970, 1, 1, tzinfo=UTC)
    chart: SellerChart | None = None
    if args.chart:
        if args.days is not None and not 1 <= args.days <= MAX_CHART_DAYS:
            print(f"--days must be 1 to {MAX_CHART_DAYS} for a chart", file=sys.stderr)
            return EXIT_USAGE
        # The chart and the figures printed with it cover the same UTC calendar days.
        args.days = args.days or DEFAULT_CHART_DAYS
        since, until = chart_period(args.days, until)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            known = [s.seller_id for s in list_sellers(session)]
            if args.seller and args.seller not in known:
                print(f"No seller {args.seller!r} in the database; known: {', '.join(known)}")
                return EXIT_USAGE
            if args.chart:
                args.seller = _chart_seller(args, known)
                if args.seller is None:
                    return EXIT_USAGE
                shop, deadline_s = _chart_seller_content(args, args.seller)
                chart = seller_chart(
                    session,
                    args.seller,
                    shop=shop,
                    first_reply_deadline_s=deadline_s,
                    days=args.days,
                    now=until,
                )
            figures = [
                seller_stats(session, seller_id, since, until)
                for seller_id in ([args.seller] if args.seller else known)
            ]
    finally:
        engine.dispose()
    if chart is not None:
        path = Path(args.chart)
        try:
            path.write_bytes(render_chart(chart.data, args.lang))
        except OSError as exc:
            print(f"Cannot write the chart to {path}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
        print(f"chart: {path}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps([f.as_json() for f in figures], ensure_ascii=False))
    else:
        period = f"last {args.days} day(s)" if args.days else "all time"
        print(f"sellerdesk stats, {period}")
        for item in figures:
            print(format_stats(item))
    return EXIT_OK


# ---------------------------------------------------------------- products import


def _known_sellers(root: Path) -> str:
    if not root.is_dir():
        return "none (no such content directory)"
    names = [p.name for p in sorted(root.iterdir()) if (p / "seller.yaml").is_file()]
    return ", ".join(names) or "none"


def _catalog_from_ozon() -> Catalog:
    from sellerdesk.faq.content.ozon_catalog import OzonClient, fetch_catalog

    settings = load_settings()
    with OzonClient.from_settings(settings) as client:
        return fetch_catalog(client, progress=lambda text: print(text, file=sys.stderr))


def _current_catalog(target: Path, *, replace: bool) -> Table | None:
    """The products.csv an import merges into; with --replace a broken one is no obstacle."""
    try:
        return read_products_table(target)
    except CatalogImportError:
        if replace:
            return None
        raise


def cmd_products_import(args: argparse.Namespace) -> int:
    from sellerdesk.faq.content.ozon_catalog import OzonApiError, OzonAuthError, OzonSetupError

    root = _content_dir(args.content)
    folder = root / args.seller
    if not SELLER_ID.match(args.seller) or not (folder / "seller.yaml").is_file():
        print(
            f"No seller {args.seller!r} in {root}; known: {_known_sellers(root)}", file=sys.stderr
        )
        return EXIT_USAGE
    if (args.file is None) == (not args.ozon_api):
        print("Give the export FILE to import, or --ozon-api (not both)", file=sys.stderr)
        return EXIT_USAGE
    if args.ozon_api and args.map:
        print("--map applies to a FILE; the Ozon API's columns are fixed", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.ozon_api:
            catalog = _catalog_from_ozon()
        else:
            catalog = import_catalog(Path(args.file), parse_column_map(args.map or []))
    except (CatalogImportError, OzonAuthError, OzonSetupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OzonApiError as exc:
        print(f"error: {exc}; nothing was imported", file=sys.stderr)
        return EXIT_PROBLEMS
    for line in format_report(catalog):
        print(line)
    if not catalog.rows:
        print("nothing imported: no row has both an offer id and a name", file=sys.stderr)
        return EXIT_PROBLEMS
    target = folder / "products.csv"
    try:
        current = _current_catalog(target, replace=args.replace)
        merged = merge_catalog(current, catalog, replace=args.replace)
        summary = (
            f"{len(merged.table.rows)} products: {merged.added} added, {merged.updated} "
            f"updated, {merged.kept} kept, {merged.removed} removed"
        )
        if args.dry_run:
            print(f"dry run: {target} not written; it would have {summary}")
            return EXIT_OK
        write_products_csv(target, merged.table)
    except CatalogImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except OSError as exc:
        print(f"error: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"wrote {target}: {summary}")
    return EXIT_OK


#: Questions one ``faq gaps`` report reads at most (the first asked in the period).
GAPS_MAX_QUESTIONS = 5000


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

    root = _content_dir(args.content)
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
        return load_content(_content_dir(arg))
    except ContentError:
        return None


def cmd_faq_gaps(args: argparse.Namespace) -> int:
    from sellerdesk.bot.reports.unanswered import find_gaps, format_gaps
    from sellerdesk.faq.content.loader import parse_duration
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
    stats.add_argument(
        "--chart", metavar="FILE", help="also draw one seller's chart as a PNG (default 30 days)"
    )
    stats.add_argument(
        "--lang", choices=("ru", "en", "zh"), default="en", help="language of the chart's labels"
    )
    stats.add_argument("--content", help="content directory for shop names and deadlines")
    stats.set_defaults(func=cmd_stats)

    products = commands.add_parser("products", help="manage the product catalogs")
    products_commands = products.add_subparsers(dest="products_command", required=True)
    pimport = products_commands.add_parser(
        "import",
        help="import an Ozon export (XLSX or CSV) or the Ozon Seller API into products.csv",
    )
    pimport.add_argument("seller", help="seller id (a folder of the content directory)")
    pimport.add_argument("file", nargs="?", help="the export: .xlsx or .csv")
    pimport.add_argument("--content", help="content directory (default: CONTENT_DIR)")
    pimport.add_argument(
        "--ozon-api",
        action="store_true",
        help="read the catalog from the Ozon Seller API (OZON_CLIENT_ID, OZON_API_KEY)",
    )
    mode = pimport.add_mutually_exclusive_group()
    mode.add_argument(
        "--merge",
        dest="replace",
        action="store_false",
        help="update products by offer id, add new ones, keep the rest (default)",
    )
    mode.add_argument(
        "--replace", dest="replace", action="store_true", help="write only the imported products"
    )
    pimport.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=TARGET",
        help="map a column: TARGET is offer_id, name, description, '-' (drop) or an "
        "attribute name; repeatable",
    )
    pimport.add_argument("--dry-run", action="store_true", help="print the report, write nothing")
    pimport.set_defaults(func=cmd_products_import, replace=False)

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
