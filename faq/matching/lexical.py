"""Lexical similarity of a question to FAQ entries: shared words, letters and word pairs.

TF-IDF cosine in three feature spaces built from the normalised text (see
``faq.matching.normalize``): stemmed words (Chinese: characters and character pairs), character
trigrams of the stems (typos: "доствка" still shares most trigrams with "доставка"), and
pairs of adjacent stems ("how long", "track order"). Document frequency counts entries,
so a word in every entry ("заказ") weighs little and a rare one ("таможня") a lot. Each
entry is compared both through its best question variant and through its centroid (all
variants together): the best variant rewards a close paraphrase, the centroid rewards
words the entry uses across many variants. A rapidfuzz character similarity re-ranks
the best few entries (robust to typos and word order), and an entry's keywords add a
bonus when the question contains one.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from sellerdesk.faq.matching.index import FloatArray, SparseIndex
from sellerdesk.faq.matching.normalize import Normalized, normalize

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

IntArray = npt.NDArray[np.int64]


def word_features(terms: Sequence[str]) -> Counter[str]:
    """Stems; for Chinese also adjacent character pairs (a stand-in for words)."""
    features: Counter[str] = Counter(terms)
    if any(t[0] >= "\u3400" for t in terms):
        for a, b in itertools.pairwise(terms):
            if _CJK.match(a) and _CJK.match(b):
                features[a + b] += 1
    return features


def char_features(terms: Sequence[str]) -> Counter[str]:
    """Character trigrams of each non-Chinese stem, with word boundaries marked."""
    features: Counter[str] = Counter()
    for term in terms:
        if len(term) < 3 or _CJK.match(term) or term.isdigit():
            continue
        padded = f"<{term}>"
        features.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return features


def pair_features(terms: Sequence[str]) -> Counter[str]:
    """Adjacent stems ("how long"), skipping Chinese (its pairs are word features)."""
    words = [t for t in terms if not _CJK.match(t)]
    return Counter(f"{a} {b}" for a, b in itertools.pairwise(words))


FEATURISERS: dict[str, Callable[[Sequence[str]], Counter[str]]] = {
    "word": word_features,
    "char": char_features,
    "pair": pair_features,
}


def fuzzy_text(norm: Normalized) -> str:
    """The text rapidfuzz compares: stems joined, Chinese characters kept together."""
    out: list[str] = []
    for term in norm.terms:
        if out and _CJK.match(term) and _CJK.match(out[-1][-1]):
            out[-1] += term
        else:
            out.append(term)
    return " ".join(out)


@dataclass(frozen=True)
class LexicalWeights:
    """How the lexical parts of a score combine (chosen with ``bench/tune.py``)."""

    word: float = 1.0
    char: float = 0.6
    pair: float = 0.3
    #: Share of the centroid (all variants of an entry) against the best single variant.
    centroid: float = 0.35
    #: Share of the rapidfuzz character similarity in the lexical score.
    fuzzy: float = 0.1
    #: Added (in [0, 1] units) when the question contains one of the entry's keywords.
    keyword: float = 0.08
    #: How many entries the fuzzy re-ranking looks at.
    rerank: int = 12


@dataclass(frozen=True)
class LexicalScores:
    """One question's lexical scores against every entry (arrays of ``n_entries``)."""

    #: TF-IDF similarity in [0, 1] (best variant blended with the centroid).
    tfidf: FloatArray
    #: rapidfuzz similarity in [0, 1] of the best variant, for the re-ranked entries only.
    fuzzy: FloatArray
    #: Keyword bonus in [0, 1] units.
    keyword: FloatArray
    #: Index of each entry's best variant by fuzzy similarity (-1: not re-ranked).
    variant: IntArray
    #: Whether the question shares any feature at all with some variant.
    shares: bool

    def combined(self, weights: LexicalWeights) -> FloatArray:
        """The lexical score in [0, 1]: TF-IDF and fuzzy blended, plus the keyword bonus."""
        total = (1.0 - weights.fuzzy) * self.tfidf + weights.fuzzy * self.fuzzy + self.keyword
        out: FloatArray = np.minimum(total, 1.0)
        return out


@dataclass(frozen=True)
class _Space:
    """One feature space: variants and entry centroids."""

    kind: str
    variants: SparseIndex
    centroids: SparseIndex
    weight: float


