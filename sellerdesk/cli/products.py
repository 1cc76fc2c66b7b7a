"""``sellerdesk products import``: a product catalog into ``products.csv``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sellerdesk.bot.settings import load_settings
from sellerdesk.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    content_dir,
)
from sellerdesk.faq.content.catalog_import import (
    OFFER_ID,
    Catalog,
    format_report,
    import_catalog,
    parse_column_map,
)
from sellerdesk.faq.content.catalog_sheets import CatalogImportError
from sellerdesk.faq.content.catalog_table import (
    Table,
    merge_catalog,
    read_products_table,
    write_products_csv,
)
from sellerdesk.faq.content.check import unlinkable_message, unlinkable_offers
from sellerdesk.faq.content.checker import SELLER_ID


def _known_sellers(root: Path) -> str:
    if not root.is_dir():
        return "none (no such content directory)"
    names = [p.name for p in sorted(root.iterdir()) if (p / "seller.yaml").is_file()]
    return ", ".join(names) or "none"


def _catalog_from_ozon() -> Catalog:
    from sellerdesk.faq.content.ozon_catalog import OzonClient, fetch_catalog

    settings = load_settings()
    with OzonClient(
        settings.ozon_client_id,
        settings.ozon_api_key,
        settings.ozon_api_url,
        settings.ozon_api_rps,
    ) as client:
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

    root = content_dir(args.content)
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
    offers = [row[catalog.columns.index(OFFER_ID)] for row in catalog.rows]
    if bad := unlinkable_offers(args.seller, offers):
        print(f"warning: {unlinkable_message(args.seller, bad, len(offers))}")
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


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``products`` to the command line."""
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
