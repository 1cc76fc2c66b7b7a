"""The FAQ side of the desk: which seller a buyer talks to, and what the bot replies.

No Telegram types here: handlers turn updates into calls and replies into messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.texts import pick_language, text
from faq.decision import Action
from faq.matcher import Matcher, make_matcher
from faq.model import ANY_LANG, Content, Seller

#: Longest button label Telegram shows in full on a phone, roughly.
BUTTON_CHARS = 60


@dataclass(frozen=True)
class Reply:
    """What to send back: a text and optional buttons (label, callback data)."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    action: Action | None = None


class FaqDesk:
    """Answers buyers' questions for every seller of the content directory."""

    def __init__(
        self, content: Content, matcher: str | None = None, cache_dir: Path | None = None
    ) -> None:
        self.content = content
        self.matcher_mode = matcher
        self.cache_dir = cache_dir
        self._matchers: dict[str, Matcher] = {}

    def seller(self, seller_id: str) -> Seller | None:
        return self.content.sellers.get(seller_id)

    def only_seller(self) -> Seller | None:
        sellers = list(self.content.sellers.values())
        return sellers[0] if len(sellers) == 1 else None

    def matcher(self, seller: Seller) -> Matcher:
        matcher = self._matchers.get(seller.id)
        if matcher is None:
            matcher = make_matcher(seller, self.matcher_mode, self.cache_dir)
            self._matchers[seller.id] = matcher
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
            return Reply(self.answer_text(seller, best.target, lang), action=decision.action)
        if decision.action is Action.SUGGEST:
            buttons = [
                (self.label(seller, c.target, lang), f"faq:{seller.id}:{c.target}")
                for c in decision.suggestions
            ]
            return Reply(text("suggest", lang), buttons, decision.action)
        return Reply(text("handoff", lang), action=Action.HANDOFF)

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
