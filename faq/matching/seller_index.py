"""A seller's FAQ and catalog prepared for scoring, and the seller's own scale.

:class:`SellerIndex` holds what every question is compared with (question variants,
their normalised forms, the lexical index, the catalog) and computes the seller's
calibration (``faq.matching.calibration``): its variants asked as pseudo-questions,
each against the FAQ without it. The calibration is kept in the cache folder by a
digest of the content, so a restart reads it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from sellerdesk.faq.content.model import Seller
from sellerdesk.faq.matching import calibration as cal
from sellerdesk.faq.matching.calibration import Calibration, Scale
from sellerdesk.faq.matching.index import FloatArray
from sellerdesk.faq.matching.lexical import EntryLexicon, LexicalWeights, keyword_sets
from sellerdesk.faq.matching.normalize import Normalized, normalize
from sellerdesk.faq.matching.policy import ScoringWeights
from sellerdesk.faq.matching.products import Catalog
from sellerdesk.faq.matching.semantic import (
    EmbeddingCache,
    Encoder,
    SemanticIndex,
)

#: Product names read for the vocabulary that tells Latin-typed Russian apart.
MAX_VOCABULARY_PRODUCTS = 2000
#: Characters of each answer read for that vocabulary.
MAX_ANSWER_CHARS = 1000


class SellerIndex:
    """One seller's entries and products, prepared once per content version."""

    def __init__(self, seller: Seller, lexical: LexicalWeights, cache: EmbeddingCache) -> None:
        self.seller = seller
        self.cache = cache
        self.entry_ids = [e.id for e in seller.entries]
        variant_entry: list[int] = []
        self.variant_texts: list[str] = []
        self.variant_norms: list[Normalized] = []
        langs: set[str] = set()
        for index, entry in enumerate(seller.entries):
            for question in entry.all_questions():
                norm = normalize(question)
                if norm.empty:
                    norm = normalize(question, keep_filler=True)
                variant_entry.append(index)
                self.variant_norms.append(norm)
                self.variant_texts.append(question)
                if norm.lang:
                    langs.add(norm.lang)
        #: Languages the FAQ's question variants are written in (detected).
        self.variant_languages = frozenset(langs)
        self.variant_entry = np.asarray(variant_entry, dtype=np.int64)
        self.keywords = [keyword_sets(e.keywords) for e in seller.entries]
        self.lexicon = EntryLexicon(
            self.variant_norms,
            self.variant_entry,
            len(self.entry_ids),
            self.keywords,
            lexical,
        )
        self.catalog = Catalog(seller.products)
        self.vocabulary = self._vocabulary_of()

    def _vocabulary_of(self) -> frozenset[str]:
        """Stems of the seller's own texts (variants, answers, product names)."""
        words: set[str] = set()
        for norm in self.variant_norms:
            words.update(norm.terms)
        for entry in self.seller.entries:
            for answer in entry.answer.values():
                words.update(normalize(answer[:MAX_ANSWER_CHARS]).terms)
        for product in self.seller.products[:MAX_VOCABULARY_PRODUCTS]:
            words.update(normalize(product.name).terms)
        return frozenset(words)

    def semantic_index(self, encoder: Encoder, w: ScoringWeights) -> SemanticIndex:
        """The encoder's vectors of the FAQ (and catalog) as ``w`` uses them."""
        answer_texts: list[str] = []
        answer_entry: list[int] = []
        if w.share(f"{encoder.name}_answer") > 0:
            # An answer most entries share ("see the product card") tells no entry apart.
            shared = Counter(a for e in self.seller.entries for a in set(e.answer.values()))
            common = {a for a, n in shared.items() if 2 * n > len(self.seller.entries)}
            for index, entry in enumerate(self.seller.entries):
                for answer in dict.fromkeys(entry.answer.values()):
                    if answer.strip() and answer not in common:
                        answer_texts.append(answer)
                        answer_entry.append(index)
        reads_products = w.product_share(encoder.name) > 0 and len(self.catalog) > 0
        return SemanticIndex(
            encoder,
            self.cache,
            self.variant_texts,
            self.variant_entry,
            len(self.entry_ids),
            answer_texts,
            np.asarray(answer_entry, dtype=np.int64),
            # e5 reads a product's name only: a passage costs it about 60 ms (1 ms a
            # token), and the names carry most of what questions about products say.
            self.catalog.passages() if reads_products and encoder.name == "use" else (),
            self.catalog.names() if reads_products else (),
            self.catalog.details if w.product_details else None,
        )

    def calibration(
        self, weights: ScoringWeights, semantic: tuple[tuple[str, SemanticIndex], ...]
    ) -> Calibration:
        """The seller's calibration: read from the cache folder when this very content
        was calibrated before (a restart), else computed and saved there."""
        folder = self.cache.folder
        key = ""
        if folder is not None:
            key = cal.content_key(
                (
                    [(e.id, e.questions, e.answer, e.keywords) for e in self.seller.entries],
                    [
                        (p.offer_id, p.name, p.description, p.attributes)
                        for p in self.catalog.products
                    ],
                    weights,
                    [(name, index.encoder.name, index.encoder.version) for name, index in semantic],
                )
            )
            cached = cal.load(folder, key)
            if cached is not None:
                return cached
        calibration = self._calibrate(weights, semantic)
        if folder is not None:
            cal.save(folder, key, calibration)
        return calibration

    def _calibrate(
        self, weights: ScoringWeights, semantic: tuple[tuple[str, SemanticIndex], ...]
    ) -> Calibration:
        """The seller's scales from its own variants asked as pseudo-questions, each
        against the FAQ without it (see ``faq.matching.calibration``)."""
        n_variants = len(self.variant_texts)
        n_entries = len(self.entry_ids)
        product_scales = self._product_scales(weights, semantic)
        if n_entries < 2 or n_variants < cal.MIN_PSEUDO_QUESTIONS:
            return Calibration(product=product_scales)
        rng = np.random.default_rng(cal.SEED)
        chosen = np.sort(rng.permutation(n_variants)[: cal.MAX_PSEUDO_QUESTIONS])
        label = self.variant_entry[chosen]
        siblings = np.bincount(self.variant_entry, minlength=n_entries)
        alone = siblings[label] < 2
        lexical = np.full((len(chosen), n_entries), np.nan)
        for row, variant in enumerate(chosen.tolist()):
            norm = self.variant_norms[variant]
            lexical[row] = self.lexicon.scores(norm, exclude=variant).combined(weights.lexical)
        # An entry whose only variant is the one asked has nothing left to match.
        lexical[alone, label[alone]] = np.nan
        raw: dict[str, FloatArray] = {"lexical": lexical}
        for name, index in semantic:
            queries = index.variants[chosen]
            best, centroid = index.entry_scores(queries, exclude=chosen)
            raw[name] = best
            raw[f"{name}_centroid"] = centroid
            if index.has_answers:
                raw[f"{name}_answer"] = index.answer_scores(queries)
        entry_scales: dict[str, Scale] = {}
        for name, values in raw.items():
            if weights.share(name) > 0 and (scale := cal.wrong_scale(values, label)) is not None:
                entry_scales[name] = scale
        z = {n: entry_scales[n].z(v) for n, v in raw.items() if n in entry_scales}
        if not z:
            return Calibration(product=product_scales)
        fused = cal.fuse(z, dict(weights.signals))
        # The right entry's reference counts a pseudo-question only where its entry has
        # another variant in the same language: a buyer mostly writes in a language the
        # FAQ has, and a lone English variant of a Russian entry would make every right
        # match look weak.
        languages = [n.lang for n in self.variant_norms]
        pairs = Counter(zip(self.variant_entry.tolist(), languages, strict=True))
        known = np.array(
            [pairs[(int(self.variant_entry[v]), languages[v])] > 1 for v in chosen.tolist()],
            dtype=bool,
        )
        right, near = cal.references(fused, label, known)
        odds = cal.fit_odds(fused, label, known, near)
        return Calibration(entry_scales, product_scales, right, near, len(label), odds)

    def _product_scales(
        self, weights: ScoringWeights, semantic: tuple[tuple[str, SemanticIndex], ...]
    ) -> dict[str, Scale]:
        """The scale of each product signal: products' names asked against the rest of
        the catalog (a sample), every other product a wrong one. Questions about a
        product name it or what it is; how far above the other products it then scores
        is comparable from one catalog to the next, whatever language the FAQ is in."""
        n = len(self.catalog)
        if n < 3:
            return {}
        rng = np.random.default_rng(cal.SEED)
        sample = np.sort(rng.permutation(n)[: cal.MAX_PSEUDO_PRODUCTS])
        labels = sample.astype(np.int64)
        raw: dict[str, FloatArray] = {}
        if weights.product_share("lexical") > 0:
            names = [normalize(self.catalog.products[i].name) for i in sample.tolist()]
            raw["lexical"] = np.stack([self.catalog.lexical(norm) for norm in names])
        for name, index in semantic:
            if weights.product_share(name) > 0 and index.n_products:
                raw[name] = index.product_scores(index.name_vectors[sample])
        scales = {}
        for name, values in raw.items():
            if (scale := cal.wrong_scale(values, labels)) is not None:
                scales[name] = scale
        return scales
