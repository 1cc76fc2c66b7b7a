"""Products: found by their name as well as their passage, and by codes only one has."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

from sellerdesk.faq.content.model import Entry, Product, Seller
from sellerdesk.faq.matching.matcher import Matcher
from sellerdesk.faq.matching.policy import HYBRID_WEIGHTS
from sellerdesk.faq.matching.products import Catalog, product_passage
from sellerdesk.faq.matching.semantic import EmbeddingCache, SemanticIndex, Vectors

CARDIGAN = Product(
    offer_id="LW-KNT-918",
    name="Кардиган из мохера укороченный",
    description="Пушистый кардиган на пуговицах, длина 48 см.",
    attributes={"Цвет": "розовый"},
)
QUESTION = "粉色马海毛开衫有多长"


class NameAwareEncoder:
    """Puts the question next to the product's name and far from its long passage.

    This is what a multilingual encoder does with a short Chinese question about a
    product described at length in Russian.
    """

    name = "use"
    version = "test-products"
    dim = 4

    def _vector(self, text: str) -> list[float]:
        if text in (QUESTION, CARDIGAN.name):
            return [1.0, 0.0, 0.0, 0.0]
        if text == product_passage(CARDIGAN):
            return [0.3, 0.95, 0.0, 0.0]
        return [0.0, 0.0, 1.0, 0.0]

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        rows = np.array([self._vector(t) for t in texts], dtype=np.float32)
        unit: Vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return unit.reshape(-1, self.dim)

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        return self.encode_queries(texts)


def seller() -> Seller:
    entry = Entry(
        id="delivery-time",
        questions={"ru": ("Сколько идет доставка?",), "zh": ("多久能到货？",)},
        answer={"ru": "10–20 дней."},
    )
    return Seller(
        id="shop",
        name="Shop",
        support_chat_id=-1,
        languages=("ru", "zh"),
        entries=(entry,),
        products=(CARDIGAN,),
    )


def test_a_product_scores_the_better_of_its_name_and_its_passage() -> None:
    encoder = NameAwareEncoder()
    question = encoder.encode_queries([QUESTION])[0]
    by_passage = SemanticIndex(
        encoder,
        EmbeddingCache(None),
        [],
        np.zeros(0, dtype=np.int64),
        0,
        product_passages=[product_passage(CARDIGAN)],
    ).product_scores(question)[0, 0]
    both = SemanticIndex(
        encoder,
        EmbeddingCache(None),
        [],
        np.zeros(0, dtype=np.int64),
        0,
        product_passages=[product_passage(CARDIGAN)],
        product_names=[CARDIGAN.name],
    ).product_scores(question)[0, 0]
    assert by_passage == pytest.approx(0.3 / np.hypot(0.3, 0.95), abs=1e-5)
    assert both == pytest.approx(1.0)


def test_hybrid_finds_the_product_a_chinese_question_names() -> None:
    weights = replace(
        HYBRID_WEIGHTS,
        signals=(("lexical", 1.0), ("use", 1.0), ("use_centroid", 1.0)),
        product_signals=(("lexical", 1.0), ("use", 1.0)),
    )
    matcher = Matcher(seller(), weights, encoders=[NameAwareEncoder()])
    decision = matcher.decide(QUESTION)
    assert decision.best is not None and decision.best.target == "product:LW-KNT-918"


def _named(offer: str, name: str) -> Product:
    return Product(offer, name, "Описание.")


def test_a_code_in_one_product_name_names_that_product() -> None:
    catalog = Catalog(
        [
            _named("A-1", "Павербанк PB-20K 6000K"),
            _named("A-2", "Павербанк PB-10K 6000K"),
            _named("A-3", "Аккумулятор 21V 4 Ач"),
            _named("A-4", "Шуруповерт 21V"),
        ]
    )
    assert catalog.code_hit(["pb20k"]) == 0
    assert catalog.code_hit(["6000k"]) is None  # two products: no exact hit
    assert catalog.code_hit(["21v"]) is None
    assert catalog.code_hit(["a3"]) == 2  # the offer id itself
