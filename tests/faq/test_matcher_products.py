"""Hybrid product matching: a product is found by its name alone, not only its passage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from faq.matcher import HYBRID_WEIGHTS, Matcher, _product_passage
from faq.model import Entry, Product, Seller
from faq.semantic import Vectors

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
        if text == _product_passage(CARDIGAN):
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


def product_score(product_names: bool) -> float:
    weights = replace(HYBRID_WEIGHTS, product_names=product_names)
    matcher = Matcher(seller(), weights, encoders=[NameAwareEncoder()])
    _, candidates = matcher.rank(QUESTION)
    scores = {c.target: c.score for c in candidates}
    return scores.get("product:LW-KNT-918", 0.0)


def test_name_match_lifts_the_product() -> None:
    by_passage = product_score(product_names=False)
    by_name = product_score(product_names=True)
    # The passage alone: cosine 0.3, at the floor of the semantic scale.
    assert by_passage < 10.0
    # The name: cosine 1, the full semantic share (0.6) scaled by the product weight.
    assert by_name > 50.0


def test_hybrid_default_matches_products_by_name() -> None:
    assert HYBRID_WEIGHTS.product_names
    matcher = Matcher(seller(), HYBRID_WEIGHTS, encoders=[NameAwareEncoder()])
    decision = matcher.decide(QUESTION)
    assert decision.best is not None and decision.best.target == "product:LW-KNT-918"
