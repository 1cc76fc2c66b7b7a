"""``sellerdesk stats``: cases, deflection, reply times (calendar and working time),
ratings, FAQ answers resolved, reopened cases and CSAT, and a chart."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sellerdesk.bot.settings import load_settings
from sellerdesk.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    content_dir,
)
from sellerdesk.faq.content.errors import ContentError
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Seller


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


def _content_sellers(args: argparse.Namespace) -> dict[str, Seller]:
    """The sellers of the content files, for shop names, deadlines and working hours;
    none (with a warning) when the files cannot be loaded."""
    root = content_dir(args.content)
    try:
        return dict(load_content(root).sellers)
    except ContentError as exc:
        print(
            f"warning: content in {root} not loaded ({len(exc.problems)} problem(s)): "
            "first replies in working time are counted in calendar time",
            file=sys.stderr,
        )
        return {}


def _chart_seller_content(
    args: argparse.Namespace, seller_id: str, content: dict[str, Seller]
) -> tuple[str, float | None]:
    """The shop name and first-reply deadline (seconds) of ``seller_id`` from the content
    files; its id and no deadline line when the files do not have it."""
    root = content_dir(args.content)
    seller = content.get(seller_id)
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
    from sellerdesk.faq.content.hours import WorkingHours
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
    content = _content_sellers(args)

    def hours(seller_id: str) -> WorkingHours | None:
        seller = content.get(seller_id)
        return seller.hours if seller is not None else None

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
                shop, deadline_s = _chart_seller_content(args, args.seller, content)
                chart = seller_chart(
                    session,
                    args.seller,
                    shop=shop,
                    first_reply_deadline_s=deadline_s,
                    days=args.days,
                    now=until,
                    hours=hours(args.seller),
                )
            figures = [
                seller_stats(session, seller_id, since, until, hours=hours(seller_id))
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


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``stats`` to the command line."""
    stats = commands.add_parser(
        "stats", help="cases, deflection, reply times, ratings, resolution and CSAT"
    )
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
    stats.add_argument(
        "--content", help="content directory for shop names, deadlines and working hours"
    )
    stats.set_defaults(func=cmd_stats)
