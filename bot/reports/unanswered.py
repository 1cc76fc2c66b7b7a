"""FAQ gaps: the questions the FAQ left unanswered, grouped, each group with a draft
FAQ entry staff can paste into faq.yaml.

One code path for ``sellerdesk faq gaps`` and the daily digest: :func:`find_gaps` reads
the questions that ended in *suggest* or *handoff*, groups them (``faq.gaps``) and
attaches, where one of the questions became a case staff answered, that case's first
staff answer as the draft's answer.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from sellerdesk.faq.gaps import group_questions
from sellerdesk.faq.matching.normalize import normalize
from sellerdesk.storage.models import SUBJECT_LEN
from sellerdesk.storage.repo import questions
from sellerdesk.storage.repo.questions import AnsweredCase

#: Example questions shown per group.
EXAMPLES = 3
#: Questions read for one report (the digest's day, or the command's period).
MAX_QUESTIONS = 500
#: Words in a suggested entry id, and its length.
ID_WORDS = 4
ID_CHARS = 40
#: The draft's answer when no staff answer is known: empty, so ``faq check`` refuses
#: the entry until someone writes it (a pasted draft never answers buyers "TODO").
TODO_ANSWER = '""  # TODO: write the answer (faq check reports it until then)'

#: Words that say nothing about the topic of a question (after folding): left out of ids.
#: Question words that narrow the topic ("где", "сколько", "when") stay.
_ID_STOPWORDS = frozenset(
    """
    а в во да для до же за и из или как какая какие какой ли мне мой моя мое мои
    можно на не нет но о об от по при про с со так то ты у уже что чтобы это я
    вы вам ваш ваша ваши мы нам нас наш он она они его ее их есть будет был была
    кто чем
    a an and are as at be can could did do does for from have how i if in is it me my
    of on or our so that the this to was what which who will with would you your there
    any
    """.split()
)
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split(),
        strict=True,
    )
)
_NOT_ID = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class GapDraft:
    """One group of unanswered questions and the FAQ entry it suggests."""

    count: int
    #: Up to :data:`EXAMPLES` questions, the first asked first.
    examples: tuple[str, ...]
    suggested_id: str
    #: The first staff answer in a case opened with one of the group's questions.
    staff_answer: str | None = None
    #: That case's number (``#12`` in the staff chat).
    case_number: int | None = None

    @property
    def example(self) -> str:
        """The question that stands for the group."""
        return self.examples[0]

    def as_json(self) -> dict[str, object]:
        return {
            "count": self.count,
            "examples": list(self.examples),
            "suggested_id": self.suggested_id,
            "staff_answer": self.staff_answer,
            "case_number": self.case_number,
            "yaml": draft_yaml(self),
        }


@dataclass(frozen=True)
class GapReport:
    """The groups of a period, biggest first, and how many questions they hold."""

    drafts: list[GapDraft]
    unanswered: int


def find_gaps(
    session: Session,
    seller_id: str,
    since: datetime,
    until: datetime,
    *,
    taken_ids: Iterable[str] = (),
    max_questions: int = MAX_QUESTIONS,
) -> GapReport:
    """The seller's unanswered questions in ``[since, until)``, grouped, with drafts.

    Args:
        taken_ids: entry ids already in the seller's FAQ; suggested ids avoid them.
        max_questions: questions read at most (the first asked in the period).
    """
    asked = questions.unanswered_questions(session, seller_id, since, until, limit=max_questions)
    answers = _answers_by_question(questions.answered_cases(session, seller_id, since, until))
    taken = set(taken_ids)
    drafts: list[GapDraft] = []
    for gap in group_questions(asked):
        suggested = unique_id(suggest_id(gap.questions), taken)
        taken.add(suggested)
        answered = next(
            (answers[key] for key in map(_question_key, gap.questions) if key in answers), None
        )
        drafts.append(
            GapDraft(
                count=gap.count,
                examples=_examples(gap.questions),
                suggested_id=suggested,
                staff_answer=answered.answer if answered else None,
                case_number=answered.number if answered else None,
            )
        )
    return GapReport(drafts=drafts, unanswered=len(asked))


def _question_key(text: str) -> str:
    """How a logged question and a case subject are compared: the subject is the
    buyer's message clipped to the column, the log keeps it stripped."""
    return " ".join(text.split())[:SUBJECT_LEN].casefold()


def _answers_by_question(cases: Sequence[AnsweredCase]) -> dict[str, AnsweredCase]:
    found: dict[str, AnsweredCase] = {}
    for case in cases:
        found.setdefault(_question_key(case.subject), case)
    return found


def _examples(texts: Sequence[str]) -> tuple[str, ...]:
    """Up to :data:`EXAMPLES` different questions, in the order asked."""
    seen: dict[str, str] = {}
    for text in texts:
        seen.setdefault(" ".join(text.split()).casefold(), text)
        if len(seen) == EXAMPLES:
            break
    return tuple(seen.values())


# ---------------------------------------------------------------------------- entry ids


#: Words that turn the next one around: kept with it in ids ("не пришла" is the
#: opposite of "пришла").
_NEGATIONS = frozenset({"не", "нет", "без", "not", "no", "never", "dont", "doesnt", "cant"})


def _id_word(word: str) -> str:
    """A word (or a negation joined to its word by "+") in id letters."""
    parts = []
    for piece in word.split("+"):
        latin = "".join(_TRANSLIT.get(ch, ch) for ch in piece)
        parts.append(_NOT_ID.sub("", latin.replace("-", "")))
    return "-".join(p for p in parts if p)


