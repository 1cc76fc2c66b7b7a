"""Questions about one detail of the product the buyer came from: its card answers them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench.tune import Ranked, figures
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Content, Product, Seller
from sellerdesk.faq.matching.confidence import FEATURES
from sellerdesk.faq.matching.decision import Action
from sellerdesk.faq.matching.matcher import Matcher, make_matcher
from sellerdesk.faq.matching.policy import HYBRID_POLICY, HYBRID_WEIGHTS, DecisionPolicy
from sellerdesk.faq.matching.products import common_attributes, product_details
from sellerdesk.faq.matching.semantic import EmbeddingCache, SemanticIndex, Vectors, installed
from tests.faq.matching.test_semantic import CountingEncoder

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"

needs_use = pytest.mark.skipif(not installed("use"), reason="sentence encoder not installed")


def _product(offer: str, description: str, **attributes: str) -> Product:
    return Product(offer, f"Товар {offer}", description, dict(attributes))


def test_detail_lines_are_attributes_and_sentences_without_what_all_share() -> None:
    products = [
        _product("A-1", "Платье длиной 115 см. Без подкладки!", Материал="вискоза", Страна="Китай"),
        _product("A-2", "Юбка 1.5 м; на резинке", Материал="хлопок", Страна="Китай"),
        _product("A-3", "Шарф", Материал="шелк", Страна="Китай"),
    ]
    common = common_attributes(products)
    assert common == {"Страна: Китай"}
    details = [product_details(p, common) for p in products]
    assert details[0] == ["Материал: вискоза", "Платье длиной 115 см.", "Без подкладки!"]
    # "1.5" is no sentence end; the country every product shares is no detail.
    assert details[1] == ["Материал: хлопок", "Юбка 1.5 м;", "на резинке"]
    assert all("Страна: Китай" not in lines for lines in details)


class _AxisEncoder(CountingEncoder):
    """Texts on fixed axes, so the cosines of a test are known exactly."""

    version = "test-axes"
    dim = 4

    def __init__(self, axes: dict[str, Sequence[float]]) -> None:
        super().__init__()
        self.axes = axes

    def _vectors(self, texts: Sequence[str]) -> Vectors:
        rows = np.array([self.axes.get(t, (0.0, 0.0, 0.0, 1.0)) for t in texts], dtype=np.float32)
        unit: Vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return unit


def _index(encoder: _AxisEncoder, lines: list[str]) -> SemanticIndex:
    return SemanticIndex(
        encoder,
        EmbeddingCache(None),
        [],
        np.zeros(0, dtype=np.int64),
        0,
        product_passages=["passage"],
        product_names=["name"],
        product_details=lambda product: lines if product == 0 else [],
    )


def test_a_line_counts_only_where_it_beats_the_product_as_a_whole() -> None:
    encoder = _AxisEncoder(
        {
            "passage": (1, 0, 0, 0),
            "name": (1, 0.2, 0, 0),
            "Материал: вискоза": (0, 1, 0, 0),
            "about the fabric": (0.2, 1, 0, 0),
            "about the product": (1, 0.3, 0, 0),
        }
    )
    index = _index(encoder, ["Материал: вискоза", "Без подкладки."])
    assert encoder.passages == ["passage", "name"]  # lines wait for the first question
    fabric = encoder.encode_queries(["about the fabric"])[0]
    assert index.detail_score(fabric, 0) == pytest.approx(1 / np.hypot(0.2, 1), abs=1e-6)
    assert encoder.passages[2:] == ["Материал: вискоза", "Без подкладки."]
    # The product in general (its name or passage match best): no detail.
    general = encoder.encode_queries(["about the product"])[0]
    assert index.detail_score(general, 0) == 0.0
    index.detail_score(fabric, 0)
    assert len(encoder.passages) == 4  # encoded once
    assert index.detail_score(fabric, 5) == 0.0  # no such product


def test_tuning_replays_the_detail_rule() -> None:
    # Two questions from product pages, the product first in both: one about the
    # product (detail 70), one out of scope (no detail). The models say no to both.
    ranked = Ranked(
        seller="s",
        x=np.zeros((2, len(FEATURES))),
        right=np.array([[True] + [False] * 4, [False] * 5]),
        keys=np.array([[3.0, 0.0, -np.inf, -np.inf, -np.inf]] * 2),
        reach=np.ones(2),
        sure=np.zeros(2, dtype=bool),
        page=np.zeros(2, dtype=np.int64),
        detail=np.array([70.0, 0.0]),
        has=np.ones(2, dtype=bool),
        oos=np.array([False, True]),
        lang=["ru", "ru"],
        parts=[[], []],
    )
    no = np.zeros(2)
    off = figures(ranked, DecisionPolicy(detail_min=None), no, no)
    assert off["answer"] == 0.0 and off["suggest"] == 1.0  # the page's card is offered
    on = figures(ranked, DecisionPolicy(detail_min=60.0), no, no)
    assert on["answer"] == 1.0 and on["wrong"] == 0.0
    strict = figures(ranked, DecisionPolicy(detail_min=80.0), no, no)
    assert strict["answer"] == 0.0


# ------------------------------------------------------------- the demo seller


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(DEMO)


@pytest.fixture(scope="module")
def hybrid(content: Content) -> Matcher:
    matcher = make_matcher(content.sellers["lotus-wear"], "hybrid")
    if matcher.mode != "hybrid":
        pytest.skip("sentence encoder not available")
    return matcher


@needs_use
@pytest.mark.parametrize(
    ("question", "offer"),
    [
        ("из какой ткани сшито?", "LW-DRS-052"),
        ("подкладка есть?", "LW-DRS-031"),
        ("какой длины рукав у платья?", "LW-DRS-014"),
        ("длина платья сколько сантиметров?", "LW-DRS-031"),
    ],
)
def test_hybrid_answers_a_detail_from_the_card(hybrid: Matcher, question: str, offer: str) -> None:
    decision = hybrid.decide(question, offer_id=offer)
    assert decision.action is Action.ANSWER, decision
    assert decision.best is not None and decision.best.target == f"product:{offer}"
    assert decision.best.parts["detail"] >= (HYBRID_POLICY.detail_min or 0.0)
    assert decision.reason.startswith("the product's card says it")
    # Without the product's lines the same question is not answered.
    seller: Seller = hybrid.seller
    plain = make_matcher(seller, "hybrid", weights=replace(HYBRID_WEIGHTS, product_details=False))
    before = plain.decide(question, offer_id=offer)
    assert before.action is not Action.ANSWER
    assert before.best is not None and "detail" not in before.best.parts


@needs_use
@pytest.mark.parametrize(
    ("question", "offer"),
    [
        ("Вы можете сшить платье по моим меркам?", "LW-DRS-014"),
        ("а вы в инстаграме есть?", "LW-DRS-014"),
        ("можно забрать заказ самой со склада в Китае?", "LW-DRS-014"),
        ("можете прислать живое фото этой юбки?", "LW-SKR-950"),
        ("а такое же есть в красном цвете?", "LW-DRS-045"),
    ],
)
def test_hybrid_does_not_answer_out_of_scope_questions_with_the_card(
    hybrid: Matcher, question: str, offer: str
) -> None:
    decision = hybrid.decide(question, offer_id=offer)
    assert decision.action is not Action.ANSWER, decision


@needs_use
def test_without_an_offer_there_is_no_detail(hybrid: Matcher) -> None:
    _, candidates = hybrid.rank("какой длины рукав у платья?")
    assert all("detail" not in c.parts for c in candidates)


def test_preparing_an_offer_encodes_its_lines_once() -> None:
    encoder = _AxisEncoder({})
    products = (
        _product("A-1", "Платье длиной 115 см. Без подкладки.", Материал="вискоза"),
        _product("A-2", "Юбка на резинке.", Материал="хлопок"),
    )
    seller = Seller("s", "S", -1, ("ru",), products=products)
    matcher = Matcher(seller, HYBRID_WEIGHTS, HYBRID_POLICY, encoders=[encoder])
    built = len(encoder.passages)
    matcher.prepare_offer("A-2")
    assert encoder.passages[built:] == ["Материал: хлопок", "Юбка на резинке."]
    matcher.prepare_offer("NOPE-1")
    matcher.decide("а длина какая?", offer_id="A-2")
    assert len(encoder.passages) == built + 2  # the question found them ready
    matcher.decide("а длина какая?", offer_id="A-1")
    assert encoder.passages[built + 2 :] == [
        "Материал: вискоза",
        "Платье длиной 115 см.",
        "Без подкладки.",
    ]
