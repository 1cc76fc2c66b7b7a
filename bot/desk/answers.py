"""The FAQ side of the desk: which seller a buyer talks to, and what the bot replies.

No Telegram types here: handlers turn updates into calls and replies into messages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from sellerdesk.bot.desk.callbacks import Button, data
from sellerdesk.bot.i18n.texts import pick_language, text
from sellerdesk.faq.content.check import chat_owners
from sellerdesk.faq.content.model import ANY_LANG, Content, MediaFile, Seller
from sellerdesk.faq.matching.decision import Action
from sellerdesk.faq.matching.matcher import Matcher, make_matcher

log = logging.getLogger(__name__)

#: Longest button label Telegram shows in full on a phone, roughly.
BUTTON_CHARS = 60
#: Telegram's limit on one message's text.
MESSAGE_CHARS = 4096
#: How much of the unanswered part of a message an answer quotes.
REST_QUOTE_CHARS = 200


@dataclass(frozen=True)
class Reply:
    """What to send back: a text and optional buttons (label, callback data)."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    action: Action | None = None


@dataclass(frozen=True)
class EntryAnswer:
    """An FAQ entry's (or product's) answer as it goes out: its text, the files sent
    with it (the text their caption) and its link buttons (label, address)."""

    text: str
    media: tuple[MediaFile, ...] = ()
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ContentSnapshot:
    """One version of the seller content, with the matchers built for it.

    A snapshot never changes once published (the matcher cache only fills in):
    a reload builds a new one and :class:`LiveContent` swaps it in whole.
    """

    content: Content
    #: Sellers removed from the files while they had open cases: their cases still
    #: need the seller's name, staff, chat and templates until they are closed.
    retired: Mapping[str, Seller] = field(default_factory=lambda: MappingProxyType({}))
    #: seller id -> matcher over that very ``Seller`` object; built before the bot
    #: takes updates (:meth:`FaqAnswers.build_all`) and in advance by a reload.
    matchers: dict[str, Matcher] = field(default_factory=dict)

    def seller(self, seller_id: str) -> Seller | None:
        """A seller of the files, or a retired one (for its open cases)."""
        return self.content.sellers.get(seller_id) or self.retired.get(seller_id)

    @cached_property
    def chat_owners(self) -> dict[int, list[Seller]]:
        """Staff group -> the sellers whose cases open or live there (built once)."""
        return chat_owners([*self.content.sellers.values(), *self.retired.values()])

    def cached_matcher(self, seller: Seller) -> Matcher | None:
        matcher = self.matchers.get(seller.id)
        return matcher if matcher is not None and matcher.seller is seller else None


class LiveContent:
    """The seller content the desk serves now; a reload swaps the whole snapshot.

    Readers take :attr:`current` once per question and use that snapshot (its
    sellers and its matchers) throughout, so nobody sees half-old, half-new content.
    Swapping is a single reference assignment: safe from any thread.
    """

    def __init__(self, content: Content) -> None:
        self._current = ContentSnapshot(content)
        self._previous: ContentSnapshot | None = None

    @property
    def current(self) -> ContentSnapshot:
        return self._current

    def swap(self, snapshot: ContentSnapshot) -> ContentSnapshot:
        """Publish ``snapshot``; returns the one it replaces."""
        old = self._current
        self._previous, self._current = old, snapshot
        return old

    def matcher_cached(self, seller: Seller) -> Matcher | None:
        """The matcher built for this ``Seller`` object in the current snapshot or the
        one before (a question that began just before a swap)."""
        for snapshot in (self._current, self._previous):
            if snapshot is not None and (found := snapshot.cached_matcher(seller)) is not None:
                return found
        return None


