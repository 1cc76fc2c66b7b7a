"""Messages that ask two things at once: "когда придет и можно ли оплатить картой?".

Scored as a whole, such a message sits between two entries and is answered by neither.
:func:`question_parts` cuts it where a buyer starts a new question: after a sentence
end, at a line break, or at a joining word ("и можно ли", "а также", "also", "还有")
when both sides are long enough to be questions. The matcher then tries each part
alone (``faq.matching.matcher.Matcher.decide``): a part it can answer is answered and the rest
offered to a person.
"""

from __future__ import annotations

import re

from sellerdesk.faq.matching.normalize import normalize

#: At most this many parts are tried (each costs an encoding).
MAX_PARTS = 3
#: A part needs at least this many words (after greetings are dropped) to count.
MIN_PART_TERMS = 2
#: A Chinese part needs at least this many characters.
MIN_PART_HAN = 3

_SENTENCES = re.compile(r"(?<=[?!.;。？！；])(?![?!.;。？！；])\s*|\n+")
#: Words that join a second question to the first.
_JOINS = re.compile(
    r"\s*(?:,\s*)?\b(?:и\s+(?:ещ[её]\s+)?(?=(?:можно|как|когда|где|сколько|есть|будет|"
    r"нужно|почему|что|какой|какая|какие|вы|у\s+вас))|а\s+также|а\s+ещ[её]|также|"
    r"кстати|and\s+(?=(?:can|do|does|is|are|how|when|where|what|will|would))|also|"
    r"plus)\b\s*|\s*(?:还有|另外|以及|顺便问一下|顺便)\s*",
    re.IGNORECASE,
)
_HAN = re.compile(r"[\u3400-\u9fff]")


def _enough(part: str) -> bool:
    norm = normalize(part)
    if norm.lang == "zh":
        return len(_HAN.findall(part)) >= MIN_PART_HAN
    return len(norm.terms) >= MIN_PART_TERMS


def question_parts(text: str) -> list[str]:
    """The questions of one message, in order; one item when it asks one thing.

    Pieces too short to be a question ("Здравствуйте!", "ок") join their neighbour.
    """
    pieces = [p.strip() for p in _SENTENCES.split(text) if p and p.strip()]
    split: list[str] = []
    for piece in pieces:
        split += [p.strip() for p in _JOINS.split(piece) if p and p.strip()]
    parts: list[str] = []
    pending = ""
    for piece in split:
        candidate = f"{pending} {piece}".strip() if pending else piece
        if _enough(candidate):
            parts.append(candidate)
            pending = ""
        else:
            pending = candidate
    if pending:
        if parts:
            parts[-1] = f"{parts[-1]} {pending}"
        else:
            parts.append(pending)
    if len(parts) > MAX_PARTS:
        parts = [*parts[: MAX_PARTS - 1], " ".join(parts[MAX_PARTS - 1 :])]
    return parts or [text]
