"""A seller's catalog as the matcher reads it: codes, words, and the lines of each card.

* **Codes first.** A model code or offer id in the question (``PB-20K``, ``lw-snk-220``)
  names one product: it short-circuits every other score.
* **Words.** The name counts twice (it says what the product is); the description and
  attributes add the details buyers ask about. TF-IDF cosine over stemmed words.
* **Lines of a card.** Each ``column: value`` attribute (but those most of the catalog
  shares: "Страна производства: Китай" tells nothing about one product) and each
  sentence of the description: a question asked from a product's card is often about
  one of them ("из какой ткани?").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from sellerdesk.faq.content.model import Product
from sellerdesk.faq.matching.index import FloatArray, SparseIndex
from sellerdesk.faq.matching.lexical import word_features
from sellerdesk.faq.matching.normalize import Normalized, catalog_terms, compact_code, normalize

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])")

#: Characters of the description a product's passage keeps (what an encoder reads).
PASSAGE_DESCRIPTION_CHARS = 200


def product_passage(product: Product) -> str:
    """What a sentence encoder reads of a product: name, attributes, start of description."""
    attrs = ", ".join(f"{k}: {v}" for k, v in product.attributes.items() if v)
    return f"{product.name}. {attrs}. {product.description[:PASSAGE_DESCRIPTION_CHARS]}"


def common_attributes(products: Sequence[Product]) -> frozenset[str]:
    """``column: value`` attributes most of the catalog shares ("Страна производства:
    Китай" on every product): they tell nothing about one product, and a question about
    the shop ("можно забрать самой со склада в Китае?") would match them."""
    if len(products) < 3:
        return frozenset()
    shared = Counter(f"{k}: {v}" for p in products for k, v in p.attributes.items() if v)
    return frozenset(line for line, n in shared.items() if 2 * n > len(products))


def product_details(product: Product, common: frozenset[str] = frozenset()) -> list[str]:
    """The lines of a product a detail question is answered by: each ``column: value``
    attribute (but the ``common`` ones) and each sentence of the description."""
    lines = [f"{k}: {v}" for k, v in product.attributes.items() if v]
    lines = [line for line in lines if line not in common]
    lines += [s.strip() for s in _SENTENCE_END.split(product.description) if s.strip()]
    return lines


class Catalog:
    """A seller's products, indexed for codes, words and card lines."""

    def __init__(self, products: Sequence[Product]) -> None:
        self.products = list(products)
        self.offers = {p.offer_id: i for i, p in enumerate(self.products)}
        self._codes: dict[str, int] = {}
        docs: list[Counter[str]] = []
        #: Codes in product names ("PB-20K", but also "21V", "H7") -> the products
        #: whose names have them: only a code one product has names that product.
        named: dict[str, set[int]] = {}
        for index, product in enumerate(self.products):
            code = compact_code(product.offer_id)
            if code:
                self._codes.setdefault(code, index)
            name = normalize(product.name, keep_filler=True)
            body = catalog_terms(" ".join((product.description, *product.attributes.values())))
            for extra in name.codes:
                named.setdefault(extra, set()).add(index)
            doc = word_features(name.terms)
            for key in list(doc):
                doc[key] *= 2
            doc.update(word_features(body))
            docs.append(doc)
        for extra, owners in named.items():
            if len(owners) == 1:
                self._codes.setdefault(extra, next(iter(owners)))
        self._index = SparseIndex(docs) if docs else None
        self._code_list = sorted(self._codes)
        self._common = common_attributes(self.products)

    def __len__(self) -> int:
        return len(self.products)

    def code_hit(self, codes: Iterable[str]) -> int | None:
        """A product named by its code: exact, or a unique prefix of at least 4 characters."""
        codes = list(codes)
        for code in codes:
            if code in self._codes:
                return self._codes[code]
        for code in codes:
            if len(code) < 4 or not any(ch.isdigit() for ch in code):
                continue
            matches = {self._codes[c] for c in self._code_list if c.startswith(code)}
            if len(matches) == 1:
                return matches.pop()
        return None

    def lexical(self, norm: Normalized) -> FloatArray:
        """TF-IDF cosine of the question to every product, in [0, 1]."""
        if self._index is None:
            return np.zeros(0, dtype=np.float64)
        return self._index.similarity(word_features(norm.terms))

    def passages(self) -> list[str]:
        return [product_passage(p) for p in self.products]

    def names(self) -> list[str]:
        return [p.name for p in self.products]

    def details(self, index: int) -> list[str]:
        """The detail lines of one product (see :func:`product_details`)."""
        return product_details(self.products[index], self._common)
