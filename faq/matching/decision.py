"""What the matcher decides for one question: answer, suggest or hand off."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sellerdesk.faq.content.model import Seller

#: Prefix of a candidate target that names a product rather than an FAQ entry.
PRODUCT_PREFIX = "product:"


class Action(StrEnum):
    ANSWER = "answer"
    SUGGEST = "suggest"
    HANDOFF = "handoff"


@dataclass(frozen=True)
class Candidate:
    """One scored candidate: an FAQ entry id, or ``product:<offer_id>``."""

    target: str
    #: Combined score in [0, 100]; what the thresholds compare.
    score: float
    #: The question variant (or product text) that scored best, for admins.
    matched: str = ""
    #: How the score was made (component name -> value), for ``faq ask``.
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def is_product(self) -> bool:
        return self.target.startswith(PRODUCT_PREFIX)

    @property
    def ref(self) -> str:
        """The entry id or the offer id, without the prefix."""
        return self.target.removeprefix(PRODUCT_PREFIX)


@dataclass(frozen=True)
class Decision:
    """The matcher's verdict for one question, with the candidates behind it."""

    action: Action
    candidates: tuple[Candidate, ...]
    #: Language detected from the question text (``ru``, ``en``, ``zh``) or None.
    lang: str | None = None
    #: Why this action (a short phrase for logs and ``faq ask``).
    reason: str = ""
    #: How many of the first candidates are offered as buttons (suggest only).
    offered: int = 0
    #: P(the best candidate is right), where the decision asked a model (1.0 for exact
    #: hits, 0.0 where there was nothing to ask).
    confidence: float = 0.0
    #: A message that asked several things and was answered in part: the part answered
    #: and the rest, which the bot offers to a person. Empty otherwise.
    part: str = ""
    rest: str = ""

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def suggestions(self) -> tuple[Candidate, ...]:
        """The candidates offered as buttons when the action is suggest."""
        return self.candidates[: self.offered] if self.action is Action.SUGGEST else ()


class SellerMatcher(Protocol):
    """Anything that decides questions for one seller (the matcher, the baseline)."""

    def decide(
        self, text: str, lang: str | None = None, *, offer_id: str | None = None
    ) -> Decision: ...


class MatcherFactory(Protocol):
    def __call__(self, seller: Seller) -> SellerMatcher: ...
