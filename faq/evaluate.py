"""Evaluation of the matcher on labelled questions (docs/content-format.md, sections 2 and 3)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sellerdesk.faq.content.errors import ContentError, Problem
from sellerdesk.faq.content.model import Content
from sellerdesk.faq.matching.decision import Action, Decision, MatcherFactory, SellerMatcher

#: Keys of one evaluation case; ``lang`` and ``offer`` are optional. ``offer`` (an
#: extension of docs/content-format.md) is the offer id of the product the buyer came from
#: (a deep link to its card), passed to the matcher as ``offer_id``.
_CASE_KEYS = {"seller", "text", "expect", "lang", "offer"}


@dataclass(frozen=True)
class Case:
    seller: str
    text: str
    expect: str | None
    lang: str | None = None
    #: The product the buyer asked from (its offer id), if any.
    offer: str | None = None


def read_cases(path: Path) -> list[Case]:
    """Read a JSON Lines file of cases; every bad line is reported, with its number."""
    problems: list[Problem] = []
    cases: list[Case] = []
    with path.open(encoding="utf-8-sig") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(Problem(path, lineno, None, f"not valid JSON: {exc.msg}"))
                continue
            if not isinstance(obj, dict):
                problems.append(Problem(path, lineno, None, "expected a JSON object"))
                continue
            unknown = set(obj) - _CASE_KEYS
            if unknown:
                problems.append(Problem(path, lineno, ", ".join(sorted(unknown)), "unknown key"))
            seller, text, expect = obj.get("seller"), obj.get("text"), obj.get("expect", ...)
            lang = obj.get("lang")
            offer = obj.get("offer")
            if not isinstance(seller, str) or not seller:
                problems.append(Problem(path, lineno, "seller", "expected a seller id"))
            if not isinstance(text, str):
                problems.append(Problem(path, lineno, "text", "expected a string"))
            if expect is ... or not (expect is None or isinstance(expect, str)):
                problems.append(
                    Problem(path, lineno, "expect", "expected an entry id, product:<id> or null")
                )
            if lang is not None and not isinstance(lang, str):
                problems.append(Problem(path, lineno, "lang", "expected a string"))
            if offer is not None and not (isinstance(offer, str) and offer):
                problems.append(Problem(path, lineno, "offer", "expected an offer id"))
                offer = None
            if isinstance(seller, str) and isinstance(text, str) and expect is not ...:
                cases.append(Case(seller, text, expect, lang, offer))
    if problems:
        raise ContentError(problems)
    return cases


@dataclass
class _Tally:
    cases: int = 0
    in_scope: int = 0
    out_of_scope: int = 0
    top1: int = 0
    top3: int = 0
    answered_right: int = 0
    suggested_right: int = 0
    answered_wrong: int = 0
    handed_off_oos: int = 0

    def add(self, case: Case, decision: Decision) -> None:
        self.cases += 1
        best = decision.best.target if decision.best else None
        answered = decision.action is Action.ANSWER
        if case.expect is None:
            self.out_of_scope += 1
            if decision.action is Action.HANDOFF:
                self.handed_off_oos += 1
            if answered:
                self.answered_wrong += 1
            return
        self.in_scope += 1
        top3 = [c.target for c in decision.candidates[:3]]
        self.top1 += best == case.expect
        self.top3 += case.expect in top3
        if answered:
            if best == case.expect:
                self.answered_right += 1
                self.suggested_right += 1
            else:
                self.answered_wrong += 1
        elif decision.action is Action.SUGGEST and case.expect in (
            c.target for c in decision.suggestions
        ):
            self.suggested_right += 1

    def report(self) -> dict[str, Any]:
        def ratio(num: int, den: int) -> float | None:
            return round(num / den, 4) if den else None

        return {
            "cases": self.cases,
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "top1_accuracy": ratio(self.top1, self.in_scope),
            "top3_accuracy": ratio(self.top3, self.in_scope),
            "answer_accuracy": ratio(self.answered_right, self.in_scope),
            "suggest_recall": ratio(self.suggested_right, self.in_scope),
            "wrong_answer_rate": ratio(self.answered_wrong, self.cases),
            "handoff_recall": ratio(self.handed_off_oos, self.out_of_scope),
        }


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def evaluate(
    cases: Iterable[Case],
    content: Content,
    matcher_factory: MatcherFactory,
) -> dict[str, Any]:
    """Match every case the way the bot would and report the figures of docs/content-format.md.

    Args:
        cases: labelled questions; each names its seller.
        content: the sellers the cases refer to.
        matcher_factory: builds one matcher per seller (the real matcher or a baseline).

    Returns:
        The JSON object printed by ``sellerdesk faq eval --json``.

    Raises:
        KeyError: a case names a seller that the content does not have.
    """
    matchers: dict[str, SellerMatcher] = {}
    overall = _Tally()
    per_lang: dict[str, _Tally] = {}
    timings: list[float] = []
    for case in cases:
        matcher = matchers.get(case.seller)
        if matcher is None:
            if case.seller not in content.sellers:
                raise KeyError(f"case names unknown seller {case.seller!r}")
            matcher = matchers[case.seller] = matcher_factory(content.sellers[case.seller])
        started = time.perf_counter()
        if case.offer:
            decision = matcher.decide(case.text, offer_id=case.offer)
        else:
            decision = matcher.decide(case.text)
        timings.append((time.perf_counter() - started) * 1000.0)
        overall.add(case, decision)
        if case.lang:
            per_lang.setdefault(case.lang, _Tally()).add(case, decision)
    timings.sort()
    result = overall.report()
    result["per_lang"] = {lang: tally.report() for lang, tally in sorted(per_lang.items())}
    result["mean_ms"] = round(sum(timings) / len(timings), 3) if timings else 0.0
    result["p50_ms"] = round(_percentile(timings, 0.5), 3)
    result["p99_ms"] = round(_percentile(timings, 0.99), 3)
    return result
