"""How a ranking becomes a decision, and the weights and thresholds chosen for it.

:func:`decide_from` reads a question's :class:`Ranking` with a :class:`DecisionPolicy`:
answer, offer buttons, or hand off. :data:`FUZZY_WEIGHTS`/:data:`HYBRID_WEIGHTS` and
:data:`FUZZY_POLICY`/:data:`HYBRID_POLICY` are what the matcher uses by default; every
value was chosen leave-one-seller-out with ``python -m bench.tune`` (docs/matching.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sellerdesk.faq.matching.calibration import Calibration
from sellerdesk.faq.matching.confidence import (
    FUZZY_ANSWER,
    FUZZY_OFFER,
    HYBRID_ANSWER,
    HYBRID_OFFER,
    ConfidenceModel,
    features,
    standing,
)
from sellerdesk.faq.matching.decision import Action, Candidate, Decision
from sellerdesk.faq.matching.lexical import LexicalWeights
from sellerdesk.faq.matching.normalize import Normalized
from sellerdesk.faq.matching.semantic import (
    ENCODER_NAMES,
)

#: Entry signals, in the order ``faq ask`` shows them.
ENTRY_SIGNALS = ("lexical", "use", "use_centroid", "e5", "e5_centroid", "e5_answer")


#: Product signals.
PRODUCT_SIGNALS = ("lexical", "use", "e5")


@dataclass(frozen=True)
class ScoringWeights:
    """Which signals take part and how much each counts (see the module docstring)."""

    lexical: LexicalWeights = field(default_factory=LexicalWeights)
    #: Entry signal -> its share of the fused score (0 or absent: off).
    signals: tuple[tuple[str, float], ...] = (("lexical", 1.0),)
    #: Product signal -> its share of a product's fused score.
    product_signals: tuple[tuple[str, float], ...] = (("lexical", 1.0),)
    #: A product's fused score is ``product_gain * mean(z) - product_shift``: products
    #: are scaled against the other products of the catalog, entries against their
    #: wrong entries; these put the two on one footing.
    product_gain: float = 1.0
    product_shift: float = 0.0
    #: Added to the product the buyer came from, in the fused unit, for ranking only
    #: ("а длина какая?" asked there is about that product); the decision weighs the
    #: product's own score, so the bonus alone never answers.
    context_bonus: float = 3.0
    #: Hybrid: the product the buyer came from is also compared line by line with the
    #: question (its part ``detail``: the best line's cosine, mapped to 0-100 between
    #: ``detail_floor`` and ``detail_ceiling``; see ``SemanticIndex.detail_score``).
    product_details: bool = False
    detail_floor: float = 0.15
    detail_ceiling: float = 0.45
    #: The part ``detail`` (in [0, 1]) times this is added to the product's own score.
    detail_gain: float = 1.0

    def share(self, name: str) -> float:
        return dict(self.signals).get(name, 0.0)

    def product_share(self, name: str) -> float:
        return dict(self.product_signals).get(name, 0.0)

    def encoders(self) -> tuple[str, ...]:
        """The sentence encoders some signal needs."""
        names = [n.split("_")[0] for n, w in (*self.signals, *self.product_signals) if w > 0]
        return tuple(e for e in ENCODER_NAMES if e in names)

    def lexical_only(self) -> ScoringWeights:
        """The same weights with the encoders' signals off (while they are not ready)."""
        return replace(
            self,
            signals=tuple((n, w) for n, w in self.signals if n == "lexical"),
            product_signals=tuple((n, w) for n, w in self.product_signals if n == "lexical"),
        )


@dataclass(frozen=True)
class DecisionPolicy:
    """When to answer, offer buttons or hand off (see ``faq.matching.confidence``)."""

    #: P(the best candidate is right); None: never answer but on exact hits.
    answer_model: ConfidenceModel | None = None
    #: P(the right candidate is among those offered); None: never offer.
    offer_model: ConfidenceModel | None = None
    #: Answer at once from this P(right).
    tau_answer: float = 0.9
    #: Below that, offer buttons from this P(offered right); hand off below it.
    tau_offer: float = 0.5
    #: Offer the candidates within this many standard deviations (of the seller's best
    #: wrong entries) of the best one, at most ``max_offered``.
    window: float = 1.0
    max_offered: int = 3
    #: Hybrid: a question asked from a product's card is answered with that card when
    #: the product ranks first and one line of its own text matches this well (its part
    #: ``detail``, 0-100). None: never on that ground.
    detail_min: float | None = None


@dataclass(frozen=True)
class Ranking:
    """One question's ranked candidates and what the decision needs beside them."""

    norm: Normalized
    candidates: list[Candidate]
    calibration: Calibration
    lang_known: bool
    #: The text scored (the Cyrillic reading of Latin-typed Russian, if that won).
    text: str


def floor(calibration: Calibration) -> float:
    """A fused score below any match: what a product gets that nothing else scored."""
    return calibration.near.mean - 3.0 * calibration.near.sd