class EntryLexicon:
    """Lexical scoring of questions against the question variants of FAQ entries.

    Args:
        variant_norms: every question variant, normalised, grouped by entry.
        variant_entry: the entry index of each variant (non-decreasing).
        n_entries: number of entries (an entry without variants scores 0).
        keywords: per entry, its keywords as sets of stems.
        weights: how the parts combine.
    """

    def __init__(
        self,
        variant_norms: Sequence[Normalized],
        variant_entry: IntArray,
        n_entries: int,
        keywords: Sequence[Sequence[frozenset[str]]],
        weights: LexicalWeights,
    ) -> None:
        self.weights = weights
        self.n_entries = n_entries
        self.variant_entry = variant_entry
        self._norms = list(variant_norms)
        self._fuzzy_texts = [fuzzy_text(n) for n in variant_norms]
        self._entry_variants: list[list[int]] = [[] for _ in range(n_entries)]
        for variant, index in enumerate(variant_entry.tolist()):
            self._entry_variants[index].append(variant)
        if len(variant_entry):
            self.group_starts: IntArray = np.flatnonzero(
                np.r_[True, variant_entry[1:] != variant_entry[:-1]]
            )
        else:
            self.group_starts = np.zeros(0, dtype=np.int64)
        #: The entry index of each group of variants.
        self.entries_with_variants: IntArray = (
            variant_entry[self.group_starts] if len(variant_entry) else variant_entry
        )
        self.has_variants = np.zeros(n_entries, dtype=bool)
        self.has_variants[self.entries_with_variants] = True
        self._keywords = list(keywords)
        self._spaces: list[_Space] = []
        entry_list = variant_entry.tolist()
        for kind, featurise in FEATURISERS.items():
            weight = float(getattr(weights, kind))
            if weight <= 0:
                continue
            docs = [featurise(n.terms) for n in variant_norms]
            merged: list[Counter[str]] = [Counter() for _ in range(n_entries)]
            for entry_index, doc in zip(entry_list, docs, strict=True):
                merged[entry_index].update(doc)
            self._spaces.append(
                _Space(
                    kind,
                    SparseIndex(docs, df_groups=entry_list),
                    SparseIndex(merged),
                    weight,
                )
            )

    def _tfidf(self, norm: Normalized, exclude: int | None) -> tuple[FloatArray, bool]:
        total = np.zeros(self.n_entries, dtype=np.float64)
        weight_sum = 0.0
        share = self.weights.centroid
        shares = False
        for space in self._spaces:
            featurise = FEATURISERS[space.kind]
            features = featurise(norm.terms)
            weight_sum += space.weight
            if not features:
                continue
            per_variant = space.variants.similarity(features)
            if exclude is not None:
                per_variant[exclude] = 0.0
            best = np.zeros(self.n_entries, dtype=np.float64)
            if per_variant.size:
                best[self.entries_with_variants] = np.maximum.reduceat(
                    per_variant, self.group_starts
                )
            if best.any():
                shares = True
            centroid = space.centroids.similarity(features)
            if exclude is not None:
                # The left-out variant's own entry without it (the other centroids
                # never had it).
                own = int(self.variant_entry[exclude])
                rest: Counter[str] = Counter()
                for variant in self._entry_variants[own]:
                    if variant != exclude:
                        rest.update(featurise(self._norms[variant].terms))
                centroid[own] = space.centroids.similarity_to(features, rest) if rest else 0.0
            total += space.weight * ((1.0 - share) * best + share * centroid)
        return (total / weight_sum if weight_sum else total), shares

    def _fuzzy(
        self, query: str, entry_indexes: Sequence[int], exclude: int | None = None
    ) -> dict[int, tuple[float, int]]:
        """Best rapidfuzz similarity (0-1) per entry, with the index of the best variant."""
        result: dict[int, tuple[float, int]] = {}
        if not query:
            return result
        variant_ids = sorted(
            v for e in set(entry_indexes) for v in self._entry_variants[e] if v != exclude
        )
        if not variant_ids:
            return result
        choices = [self._fuzzy_texts[i] for i in variant_ids]
        scores = process.cdist([query], choices, scorer=fuzz.token_sort_ratio)[0]
        for pos, variant in enumerate(variant_ids):
            entry = int(self.variant_entry[variant])
            value = float(scores[pos]) / 100.0
            if entry not in result or value > result[entry][0]:
                result[entry] = (value, variant)
        return result

    def scores(self, norm: Normalized, exclude: int | None = None) -> LexicalScores:
        """Every entry's lexical scores for one normalised question.

        ``exclude``: a variant to leave out, as if the FAQ did not have it (the FAQ's
        own variants asked as pseudo-questions, ``faq.matching.calibration``).
        """
        w = self.weights
        tfidf, shares = self._tfidf(norm, exclude)
        fuzzy = np.zeros(self.n_entries, dtype=np.float64)
        variant = np.full(self.n_entries, -1, dtype=np.int64)
        keyword = np.zeros(self.n_entries, dtype=np.float64)
        if self.n_entries:
            top_k = min(w.rerank, self.n_entries)
            top = (
                np.argpartition(-tfidf, top_k - 1)[:top_k]
                if self.n_entries > top_k
                else np.arange(self.n_entries)
            )
            top = top[tfidf[top] > 0]
            if w.fuzzy > 0 and len(top):
                found = self._fuzzy(fuzzy_text(norm), top.tolist(), exclude)
                for entry, (value, best) in found.items():
                    fuzzy[entry] = value
                    variant[entry] = best
            if w.keyword > 0:
                query_terms = set(norm.terms)
                for index, sets in enumerate(self._keywords):
                    if sets:
                        keyword[index] = w.keyword * max(
                            len(k & query_terms) / len(k) for k in sets
                        )
        return LexicalScores(tfidf, fuzzy, keyword, variant, shares)


def keyword_sets(keywords: Sequence[str]) -> list[frozenset[str]]:
    """An entry's keywords as sets of stems. A keyword of several words counts in
    proportion to the words the question has: "return policy" gives half the bonus to a
    question that only says "return"."""
    return [frozenset(terms) for kw in keywords if (terms := normalize(kw, keep_filler=True).terms)]
