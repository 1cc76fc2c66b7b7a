"""``faq check``: problems that stop the content from loading, and doubts worth a look.

Warnings do not stop the bot; they point at FAQ entries that will behave badly:
two entries with near-identical questions (the matcher cannot tell them apart and will
suggest instead of answering) and answers missing in a language the seller serves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from sellerdesk.faq.content.errors import ContentError, Problem
from sellerdesk.faq.content.model import (
    ANY_LANG,
    Content,
    Seller,
    SupportChat,
    product_link_payload,
)
from sellerdesk.faq.matching.normalize import normalize

#: Two questions of different entries at least this similar (rapidfuzz ratio of the
#: normalised texts, 0-100) are reported as ambiguous. 90 flags real duplicates such as
#: "Сколько идет доставка?" / "Сколько идёт доставка" and leaves near-topics alone.
NEAR_DUPLICATE = 90.0


@dataclass
class CheckReport:
    content: Content | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def ambiguity_warnings(seller: Seller) -> list[Problem]:
    """Near-identical questions in two entries, and answers missing in a seller language."""
    path = (seller.path / "faq.yaml") if seller.path else Path("faq.yaml")
    warnings: list[Problem] = []
    owners: list[tuple[str, int, str]] = []
    for entry in seller.entries:
        for question in entry.all_questions():
            text = " ".join(normalize(question, keep_filler=True).terms)
            if text:
                owners.append((entry.id, entry.line, text))
    if len(owners) > 1:
        texts = [t for _, _, t in owners]
        # cdist runs in C over all pairs; fine up to tens of thousands of variants.
        matrix = process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE)
        reported: set[tuple[str, str]] = set()
        for i, j in zip(*matrix.nonzero(), strict=True):
            a, b = owners[int(i)], owners[int(j)]
            if a[0] >= b[0] or (a[0], b[0]) in reported:
                continue
            reported.add((a[0], b[0]))
            warnings.append(
                Problem(
                    path,
                    a[1],
                    f"entry {a[0]}",
                    f"a question is nearly the same as one of entry {b[0]!r} (line {b[1]}): "
                    "buyers will get suggestions instead of an answer; merge or reword them",
                )
            )
    for entry in seller.entries:
        if ANY_LANG in entry.answer:
            continue
        missing = [lang for lang in seller.languages if lang not in entry.answer]
        if missing:
            warnings.append(
                Problem(
                    path,
                    entry.line,
                    f"entry {entry.id}.answer",
                    f"no answer in {', '.join(missing)}; those buyers get the "
                    f"{seller.default_language} answer",
                )
            )
    return warnings


def check_content(root: Path) -> CheckReport:
    """Load a content directory and collect errors and warnings for ``faq check``."""
    from sellerdesk.faq.content.loader import load_content

    try:
        content = load_content(root)
    except ContentError as exc:
        return CheckReport(None, errors=exc.problems)
    report = CheckReport(content)
    report.errors += foreign_group_problems(content)
    report.errors += shared_chat_problems(content)
    report.errors += placeholder_problems(content)
    for seller in content.sellers.values():
        report.warnings += ozon_warnings(seller)
        report.warnings += ambiguity_warnings(seller)
        report.warnings += product_link_warnings(seller)
    return report


#: Offer ids named in a product-link warning at most.
LINK_EXAMPLES = 3


def unlinkable_offers(seller_id: str, offer_ids: list[str]) -> list[str]:
    """The offer ids no product link can open (see ``model.product_link_payload``)."""
    return [o for o in offer_ids if product_link_payload(seller_id, o) is None]


def unlinkable_message(seller_id: str, bad: list[str], total: int) -> str:
    examples = ", ".join(repr(o) for o in bad[:LINK_EXAMPLES])
    more = f" and {len(bad) - LINK_EXAMPLES} more" if len(bad) > LINK_EXAMPLES else ""
    return (
        f"{len(bad)} of {total} offer ids cannot go into a product link "
        f"(t.me/<bot>?start={seller_id}__<offer-id> takes only A-Za-z0-9_- and 64 "
        f"characters): {examples}{more}; those products are still answered, but buyers "
        "cannot be sent straight to them"
    )


def product_link_warnings(seller: Seller) -> list[Problem]:
    """One warning when some of the seller's offer ids cannot be linked."""
    offers = [p.offer_id for p in seller.products]
    bad = unlinkable_offers(seller.id, offers)
    if not bad:
        return []
    path = (seller.path / "products.csv") if seller.path else Path("products.csv")
    first = next(p.line for p in seller.products if p.offer_id == bad[0])
    return [Problem(path, first or None, None, unlinkable_message(seller.id, bad, len(offers)))]


