"""The confidence models and the decision they drive."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from bench.tune import FIT_DIR, MODEL_FEATURES, fit_models, read_rows
from sellerdesk.faq.matching import confidence
from sellerdesk.faq.matching.calibration import Calibration, Scale
from sellerdesk.faq.matching.confidence import FEATURES, ConfidenceModel, features
from sellerdesk.faq.matching.decision import Action, Candidate
from sellerdesk.faq.matching.normalize import normalize
from sellerdesk.faq.matching.policy import (
    FUZZY_POLICY,
    HYBRID_POLICY,
    DecisionPolicy,
    Ranking,
    decide_from,
)

QUESTION = normalize("сколько идет доставка в москву")
CALIBRATION = Calibration(right=Scale(3.0, 1.0), near=Scale(1.5, 0.8))
MODELS = {
    "hybrid": (confidence.HYBRID_ANSWER, confidence.HYBRID_OFFER),
    "fuzzy": (confidence.FUZZY_ANSWER, confidence.FUZZY_OFFER),
}


def entry(target: str, fused: float, agree: float = 1.0) -> Candidate:
    parts = {"fused": fused, "agree": agree, "lead_mean": 0.5, "lexical": 2.0}
    return Candidate(target, CALIBRATION.display(fused), matched=target, parts=parts)


def ranked(*candidates: Candidate) -> Ranking:
    return Ranking(QUESTION, list(candidates), CALIBRATION, True, "сколько идет доставка")


def p_answer(best: float, runner_up: float, model: ConfidenceModel | None = None) -> float:
    model = model or confidence.HYBRID_ANSWER
    values = features(
        [entry("a", best), entry("b", runner_up, 0.0), entry("c", runner_up - 0.5, 0.0)],
        CALIBRATION,
        len(QUESTION.terms),
        True,
    )
    return model.probability(values)


@pytest.mark.parametrize("mode", sorted(MODELS))
def test_the_fitted_models_use_features_the_code_computes(mode: str) -> None:
    for model in MODELS[mode]:
        names = tuple(name for name, *_ in model.terms)
        assert names == MODEL_FEATURES
        assert set(names) <= set(FEATURES)
        for _, mean, scale, weight in model.terms:
            assert math.isfinite(mean) and math.isfinite(weight) and scale > 0


@pytest.mark.parametrize("mode", sorted(MODELS))
def test_fitting_the_recorded_rows_again_gives_the_shipped_models(mode: str) -> None:
    # The rows python -m bench.tune --fit-confidence fitted on are in bench/fit/: a
    # change of the constants without a change of the rows (or the other way) fails.
    rows, window = read_rows(FIT_DIR / f"confidence-{mode}.csv")
    assert window == (HYBRID_POLICY if mode == "hybrid" else FUZZY_POLICY).window
    assert fit_models(rows) == MODELS[mode]


@pytest.mark.parametrize("best", [2.0, 3.0, 4.0])
def test_p_rises_with_the_margin(best: float) -> None:
    assert p_answer(best, best - 2.0) > p_answer(best, best - 0.5) > p_answer(best, best)


@pytest.mark.parametrize("gap", [0.0, 1.0])
def test_p_rises_with_the_score(gap: float) -> None:
    assert p_answer(4.0, 4.0 - gap) > p_answer(2.0, 2.0 - gap) > p_answer(0.0, -gap)


def test_p_is_a_probability() -> None:
    for best in (-50.0, 0.0, 3.0, 50.0, 1e6):
        p = p_answer(best, best - 1.0)
        assert 0.0 <= p <= 1.0


def _policy(**changes: object) -> DecisionPolicy:
    answer = ConfidenceModel(0.0, (("margin", 0.0, 1.0, 3.0),))
    offer = ConfidenceModel(0.0, (("top", 0.0, 1.0, 3.0),))
    base = DecisionPolicy(answer, offer, tau_answer=0.9, tau_offer=0.5, window=1.0)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_clear_lead_answers() -> None:
    decision = decide_from(ranked(entry("a", 4.0), entry("b", 1.0)), _policy())
    assert decision.action is Action.ANSWER and decision.best is not None
    assert decision.best.target == "a" and decision.confidence > 0.9


def test_close_candidates_on_topic_are_offered_as_buttons() -> None:
    # Margin 0.1 sd-units: P(answer) ~0.6; the best is well above the near entries.
    decision = decide_from(
        ranked(entry("a", 4.0), entry("b", 3.92), entry("c", 3.5), entry("d", 1.0)), _policy()
    )
    assert decision.action is Action.SUGGEST
    # Offered: those within the window (1 x near.sd = 0.8) of the best.
    assert [c.target for c in decision.suggestions] == ["a", "b", "c"]


def test_what_looks_out_of_scope_is_handed_off() -> None:
    decision = decide_from(ranked(entry("a", 0.5), entry("b", 0.45)), _policy())
    assert decision.action is Action.HANDOFF
    assert "out of scope" in decision.reason


def test_the_product_page_is_offered_never_handed_off() -> None:
    product = Candidate("product:A-1", 10.0, parts={"fused": -1.0, "context": 3.0, "product": -1.0})
    decision = decide_from(ranked(product, entry("a", 0.5)), _policy())
    assert decision.action is Action.SUGGEST
    assert decision.suggestions[0].target == "product:A-1"


def test_the_bonus_alone_never_answers() -> None:
    # Ranked first on the page's bonus, with a weak score of its own.
    product = Candidate("product:A-1", 10.0, parts={"fused": 0.2, "context": 3.0})
    decision = decide_from(ranked(product, entry("a", 0.5)), _policy())
    assert decision.action is not Action.ANSWER


def test_an_exact_code_answers_whatever_the_models_say() -> None:
    exact = Candidate("product:PB-20K", 100.0, parts={"exact": 100.0, "fused": 1000.0})
    decision = decide_from(ranked(exact), _policy(tau_answer=1.1))
    assert decision.action is Action.ANSWER


def test_a_matching_line_of_the_card_answers_from_the_threshold() -> None:
    product = Candidate("product:A-1", 10.0, parts={"fused": 0.0, "context": 3.0, "detail": 70.0})
    runner_up = entry("a", 0.0)  # as strong: the models alone would not answer
    for detail_min, action in (
        (60.0, Action.ANSWER),
        (80.0, Action.SUGGEST),
        (None, Action.SUGGEST),
    ):
        decision = decide_from(ranked(product, runner_up), _policy(detail_min=detail_min))
        assert decision.action is action


def test_nothing_to_match_is_handed_off() -> None:
    decision = decide_from(ranked(), _policy())
    assert decision.action is Action.HANDOFF and not decision.candidates


def test_the_recorded_rows_are_the_evaluation_sellers_dev_questions() -> None:
    rows, _ = read_rows(FIT_DIR / "confidence-hybrid.csv")
    sellers = {p.name.split(".")[0] for p in Path(FIT_DIR).parent.glob("cases/*.dev.jsonl")}
    assert set(rows.seller) == sellers
    # Every seller weighs the same.
    for seller in sellers:
        total = sum(w for s, w in zip(rows.seller, rows.w, strict=True) if s == seller)
        assert total == pytest.approx(1.0)