def _id_words(text: str) -> list[str]:
    """The words of a question that can name it: stopwords out, each negation kept
    with the word it turns around."""
    words: list[str] = []
    negation: str | None = None
    for word in normalize(text).clean.replace("'", "").split():
        if word in _NEGATIONS:
            negation = word
            continue
        if word in _ID_STOPWORDS or word.isdigit():
            continue
        words.append(f"{negation}+{word}" if negation else word)
        negation = None
    return words


def suggest_id(texts: Sequence[str]) -> str:
    """An entry id from the words the questions share (``где мой заказ`` -> ``gde-zakaz``):
    the words most of the group uses, in the order of the first question, Cyrillic
    transliterated; ``new-entry`` when no word fits (a Chinese question)."""
    per_question = [_id_words(t) for t in texts]
    counts = Counter(w for words in per_question for w in set(words))
    first = per_question[0] if per_question else []
    shared = [w for w in first if counts[w] * 2 >= len(texts)] or first
    parts: list[str] = []
    for word in dict.fromkeys(shared):
        part = _id_word(word)
        if not part or len("-".join([*parts, part])) > ID_CHARS:
            continue
        parts.append(part)
        if len(parts) == ID_WORDS:
            break
    return "-".join(parts) or "new-entry"


def unique_id(candidate: str, taken: set[str]) -> str:
    """``candidate``, or ``candidate-2``, ``-3``... when taken."""
    if candidate not in taken:
        return candidate
    number = 2
    while f"{candidate}-{number}" in taken:
        number += 1
    return f"{candidate}-{number}"


# ------------------------------------------------------------------------------ drafts


def _quote(value: str) -> str:
    """A YAML 1.2 double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _lang(text: str) -> str | None:
    return normalize(text).lang


#: What makes a staff answer read as a reply to one buyer's order rather than to every
#: buyer: an order number, a date, "in N days"/"tomorrow", "your order".
_PERSONAL = re.compile(
    r"\d{6,12}-\d{1,6}|\b\d{1,2}[./]\d{1,2}\b|через\s+\d+\s*(?:дн|час|недел)|"
    r"\b(?:завтра|сегодня|послезавтра|tomorrow|today)\b|明天|今天|后天|"
    r"ваш(?:а|у|его|ей)?\s+(?:заказ|посылк|товар)|your\s+(?:order|parcel|package)|您的(?:订单|包裹)",
    re.IGNORECASE,
)


def personal(answer: str) -> bool:
    """Whether a staff answer reads as a reply to one buyer ("будет через 5 дней",
    "ваш заказ 12345678-0001 уже в пути"): not a draft answer for everyone."""
    return bool(_PERSONAL.search(answer))


def draft_yaml(draft: GapDraft) -> str:
    """The draft as an entry of faq.yaml's ``entries:`` list, ready to paste.

    Questions are listed per detected language (a plain list when the language is
    not known); the answer is the staff answer, in its language, or left empty with
    a TODO comment (also when the staff answer reads as a reply to one buyer, which
    is then shown in a comment to write from).
    """
    lines = [f"  - id: {draft.suggested_id}", "    questions:"]
    by_lang: dict[str, list[str]] = {}
    for question in draft.examples:
        by_lang.setdefault(_lang(question) or "", []).append(question)
    if set(by_lang) == {""}:
        lines[-1] += " [" + ", ".join(_quote(q) for q in by_lang[""]) + "]"
    else:
        # A question without letters (numbers only) goes with the first language found.
        unknown = by_lang.pop("", [])
        first = next(iter(by_lang))
        by_lang[first] += unknown
        for lang, texts in by_lang.items():
            lines.append(f"      {lang}: [" + ", ".join(_quote(q) for q in texts) + "]")
    answer = draft.staff_answer
    answer_lang = _lang(answer) if answer else None
    if answer is not None and personal(answer):
        # One buyer's reply ("through 5 days") would mislead everyone else: shown to
        # write from, not proposed.
        where = f"case #{draft.case_number}" if draft.case_number else "a case"
        lines.append(f"    # staff in {where}, to one buyer: {_quote(answer)}")
        lines.append(f"    answer: {TODO_ANSWER}")
    elif answer is None:
        lines.append(f"    answer: {TODO_ANSWER}")
    elif answer_lang is None:
        lines.append(f"    answer: {_quote(answer)}")
    else:
        lines += ["    answer:", f"      {answer_lang}: {_quote(answer)}"]
    return "\n".join(lines) + "\n"


def format_gaps(seller_id: str, period: str, report: GapReport, shown: int) -> str:
    """The report ``sellerdesk faq gaps`` prints: comments and entries, so the whole
    text can be pasted under ``entries:`` in faq.yaml."""
    drafts = report.drafts[:shown]
    lines = [
        f"# FAQ gaps of {seller_id}, {period}: {report.unanswered} question(s) the FAQ did "
        f"not answer, in {len(report.drafts)} group(s)"
    ]
    if not report.drafts:
        lines.append("# nothing to add: every question was answered")
        return "\n".join(lines) + "\n"
    if len(report.drafts) > shown:
        lines.append(f"# the {shown} biggest shown (--limit)")
    lines.append(
        "# Paste the entries under `entries:` in faq.yaml, write the empty answers, then run "
        "sellerdesk faq check."
    )
    for index, draft in enumerate(drafts, start=1):
        source = (
            f"answer from case #{draft.case_number}"
            if draft.case_number is not None
            else "no staff answer found: write one"
        )
        lines.append("")
        lines.append(f"# {index}. asked {draft.count} time(s); {source}")
        lines.append(draft_yaml(draft).rstrip("\n"))
    return "\n".join(lines) + "\n"
