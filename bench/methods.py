"""The matchers a benchmark compares: the naive baseline, fuzzy-only and hybrid.

``hybrid`` needs the optional sentence encoders (``pip install -e '.[semantic]'``);
without them the report says so and shows the other two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.baseline import NaiveMatcher
from sellerdesk.faq.content.model import Seller
from sellerdesk.faq.matching.decision import MatcherFactory, SellerMatcher
from sellerdesk.faq.matching.matcher import make_matcher
from sellerdesk.faq.matching.semantic import installed

BASELINE = "baseline"
FUZZY = "fuzzy"
HYBRID = "hybrid"

#: Passage embeddings kept between benchmark runs (gitignored).
CACHE_DIR = Path(__file__).resolve().parent / "out" / "cache"


@dataclass(frozen=True)
class Method:
    """A named way to build a matcher for a seller."""

    name: str
    factory: MatcherFactory


def _fuzzy(seller: Seller) -> SellerMatcher:
    return make_matcher(seller, "fuzzy")


def available_methods(cache_dir: Path = CACHE_DIR) -> tuple[list[Method], list[str]]:
    """The baseline, the fuzzy matcher and, when installed, the hybrid; plus notes.

    Args:
        cache_dir: where the hybrid matcher keeps passage embeddings.
    """

    def hybrid(seller: Seller) -> SellerMatcher:
        return make_matcher(seller, "hybrid", cache_dir=cache_dir)

    methods = [Method(BASELINE, NaiveMatcher), Method(FUZZY, _fuzzy)]
    notes = []
    if installed("use"):
        methods.append(Method(HYBRID, hybrid))
    else:
        notes.append("hybrid skipped: the sentence encoders are not installed")
    return methods, notes