def rank_key(candidate: Candidate) -> float:
    """Order of the candidates: the fused score, plus the bonus of the product the buyer
    came from. The bonus only orders: the decision weighs the product's own score."""
    return standing(candidate)


def decide_from(ranking: Ranking, policy: DecisionPolicy) -> Decision:
    """Apply the policy to a ranking (separate so tuning can replay it)."""
    norm, candidates = ranking.norm, ranking.candidates
    lang = norm.lang
    if not candidates:
        reason = "nothing to match" if norm.empty else "no entry shares a word with it"
        return Decision(Action.HANDOFF, (), lang, reason)
    best = candidates[0]
    if "exact" in best.parts:
        return Decision(Action.ANSWER, tuple(candidates), lang, "exact product code", 0, 1.0)
    detail = best.parts.get("detail", 0.0)
    if policy.detail_min is not None and detail > 0 and detail >= policy.detail_min:
        return Decision(
            Action.ANSWER,
            tuple(candidates),
            lang,
            f"the product's card says it ({detail:.0f})",
            0,
            1.0,
        )
    values = features(candidates, ranking.calibration, len(norm.terms), ranking.lang_known)
    p = policy.answer_model.probability(values) if policy.answer_model else 0.0
    if p >= policy.tau_answer:
        return Decision(
            Action.ANSWER, tuple(candidates), lang, f"confident match (p={p:.2f})", 0, p
        )
    q = policy.offer_model.probability(values) if policy.offer_model else 0.0
    offered = offered_count(ranking, policy)
    if any("context" in c.parts for c in candidates[:offered]):
        # The buyer is looking at this product and asked about something: when its card
        # is among the buttons, it (and "talk to a person") is one tap away.
        return Decision(
            Action.SUGGEST,
            tuple(candidates),
            lang,
            f"the product the buyer came from (p={p:.2f})",
            offered,
            p,
        )
    if q >= policy.tau_offer:
        return Decision(
            Action.SUGGEST,
            tuple(candidates),
            lang,
            f"not sure (p={p:.2f}, offered right {q:.2f})",
            offered,
            p,
        )
    return Decision(
        Action.HANDOFF, tuple(candidates), lang, f"looks out of scope (p={p:.2f}, {q:.2f})", 0, p
    )


def offered_count(ranking: Ranking, policy: DecisionPolicy) -> int:
    """How many of the first candidates a suggestion offers: those within the window of
    the best (in the seller's standard deviations), at most ``max_offered``."""
    candidates = ranking.candidates
    if not candidates:
        return 0
    best = rank_key(candidates[0])
    reach = policy.window * ranking.calibration.near.sd
    n = 1
    for candidate in candidates[1 : policy.max_offered]:
        if best - rank_key(candidate) > reach:
            break
        n += 1
    return n


#: Matcher kinds: ``fuzzy`` is lexical only; ``hybrid`` adds the sentence encoders.
MODES = ("fuzzy", "hybrid")


#: The fuzzy matcher: the lexical signal alone, for entries and products (how each
#: value was chosen: docs/matching.md, "How the values were chosen").
FUZZY_WEIGHTS = ScoringWeights()


#: The hybrid matcher: every signal at an equal share (a plain mean of the seller-scaled
#: signals), e5 against the answers, products by words and both encoders (chosen with
#: ``python -m bench.tune --weights``; see docs/matching.md).
HYBRID_WEIGHTS = ScoringWeights(
    signals=tuple((name, 1.0) for name in ENTRY_SIGNALS),
    product_signals=tuple((name, 1.0) for name in PRODUCT_SIGNALS),
    product_details=True,
)


#: The fuzzy policy of ``python -m bench.tune --fit-confidence`` (docs/matching.md).
FUZZY_POLICY = DecisionPolicy(
    answer_model=FUZZY_ANSWER,
    offer_model=FUZZY_OFFER,
    tau_answer=0.81,
    tau_offer=0.55,
    window=1.5,
    detail_min=None,
)


#: The hybrid policy of ``python -m bench.tune --fit-confidence`` (docs/matching.md).
HYBRID_POLICY = DecisionPolicy(
    answer_model=HYBRID_ANSWER,
    offer_model=HYBRID_OFFER,
    tau_answer=0.88,
    tau_offer=0.6,
    window=2.0,
    detail_min=60.0,
)


def without_missing(weights: ScoringWeights, present: set[str]) -> ScoringWeights:
    """The weights without the signals of encoders that are not installed (e5 has
    wheels for Linux x86-64 only)."""

    def keep(name: str) -> bool:
        head = name.split("_")[0]
        return head not in ENCODER_NAMES or head in present

    return replace(
        weights,
        signals=tuple((n, w) for n, w in weights.signals if keep(n)),
        product_signals=tuple((n, w) for n, w in weights.product_signals if keep(n)),
    )
