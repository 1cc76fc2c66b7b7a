"""Loading and validating seller content (docs/content-format.md, section 1).

Admins write these files by hand, so every problem is reported with the file, the
line, the key and what was expected, and all problems of a file are reported at once
(fixing one error to discover the next is the worst way to edit a file).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sellerdesk.faq.content.checker import (
    SELLER_ID,
)
from sellerdesk.faq.content.errors import ContentError, Problem
from sellerdesk.faq.content.faq_file import (
    BUTTON_KEYS,
    ENTRY_OPTIONAL,
    ENTRY_REQUIRED,
    TEMPLATE_KEYS,
    load_faq_file,
    load_templates_file,
)
from sellerdesk.faq.content.model import (
    Content,
    Entry,
    Product,
    Seller,
    Template,
)
from sellerdesk.faq.content.products_file import load_products_file
from sellerdesk.faq.content.seller_file import (
    BUSINESS_OPTIONAL,
    BUSINESS_REQUIRED,
    OZON_OPTIONAL,
    OZON_REQUIRED,
    RETURNS_KEYS,
    SELLER_OPTIONAL,
    SELLER_REQUIRED,
    SLA_KEYS,
    SUPPORT_CHAT_OPTIONAL,
    SUPPORT_CHAT_REQUIRED,
    load_seller_file,
)

#: The files read from a seller's folder; nothing else in it is content.
SELLER_FILES = frozenset({"seller.yaml", "faq.yaml", "products.csv", "templates.yaml"})


def load_seller(folder: Path) -> Seller:
    """Load one seller folder; raises ContentError with every problem of every file."""
    problems: list[Problem] = []
    seller_id = folder.name
    if not SELLER_ID.match(seller_id):
        problems.append(
            Problem(
                folder,
                None,
                None,
                f"folder name {seller_id!r} is not a seller id: 2-32 of a-z, 0-9, '-', "
                "starting with a letter or digit",
            )
        )
    seller_path = folder / "seller.yaml"
    faq_path = folder / "faq.yaml"
    fields: dict[str, Any] = {}
    entries: list[Entry] = []
    faq_digest = ""
    if not seller_path.is_file():
        problems.append(Problem(seller_path, None, None, "missing: every seller needs seller.yaml"))
    else:
        fields, found = load_seller_file(seller_path, seller_id)
        problems += found
    if not faq_path.is_file():
        problems.append(Problem(faq_path, None, None, "missing: every seller needs faq.yaml"))
    else:
        try:  # read before the entries: a change in between leaves a digest that fits no file
            faq_digest = hashlib.sha256(faq_path.read_bytes()).hexdigest()
        except OSError:
            faq_digest = ""
        entries, found = load_faq_file(faq_path)
        problems += found
    products: list[Product] = []
    if (folder / "products.csv").is_file():
        products, found = load_products_file(folder / "products.csv")
        problems += found
    templates: list[Template] = []
    if (folder / "templates.yaml").is_file():
        templates, found = load_templates_file(folder / "templates.yaml")
        problems += found
    if problems:
        raise ContentError(sorted(problems, key=_problem_order))
    return Seller(
        **fields,
        entries=tuple(entries),
        products=tuple(products),
        templates=tuple(templates),
        path=folder,
        faq_digest=faq_digest,
    )


def _problem_order(problem: Problem) -> tuple[str, int]:
    return (str(problem.path), problem.line or 0)


def seller_folders(root: Path) -> list[Path]:
    """The seller folders of a content directory (hidden folders are skipped)."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def load_content(root: Path) -> Content:
    """Load every seller under ``root``; raises ContentError listing every problem found."""
    if not root.is_dir():
        raise ContentError([Problem(root, None, None, "content directory not found")])
    problems: list[Problem] = []
    sellers: dict[str, Seller] = {}
    for folder in seller_folders(root):
        try:
            seller = load_seller(folder)
        except ContentError as exc:
            problems += exc.problems
            continue
        sellers[seller.id] = seller
    if problems:
        raise ContentError(problems)
    if not sellers:
        raise ContentError([Problem(root, None, None, "no seller folders found")])
    return Content(sellers=sellers, root=root)


# ------------------------------------------------------------------------- known keys


def known_keys() -> dict[str, frozenset[str]]:
    """Every key the loader accepts, by place in the files (``seller.sla``: the keys of
    seller.yaml's ``sla`` mapping; ``faq.entry``: the keys of one FAQ entry).

    The JSON Schemas in ``faq/schemas`` describe the same keys; a test keeps them equal.
    """
    return {
        "seller": frozenset(SELLER_REQUIRED + SELLER_OPTIONAL),
        "seller.sla": frozenset(SLA_KEYS),
        "seller.returns": frozenset(RETURNS_KEYS),
        "seller.support_chat": frozenset(SUPPORT_CHAT_REQUIRED + SUPPORT_CHAT_OPTIONAL),
        "seller.ozon": frozenset(OZON_REQUIRED + OZON_OPTIONAL),
        "seller.telegram_business": frozenset(BUSINESS_REQUIRED + BUSINESS_OPTIONAL),
        "faq": frozenset({"entries"}),
        "faq.entry": frozenset(ENTRY_REQUIRED + ENTRY_OPTIONAL),
        "faq.button": frozenset(BUTTON_KEYS),
        "templates": frozenset({"templates"}),
        "templates.template": frozenset(TEMPLATE_KEYS),
    }


def required_keys() -> dict[str, frozenset[str]]:
    """The keys of :func:`known_keys` that must be present, by the same places."""
    return {
        "seller": frozenset(SELLER_REQUIRED),
        "seller.support_chat": frozenset(SUPPORT_CHAT_REQUIRED),
        "seller.ozon": frozenset(OZON_REQUIRED),
        "seller.telegram_business": frozenset(BUSINESS_REQUIRED),
        "faq": frozenset({"entries"}),
        "faq.entry": frozenset(ENTRY_REQUIRED),
        "faq.button": frozenset(BUTTON_KEYS),
        "templates": frozenset({"templates"}),
        "templates.template": frozenset(TEMPLATE_KEYS),
    }