def ozon_warnings(seller: Seller) -> list[Problem]:
    """An ``ozon`` section whose key variable is not set where this runs."""
    link = seller.ozon
    if link is None or os.environ.get(link.api_key_env, "").strip():
        return []
    return [
        Problem(
            (seller.path / "seller.yaml") if seller.path else Path("seller.yaml"),
            link.line or None,
            "ozon.api_key_env",
            f"{link.api_key_env} is not set here: the bot serves no Ozon chats for "
            f"{seller.id} until it is set where the bot runs",
        )
    ]


def foreign_groups(sellers: list[Seller]) -> list[tuple[Seller, SupportChat, list[Seller]]]:
    """Further staff groups (``support_chats``) that are also another seller's group
    without ``shared: true``: ``(seller, group, the other sellers)``. The desk leaves
    such a group out of the seller's routing: a typo there would send one shop's buyers
    to another shop's staff."""
    owners: dict[int, list[Seller]] = {}
    for seller in sellers:
        for chat_id in seller.staff_chat_ids:
            owners.setdefault(chat_id, []).append(seller)
    found = []
    for seller in sellers:
        for group in seller.support_chats:
            others = [s for s in owners[group.chat_id] if s is not seller]
            if others and not group.shared:
                found.append((seller, group, others))
    return found


def foreign_group_problems(content: Content) -> list[Problem]:
    """``faq check``'s line for each group of :func:`foreign_groups`."""
    return [
        Problem(
            (seller.path / "seller.yaml") if seller.path else Path("seller.yaml"),
            group.line or None,
            "support_chats.chat_id",
            f"{group.chat_id} is a staff group of {', '.join(o.id for o in others)}: correct "
            "the id, or add shared: true if both shops' staff work there (cases of this "
            "seller do not open there until then)",
        )
        for seller, group, others in foreign_groups(list(content.sellers.values()))
    ]


def chat_owners(sellers: list[Seller]) -> dict[int, list[Seller]]:
    """Each staff group and the sellers whose cases may open or live there:
    ``support_chat_id`` and the ``support_chats`` the desk uses (not a foreign group)."""
    foreign = {(s.id, g.chat_id) for s, g, _ in foreign_groups(sellers)}
    by_chat: dict[int, list[Seller]] = {}
    for seller in sellers:
        for chat_id in seller.staff_chat_ids:
            if (seller.id, chat_id) not in foreign:
                by_chat.setdefault(chat_id, []).append(seller)
    return by_chat


def shared_chat_problems(content: Content) -> list[Problem]:
    """A support chat shared by several sellers, where a seller lists no ``staff``:
    every member of the chat could then answer that seller's buyers and close its
    cases, so the desk lets nobody but admins act there until the list is written."""
    by_chat = chat_owners(list(content.sellers.values()))
    problems = []
    for chat_id, sellers in by_chat.items():
        if len(sellers) < 2:
            continue
        for seller in sellers:
            if seller.staff:
                continue
            others = ", ".join(s.id for s in sellers if s is not seller)
            path = (seller.path / "seller.yaml") if seller.path else Path("seller.yaml")
            problems.append(
                Problem(
                    path,
                    None,
                    "staff",
                    f"support chat {chat_id} is shared with {others}: list the Telegram user "
                    "ids of this seller's staff, or any member of the chat could answer its "
                    "buyers (until then only admins can act on its cases)",
                )
            )
    return problems


def placeholder_problems(content: Content) -> list[Problem]:
    """A seller still on the placeholder staff chat of ``sellerdesk init``: its cases
    would reach no one while buyers are told they reached the shop."""
    from sellerdesk.faq.content.scaffold import PLACEHOLDER_CHAT_ID

    return [
        Problem(
            (seller.path / "seller.yaml") if seller.path else Path("seller.yaml"),
            None,
            "support_chat_id",
            f"{PLACEHOLDER_CHAT_ID} is the placeholder of sellerdesk init: put the id of "
            "the seller's staff group here (docs/deployment.md, finding chat ids)",
        )
        for seller in content.sellers.values()
        if seller.support_chat_id == PLACEHOLDER_CHAT_ID
    ]
