"""The hybrid matcher's confidence model and the decision it drives."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from faq.confidence import FEATURES, HYBRID_CONFIDENCE, ConfidenceModel, features
from faq.content import load_seller
from faq.decision import Action, Candidate
from faq.matcher import DEFAULT_POLICY, HYBRID_POLICY, Matcher, decide_from
from faq.normalize import normalize
from tests.faq.conftest import PRODUCTS_CSV, WriteSeller

QUESTION = normalize("сколько идет доставка в москву")


def entry(target: str, score: float) -> Candidate:
    """An entry candidate whose parts add up to ``score`` in the hybrid's proportions."""
    parts = {"lexical": 0.36 * score, "use": 0.54 * score, "fuzzy": 0.1 * score, "keyword": 0.0}
    return Candidate(target, score, matched=target, parts=parts)


def ranking(best: float, runner_up: float) -> list[Candidate]:
    return [entry("a", best), entry("b", runner_up), entry("c", runner_up - 5)]


def p_of(candidates: list[Candidate]) -> float:
    return HYBRID_CONFIDENCE.probability(candidates, QUESTION)


def test_the_fitted_model_uses_every_feature_the_code_computes() -> None:
    names = tuple(name for name, *_ in HYBRID_CONFIDENCE.terms)
    assert names == FEATURES
    assert tuple(features(ranking(60, 40), QUESTION)) == FEATURES
    for _, mean, scale, weight in HYBRID_CONFIDENCE.terms:
        assert math.isfinite(mean) and math.isfinite(weight)
        assert scale > 0
    assert HYBRID_POLICY.confidence is HYBRID_CONFIDENCE
    assert 0 < HYBRID_POLICY.tau_suggest <= HYBRID_POLICY.tau_answer < 1
    # The fuzzy matcher keeps its thresholds.
    assert DEFAULT_POLICY.confidence is None


@pytest.mark.parametrize("best", [40.0, 55.0, 70.0])
def test_probability_rises_with_the_margin(best: float) -> None:
    close, clear = p_of(ranking(best, best - 2)), p_of(ranking(best, best - 25))
    assert close < clear


@pytest.mark.parametrize("runner_up", [20.0, 35.0])
def test_probability_rises_with_the_score(runner_up: float) -> None:
    assert p_of(ranking(runner_up + 10, runner_up)) < p_of(ranking(runner_up + 30, runner_up))


def test_probability_is_a_probability() -> None:
    assert p_of([]) == 0.0
    for best, runner_up in ((100, 0), (30, 29), (5, 4)):
        assert 0.0 <= p_of(ranking(best, runner_up)) <= 1.0
    silly = ConfidenceModel(-1e6, ())
    assert silly.probability(ranking(90, 10), QUESTION) == 0.0


def test_decision_at_the_thresholds() -> None:
    candidates = ranking(50, 40)
    p = p_of(candidates)
    assert 0.02 < p < 0.98
    answer = replace(HYBRID_POLICY, tau_answer=p - 0.01, tau_suggest=p - 0.02)
    decision = decide_from(candidates, QUESTION, answer)
    assert decision.action is Action.ANSWER
    assert decision.reason == f"confident match (p={p:.2f})"

    # Not sure enough to answer, sure enough to suggest: the best is offered even below
    # suggest_min, and a runner-up only from suggest_min.
    suggest = replace(HYBRID_POLICY, tau_answer=p + 0.01, tau_suggest=p - 0.01, suggest_min=45.0)
    decision = decide_from(candidates, QUESTION, suggest)
    assert decision.action is Action.SUGGEST
    assert [c.target for c in decision.suggestions] == ["a"]
    assert "p=" in decision.reason

    handoff = replace(suggest, tau_suggest=p + 0.01, suggest_min=51.0)
    decision = decide_from(candidates, QUESTION, handoff)
    assert decision.action is Action.HANDOFF
    assert decision.reason == f"best match too weak (p={p:.2f})"

    # A plausible best score still gets suggestions when the model is unsure.
    by_score = replace(handoff, suggest_min=40.0, suggest_window=10.0)
    decision = decide_from(candidates, QUESTION, by_score)
    assert decision.action is Action.SUGGEST
    assert [c.target for c in decision.suggestions] == ["a", "b"]


def test_exact_code_still_answers(write_seller: WriteSeller) -> None:
    matcher = Matcher(load_seller(write_seller(products=PRODUCTS_CSV)), policy=HYBRID_POLICY)
    strict = matcher.with_policy(replace(HYBRID_POLICY, tau_answer=1.0, tau_suggest=1.0))
    decision = strict.decide("pb-20k")
    assert decision.action is Action.ANSWER
    assert decision.reason == "exact product code"
    assert decision.best is not None and decision.best.target == "product:PB-20K"


def test_no_candidates_is_handed_off() -> None:
    decision = decide_from([], normalize("????"), HYBRID_POLICY)
    assert decision.action is Action.HANDOFF
