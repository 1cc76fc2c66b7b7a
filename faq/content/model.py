"""Plain data for one seller's content: what the loader produces and the matcher reads.

Nothing here knows about files, Telegram or the database, so the matcher, the CLI and
the benchmarks can build these objects directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sellerdesk.faq.content.hours import WorkingHours

#: Language key used when a question list or answer is given without languages.
ANY_LANG = "*"


#: What an FAQ answer's file goes out as: a picture (png, jpg) or a document (pdf).
PHOTO = "photo"
DOCUMENT = "document"


@dataclass(frozen=True)
class MediaFile:
    """A file sent with an FAQ answer (faq.yaml ``media``), as checked when loaded."""

    #: As written in faq.yaml: a path inside the seller's folder.
    name: str
    path: Path
    #: :data:`PHOTO` or :data:`DOCUMENT`.
    kind: str
    size: int
    #: SHA-256 of the bytes when loaded: the key of the file's Telegram file id, so a
    #: file is uploaded once and an edited file is uploaded again.
    digest: str


@dataclass(frozen=True)
class LinkButton:
    """A link button under an FAQ answer (faq.yaml ``buttons``)."""

    #: language -> label; ``ANY_LANG`` when the file gave one string.
    text: dict[str, str]
    url: str

    def text_in(self, lang: str | None, fallback: list[str] | tuple[str, ...] = ()) -> str:
        for candidate in (lang, *fallback, ANY_LANG):
            if candidate is not None and candidate in self.text:
                return self.text[candidate]
        return next(iter(self.text.values()))


@dataclass(frozen=True)
class Entry:
    """One FAQ entry: how buyers ask, what the bot answers."""

    id: str
    #: language -> question variants; ``ANY_LANG`` when the file gave a plain list.
    questions: dict[str, tuple[str, ...]]
    #: language -> answer; ``ANY_LANG`` when the file gave a plain string.
    answer: dict[str, str]
    keywords: tuple[str, ...] = ()
    handoff: bool = False
    line: int = 0
    #: Files sent with the answer, the answer as their caption.
    media: tuple[MediaFile, ...] = ()
    #: Link buttons under the answer.
    buttons: tuple[LinkButton, ...] = ()

    def all_questions(self) -> list[str]:
        """Every question variant, whatever its language."""
        return [q for variants in self.questions.values() for q in variants]

    def answer_in(self, lang: str | None, fallback: list[str] | tuple[str, ...] = ()) -> str:
        """The answer in ``lang``, else in the first fallback language that has one."""
        for candidate in (lang, *fallback, ANY_LANG):
            if candidate is not None and candidate in self.answer:
                return self.answer[candidate]
        return next(iter(self.answer.values()))


#: A product link opens the bot on one product: ``t.me/<bot>?start=<seller>__<offer>``.
PRODUCT_SEPARATOR = "__"
#: What Telegram allows in a ``start`` parameter.
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def product_link_payload(seller_id: str, offer_id: str) -> str | None:
    """The ``start`` parameter opening ``offer_id`` of ``seller_id``, or None when
    Telegram would not take it (a character other than ``A-Za-z0-9_-``, or longer than
    64 characters with the seller id)."""
    payload = f"{seller_id}{PRODUCT_SEPARATOR}{offer_id}"
    return payload if START_PAYLOAD.match(payload) else None


@dataclass(frozen=True)
class Product:
    """One catalog row: answers product questions from its name, description, attributes."""

    offer_id: str
    name: str
    description: str
    attributes: dict[str, str] = field(default_factory=dict)
    line: int = 0

    def text(self) -> str:
        """The product as one searchable text: name, description, ``column: value`` pairs."""
        attrs = "; ".join(f"{k}: {v}" for k, v in self.attributes.items() if v)
        return "\n".join(part for part in (self.name, self.description, attrs) if part)


@dataclass(frozen=True)
class Template:
    """A staff quick reply."""

    id: str
    text: dict[str, str]

    def text_in(self, lang: str | None, fallback: list[str] | tuple[str, ...] = ()) -> str:
        for candidate in (lang, *fallback, ANY_LANG):
            if candidate is not None and candidate in self.text:
                return self.text[candidate]
        return next(iter(self.text.values()))


@dataclass(frozen=True)
class Sla:
    """Reply deadlines for a seller's cases (seller.yaml ``sla``)."""

    first_reply: timedelta = timedelta(hours=24)
    remind_after: tuple[timedelta, ...] = (
        timedelta(hours=2),
        timedelta(hours=12),
        timedelta(hours=20),
    )
    escalate_after: timedelta = timedelta(hours=24)
    #: What the offsets count: ``wall`` (calendar time) or ``business`` (only the
    #: seller's ``hours``; see :mod:`bot.schedule.deadlines`).
    clock: str = "wall"


#: ``sla.clock`` values.
CLOCKS = ("wall", "business")