class FaqAnswers:
    """Answers buyers' questions for every seller of the content directory."""

    def __init__(
        self,
        content: Content | LiveContent,
        matcher: str | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.live = content if isinstance(content, LiveContent) else LiveContent(content)
        self.matcher_mode = matcher
        self.cache_dir = cache_dir

    @property
    def content(self) -> Content:
        """The sellers of the content files as they are now (not the retired ones)."""
        return self.live.current.content

    def seller(self, seller_id: str) -> Seller | None:
        """A seller buyers may open now (retired sellers are not offered)."""
        return self.content.sellers.get(seller_id)

    def only_seller(self) -> Seller | None:
        sellers = list(self.content.sellers.values())
        return sellers[0] if len(sellers) == 1 else None

    def build_matcher(self, seller: Seller, background: bool = False) -> Matcher:
        """A new matcher for ``seller``. Blocking (vectors may be computed) unless
        ``background``: then it answers from the lexical signals at once and takes the
        sentence encoders in when they have read the FAQ and the catalog."""
        return make_matcher(seller, self.matcher_mode, self.cache_dir, background=background)

    def replace_seller(self, seller: Seller) -> bool:
        """Serve ``seller`` (a changed version of one of the current sellers, such as
        one the desk has just taught: ``faq.content.editing``) in place of the current
        one, with a new matcher; the other sellers and their matchers stay. False when
        the seller is no longer served or its folder changed meanwhile (reload instead)."""
        matcher = self.build_matcher(seller, background=True)
        for _ in range(3):  # a reload swapping in meanwhile: apply to its snapshot
            old = self.live.current
            current = old.content.sellers.get(seller.id)
            if current is None or current.path != seller.path:
                return False
            sellers = {**old.content.sellers, seller.id: seller}
            matchers = {k: m for k, m in old.matchers.items() if k != seller.id}
            matchers[seller.id] = matcher
            snapshot = ContentSnapshot(
                Content(sellers=sellers, root=old.content.root), old.retired, matchers
            )
            if self.live.current is old:
                self.live.swap(snapshot)
                return True
        return False

    def build_all(self, background: bool = True) -> int:
        """Build the matcher of every seller of the current content that has none yet;
        returns how many were built.

        The bot calls this before it takes updates: built on a buyer's first question
        instead, a matcher is built inside that update's transaction (on SQLite, every
        other update waits for it) and the buyer waits for it. The lexical part takes
        well under a second; with ``background`` the sentence encoders read the FAQ and
        the catalog in a background thread (minutes for a large catalog whose vectors
        are not cached yet), and the matcher answers from the lexical signals meanwhile.
        """
        snapshot = self.live.current
        built = 0
        for seller in snapshot.content.sellers.values():
            if snapshot.cached_matcher(seller) is not None:
                continue
            try:
                matcher = self.build_matcher(seller, background=background)
            except Exception:
                # One seller's failure must not keep the desk from serving the others;
                # a question to this one tries again (and logs) when it comes.
                log.exception("building the matcher of seller %s failed", seller.id)
                continue
            snapshot.matchers.setdefault(seller.id, matcher)
            built += 1
        return built

    def matcher(self, seller: Seller) -> Matcher:
        """The matcher over exactly this ``seller`` (so a question answered across a
        reload still answers from one version of the content); built here only when
        :meth:`build_all` has not."""
        matcher = self.live.matcher_cached(seller)
        if matcher is None:
            matcher = self.build_matcher(seller)
            snapshot = self.live.current
            if snapshot.seller(seller.id) is seller:
                snapshot.matchers.setdefault(seller.id, matcher)
        return matcher

    def language(self, seller: Seller, *hints: str | None) -> str:
        """The language to speak to the buyer: the first hint the bot has texts for.

        Hints come in order of trust: the language of what the buyer just wrote, then
        their Telegram setting. Without any, the seller's first language.
        """
        return pick_language(*hints, seller.default_language)

    def welcome(self, seller: Seller, lang: str) -> str:
        return seller.greeting.get(lang) or text("welcome", lang, shop=seller.name)

    def ask(self, seller: Seller, question: str, user_lang: str | None) -> Reply:
        """The reply to one question: the answer, suggestions, or where to get help."""
        decision = self.matcher(seller).decide(question)
        lang = self.language(seller, decision.lang, user_lang)
        best = decision.best
        if decision.action is Action.ANSWER and best is not None:
            answer = self.answer_text(seller, best.target, lang)
            if decision.rest:
                answer = self.with_rest(answer, decision.rest, lang)
            return Reply(answer, action=decision.action)
        if decision.action is Action.SUGGEST:
            buttons = [
                (self.label(seller, c.target, lang), data(Button.FAQ, seller.id, c.target))
                for c in decision.suggestions
            ]
            return Reply(text("suggest", lang), buttons, decision.action)
        return Reply(text("handoff", lang), action=Action.HANDOFF)

    def with_rest(self, answer: str, rest: str, lang: str) -> str:
        """An answer to one part of a message, with a note that the rest (quoted, cut
        to ``REST_QUOTE_CHARS``) needs a person; within Telegram's message length."""
        quote = rest if len(rest) <= REST_QUOTE_CHARS else rest[: REST_QUOTE_CHARS - 1] + "…"
        note = text("answer_rest", lang, rest=quote)
        room = MESSAGE_CHARS - len(note) - 2
        if len(answer) > room:
            answer = answer[: room - 1] + "…"
        return f"{answer}\n\n{note}"

    def answer_text(self, seller: Seller, target: str, lang: str) -> str:
        """An entry's answer, or a product's card, in ``lang`` where the content has it."""
        if target.startswith("product:"):
            product = seller.product(target.removeprefix("product:"))
            return product.text() if product else text("stale_button", lang)
        entry = seller.entry(target)
        if entry is None:
            return text("stale_button", lang)
        answer = entry.answer_in(lang, seller.languages)
        if lang not in entry.answer and ANY_LANG not in entry.answer:
            # The question matched across languages but the seller wrote no answer in
            # the buyer's language: say so rather than switch language unannounced.
            answer = f"{text('answer_other_language', lang)}\n\n{answer}"
        return answer

    def answer(
        self, seller: Seller, target: str, lang: str, text_: str | None = None
    ) -> EntryAnswer:
        """An entry's (or product's) answer with its files and link buttons in ``lang``;
        ``text_`` replaces its text (an answer with a note added)."""
        body = self.answer_text(seller, target, lang) if text_ is None else text_
        entry = None if target.startswith("product:") else seller.entry(target)
        if entry is None:
            return EntryAnswer(body)
        links = tuple((b.text_in(lang, seller.languages), b.url) for b in entry.buttons)
        return EntryAnswer(body, entry.media, links)

    def label(self, seller: Seller, target: str, lang: str) -> str:
        """A button label: the entry's first question in ``lang``, or the product name."""
        if target.startswith("product:"):
            product = seller.product(target.removeprefix("product:"))
            label = product.name if product else target
        else:
            entry = seller.entry(target)
            if entry is None:
                label = target
            else:
                questions = entry.questions.get(lang) or entry.all_questions()
                label = questions[0]
        return label if len(label) <= BUTTON_CHARS else label[: BUTTON_CHARS - 1] + "…"
