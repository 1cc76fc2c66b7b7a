"""Scoring one question against a seller's entries and products.

:func:`rank_entries` and :func:`rank_products` read every signal of the
:class:`ScoringState` the matcher holds, put each on the seller's own scale and fuse
them; :func:`card_detail` compares a question with one product card's lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sellerdesk.faq.matching import calibration as cal
from sellerdesk.faq.matching.calibration import Calibration
from sellerdesk.faq.matching.decision import PRODUCT_PREFIX, Candidate
from sellerdesk.faq.matching.index import FloatArray
from sellerdesk.faq.matching.normalize import Normalized
from sellerdesk.faq.matching.policy import (
    DecisionPolicy,
    ScoringWeights,
    floor,
)
from sellerdesk.faq.matching.seller_index import SellerIndex
from sellerdesk.faq.matching.semantic import (
    SemanticIndex,
    Vectors,
)

#: The fused score of an exact product hit: above anything a question can score.
EXACT_FUSED = 1000.0


@dataclass(frozen=True)
class ScoringState:
    """What the matcher scores with now: replaced whole when the encoders are ready."""

    weights: ScoringWeights
    policy: DecisionPolicy
    semantic: tuple[tuple[str, SemanticIndex], ...]
    calibration: Calibration

    @property
    def mode(self) -> str:
        return "hybrid" if self.semantic else "fuzzy"


def rank_entries(
    seller: SellerIndex,
    state: ScoringState,
    norm: Normalized,
    limit: int,
    semantic: Mapping[str, Vectors],
) -> list[Candidate]:
    w = state.weights
    calibration = state.calibration
    lexical = seller.lexicon.scores(norm)
    raw: dict[str, FloatArray] = {}
    if w.share("lexical") > 0:
        values = lexical.combined(w.lexical)
        # A question sharing nothing with any variant (another language, another
        # script) has no lexical evidence either way: the signal stays out.
        shares = lexical.shares or bool(lexical.keyword.any())
        raw["lexical"] = values if shares else np.full_like(values, np.nan)
    for name, index in state.semantic:
        if name not in semantic:
            continue
        best, centroid = index.entry_scores(semantic[name])
        raw[name] = best[0]
        raw[f"{name}_centroid"] = centroid[0]
        if index.has_answers:
            raw[f"{name}_answer"] = index.answer_scores(semantic[name])[0]
    shares_of = {n: w.share(n) for n in raw if w.share(n) > 0}
    if not shares_of:
        return []
    z = {n: calibration.entry_z(n, raw[n]) for n in shares_of}
    fused = cal.fuse(z, shares_of)
    top = _top(fused, limit)
    if not len(top):
        return []
    votes = _Votes(z)
    out = []
    for index in top.tolist():
        variant = int(lexical.variant[index])
        if variant < 0:
            variant = int(np.flatnonzero(seller.variant_entry == index)[0])
        parts = {n: round(float(v[index]), 3) for n, v in z.items() if np.isfinite(v[index])}
        parts["fused"] = float(fused[index])
        parts.update(votes.of(index))
        out.append(
            Candidate(
                seller.entry_ids[index],
                round(calibration.display(float(fused[index])), 2),
                matched=seller.variant_texts[variant],
                parts=parts,
            )
        )
    return out


def rank_products(
    seller: SellerIndex,
    state: ScoringState,
    norm: Normalized,
    limit: int,
    exclude: int | None,
    semantic: Mapping[str, Vectors],
    context: int | None,
) -> list[Candidate]:
    w = state.weights
    calibration = state.calibration
    raw: dict[str, FloatArray] = {}
    if w.product_share("lexical") > 0:
        raw["lexical"] = seller.catalog.lexical(norm)
    for name, index in state.semantic:
        if name in semantic and index.n_products and w.product_share(name) > 0:
            raw[name] = index.product_scores(semantic[name])[0]
    if not raw:
        return []
    z = {n: calibration.product_z(n, v) for n, v in raw.items()}
    fused = w.product_gain * cal.fuse(z, {n: w.product_share(n) for n in z})
    fused = fused - w.product_shift
    if len(raw) == 1 and "lexical" in raw:
        # Lexical only: a product that shares no word with the question is no match.
        fused[raw["lexical"] <= 0] = np.nan
    if exclude is not None:
        fused[exclude] = np.nan
    indexes = _top(fused, limit).tolist()
    if context is not None and context not in indexes and context != exclude:
        indexes.append(context)
    votes = _Votes(z)
    out = []
    for index in indexes:
        own = float(fused[index]) if np.isfinite(fused[index]) else floor(calibration)
        parts = {
            f"product_{n}": round(float(v[index]), 3) for n, v in z.items() if np.isfinite(v[index])
        }
        parts.update(votes.of(index))
        parts["lexical"] = parts.get("product_lexical", 0.0)
        parts["product"] = round(own, 3)
        if index == context:
            parts["context"] = w.context_bonus
            if w.product_details and state.semantic:
                detail = card_detail(seller, state, index, semantic)
                parts["detail"] = round(100 * detail, 1)
                # A line of the card that says it is the product's own evidence.
                own += w.detail_gain * detail
        parts["fused"] = own
        product = seller.catalog.products[index]
        out.append(
            Candidate(
                PRODUCT_PREFIX + product.offer_id,
                round(calibration.display(own), 2),
                matched=product.name,
                parts=parts,
            )
        )
    return out


def card_detail(
    seller: SellerIndex, state: ScoringState, product: int, semantic: Mapping[str, Vectors]
) -> float:
    """How well one line of the product's text matches the question, in [0, 1]:
    each encoder's best line, mapped between ``detail_floor`` and ``detail_ceiling``,
    averaged over the encoders."""
    w = state.weights
    values = []
    for name, index in state.semantic:
        if name not in semantic:
            continue
        cosine = index.detail_score(semantic[name], product)
        scaled = (cosine - w.detail_floor) / max(w.detail_ceiling - w.detail_floor, 1e-6)
        values.append(min(1.0, max(0.0, scaled)))
    return sum(values) / len(values) if values else 0.0


def _top(scores: FloatArray, limit: int) -> npt.NDArray[np.int64]:
    """Indexes of the ``limit`` highest finite scores, best first (ties: lower index)."""
    valid = np.flatnonzero(np.isfinite(scores))
    if len(valid) > limit:
        valid = valid[np.argpartition(-scores[valid], limit - 1)[:limit]]
    order = np.lexsort((valid, -scores[valid]))
    top: npt.NDArray[np.int64] = valid[order]
    return top


class _Votes:
    """How the signals, one by one, see a candidate among its own kind (entries, or
    products): the share of signals that rank it first (``agree``), and its lead over
    the best other candidate in the signal where the lead is least and on average
    (``lead_min``, ``lead_mean``; negative where another candidate scores higher)."""

    def __init__(self, z: Mapping[str, FloatArray]) -> None:
        self._firsts: list[int] = []
        self._tops: list[tuple[FloatArray, float, float]] = []
        for values in z.values():
            if not np.isfinite(values).any():
                continue
            self._firsts.append(int(np.nanargmax(values)))
            filled = np.where(np.isfinite(values), values, -np.inf)
            if len(filled) > 1:
                two = np.partition(filled, len(filled) - 2)[-2:]
                self._tops.append((values, float(two[1]), float(two[0])))

    def of(self, index: int) -> dict[str, float]:
        out = {"agree": sum(1 for f in self._firsts if f == index) / max(len(self._firsts), 1)}
        leads = [
            float(v[index]) - (second if float(v[index]) >= first else first)
            for v, first, second in self._tops
            if np.isfinite(v[index]) and np.isfinite(second)
        ]
        if leads:
            out["lead_min"] = min(leads)
            out["lead_mean"] = sum(leads) / len(leads)
        return out