@dataclass(frozen=True)
class Returns:
    """Return requests of a seller (seller.yaml ``returns``).

    Marketplaces approve a return left undecided for a day on their own, so the
    default decision deadline is 24 hours; reminders follow the seller's ``sla``
    offsets that fall before it.
    """

    decide_within: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class SupportChat:
    """A further staff group of a seller (seller.yaml ``support_chats``)."""

    chat_id: int
    #: Buyers writing in these languages get their cases here; empty: this group shares
    #: the cases of every language no group claims, with ``support_chat_id``.
    languages: tuple[str, ...] = ()
    #: Also another seller's staff group, on purpose (``shared: true``).
    shared: bool = False
    line: int = 0


@dataclass(frozen=True)
class OzonLink:
    """The seller's Ozon Seller API access (seller.yaml ``ozon``). The key itself never
    appears in the files: ``api_key_env`` names the environment variable holding it."""

    client_id: str
    api_key_env: str
    #: Buyer chats ("Чат с продавцом"): FAQ answers in the chat.
    chats: bool = True
    #: Product-page questions.
    questions: bool = False
    #: Confident answers to product questions go out without staff approval.
    questions_auto: bool = False
    line: int = 0


#: Minutes the bot keeps quiet in a Telegram Business chat after a person of the account
#: wrote there.
DEFAULT_BUSINESS_QUIET_MINUTES = 30


@dataclass(frozen=True)
class BusinessLink:
    """The seller's own Telegram account, connected to the bot as a Telegram Business
    chatbot (seller.yaml ``telegram_business``): the bot answers buyers who write to it."""

    #: The account's Telegram user id, or its username without "@" (lower case).
    account: int | str
    quiet_minutes: int = DEFAULT_BUSINESS_QUIET_MINUTES
    line: int = 0

    def owns(self, user_id: int, username: str | None) -> bool:
        """Whether the account ``user_id`` (``username``) is this one."""
        if isinstance(self.account, int):
            return self.account == user_id
        return username is not None and username.lower() == self.account


#: Hour of the daily digest in the seller's time zone: before a working day starts.
DEFAULT_DIGEST_HOUR = 9


@dataclass(frozen=True)
class Seller:
    """Everything the bot knows about one seller."""

    id: str
    name: str
    support_chat_id: int
    languages: tuple[str, ...]
    topics: bool = True
    staff: tuple[int, ...] = ()
    greeting: dict[str, str] = field(default_factory=dict)
    sla: Sla = field(default_factory=Sla)
    returns: Returns = field(default_factory=Returns)
    #: IANA time zone of the seller (``Europe/Moscow``): when their day starts.
    timezone: str = "UTC"
    digest_hour: int = DEFAULT_DIGEST_HOUR
    #: Language of the bot's texts in the support chat (``staff_language``); None: the
    #: seller's first language.
    staff_language: str | None = None
    #: More staff groups, after ``support_chat_id`` (see :meth:`groups_for`).
    support_chats: tuple[SupportChat, ...] = ()
    #: Ozon Seller API access, None when the seller serves no buyers inside Ozon.
    ozon: OzonLink | None = None
    #: The seller's own Telegram account the bot answers for, None when not connected.
    telegram_business: BusinessLink | None = None
    #: When staff work (``hours`` and ``holidays``, in ``timezone``); None: no hours
    #: given, staff count as always at work.
    hours: WorkingHours | None = None
    #: Language -> what a buyer is told when handed to staff outside ``hours``.
    away: dict[str, str] = field(default_factory=dict)
    entries: tuple[Entry, ...] = ()
    products: tuple[Product, ...] = ()
    templates: tuple[Template, ...] = ()
    path: Path | None = None
    #: SHA-256 of faq.yaml as loaded: the desk's own edits check the file is still the
    #: one these entries came from (``faq.content.editing``).
    faq_digest: str = field(default="", compare=False)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def staff_chat_ids(self) -> tuple[int, ...]:
        """Every staff group of the seller: ``support_chat_id`` first."""
        return (self.support_chat_id, *(g.chat_id for g in self.support_chats))

    def groups_for(self, lang: str | None, usable: frozenset[int] | None = None) -> list[int]:
        """The staff groups a new case of a buyer writing in ``lang`` may open in: the
        groups whose ``languages`` include it; if none, ``support_chat_id`` and the
        groups without ``languages``. ``usable``: the further groups the desk may use now
        (None: all); ``support_chat_id`` is always a candidate of last resort."""
        extra = [g for g in self.support_chats if usable is None or g.chat_id in usable]
        by_language = [g.chat_id for g in extra if lang is not None and lang in g.languages]
        if by_language:
            return by_language
        return [self.support_chat_id, *(g.chat_id for g in extra if not g.languages)]

    def away_in(self, lang: str | None) -> str | None:
        """The ``away`` text in ``lang``, else in the seller's first language, else any
        given; None when there is none."""
        for candidate in (lang, self.default_language, ANY_LANG):
            if candidate is not None and candidate in self.away:
                return self.away[candidate]
        return next(iter(self.away.values()), None)

    def entry(self, entry_id: str) -> Entry | None:
        for e in self.entries:
            if e.id == entry_id:
                return e
        return None

    def product(self, offer_id: str) -> Product | None:
        for p in self.products:
            if p.offer_id == offer_id:
                return p
        return None


@dataclass(frozen=True)
class Content:
    """All sellers of a content directory, by id."""

    sellers: dict[str, Seller]
    root: Path | None = None
