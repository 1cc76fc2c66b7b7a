"""Small talk: a greeting, thanks, "ok" or an emoji alone is not a question for the FAQ
and never a reason to open a case; the bot answers it briefly in the buyer's language."""

from __future__ import annotations

import re
from enum import StrEnum

from sellerdesk.faq.matching.normalize import normalize

#: Acknowledgements that carry no question (folded, without punctuation).
ACKNOWLEDGEMENTS = frozenset(
    """
    ok ок окей okay okey хорошо ладно понятно ясно да ага угу отлично супер
    yes yep yeah fine great cool noted got it sure
    好的 好 嗯 收到 明白 知道了 行 可以 没问题
    """.split()
)
#: Words of thanks in the three languages (folded).
THANKS = ("спасиб", "спс", "благодар", "thank", "thx")
#: Chinese thanks, found inside a text (Chinese has no spaces between words).
CJK_THANKS = ("谢谢", "多谢", "感谢")
_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


class SmallTalk(StrEnum):
    """What a message that asks nothing is."""

    THANKS = "thanks"
    HELLO = "hello"


def small_talk(text: str) -> SmallTalk | None:
    """The kind of small talk ``text`` is, or None when it may ask something."""
    folded = text.casefold().strip()
    words = [w for w in _PUNCTUATION.split(folded) if w]
    if len(words) > 6 or any(ch.isdigit() for ch in folded):
        return None
    thanks = any(w.startswith(THANKS) for w in words) or any(t in folded for t in CJK_THANKS)
    acknowledged = bool(words) and all(w in ACKNOWLEDGEMENTS for w in words)
    if normalize(text).empty or acknowledged or (thanks and _only_politeness(words)):
        return SmallTalk.THANKS if thanks else SmallTalk.HELLO
    return None


def _only_politeness(words: list[str]) -> bool:
    """Thanks with nothing but politeness around it ("большое спасибо!", "thanks a lot")."""
    extra = {"большое", "огромное", "вам", "тебе", "a", "lot", "so", "much", "you", "very", "ty"}
    return all(
        w.startswith(THANKS) or w in CJK_THANKS or w in extra or w in ACKNOWLEDGEMENTS
        for w in words
    )
