"""Grouping the questions the FAQ could not answer, so staff see each gap once.

Pure: a list of question texts in, groups out. ``bot.reports.unanswered`` builds on it for both the
daily digest and ``sellerdesk faq gaps``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from sellerdesk.faq.matching.normalize import normalize

#: token_set_ratio at or above which two questions count as the same gap. The ratio
#: ignores word order and extra words, so "где мой заказ" and "подскажите где заказ"
#: group; questions about different things share too few words to reach it.
SIMILAR = 75.0


@dataclass(frozen=True)
class Gap:
    """Questions that ask the same thing: the first one asked stands for them all."""

    example: str
    questions: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.questions)


def _key(question: str) -> str:
    """The comparable form: normalised words (fillers and greetings dropped); the folded
    text when nothing is left (a question of greetings only)."""
    clean = normalize(question).clean
    return clean or " ".join(question.casefold().split())


def group_questions(questions: Sequence[str], threshold: float = SIMILAR) -> list[Gap]:
    """Group ``questions`` by similarity, biggest group first (ties: first asked first).

    Greedy single pass: each question joins the first group whose first question it
    resembles. Deterministic for a given order, and plenty for a day's questions.
    """
    groups: list[tuple[str, list[str]]] = []
    for question in questions:
        text = question.strip()
        if not text:
            continue
        key = _key(text)
        for head, members in groups:
            if fuzz.token_set_ratio(key, head) >= threshold:
                members.append(text)
                break
        else:
            groups.append((key, [text]))
    ordered = sorted(enumerate(groups), key=lambda item: (-len(item[1][1]), item[0]))
    return [Gap(example=members[0], questions=tuple(members)) for _, (_, members) in ordered]
