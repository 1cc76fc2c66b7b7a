"""How sure the matcher is: P(its best candidate is right), P(the right one is offered).

Two small logistic regressions over features of the ranked candidates, each read against
the seller's own calibration (``faq.matching.calibration``), so the same numbers mean the same
thing for a dense FAQ and a sparse one:

* ``answer``: P(the best candidate is the right answer); an out-of-scope question counts
  as "not right". The bot answers at once from ``DecisionPolicy.tau_answer``.
* ``offer``: P(the right answer is among the candidates offered as buttons). Below the
  answer threshold the bot offers buttons (with "talk to a person") from
  ``DecisionPolicy.tau_offer``, and hands the question to staff below it: what looks
  out of scope goes to a person at once, what looks on topic costs the buyer one tap.

The coefficients below are printed by ``python -m bench.tune --fit-confidence``: fitted
on the dev questions of the evaluation sellers (``bench/sellers``, ``bench/cases/*.dev``)
only, every seller weighing the same. The rows they are fitted on are kept in
``bench/fit/``, and ``tests/faq/matching/test_confidence.py`` fits them again and checks that
the result is these constants.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sellerdesk.faq.matching.calibration import Calibration
from sellerdesk.faq.matching.decision import Candidate

#: Every feature a model may use, in this order (see :func:`features`).
FEATURES = (
    "top",
    "top_right",
    "margin",
    "gap23",
    "agree",
    "lexical",
    "is_product",
    "log_tokens",
    "lang_known",
    "own",
    "lead_min",
    "lead_mean",
)
#: ``lexical`` is clipped to this range of standard deviations: a long question that
#: repeats an entry's words would otherwise outweigh everything else.
LEXICAL_CLIP = (-3.0, 8.0)


def fused(candidate: Candidate) -> float:
    """A candidate's own fused score (without the bonus of the product page)."""
    return candidate.parts.get("fused", 0.0)


def standing(candidate: Candidate) -> float:
    """Where a candidate ranks: its fused score plus the bonus of the product page."""
    return fused(candidate) + candidate.parts.get("context", 0.0)


def features(
    candidates: Sequence[Candidate],
    calibration: Calibration,
    n_terms: int,
    lang_known: bool,
) -> dict[str, float]:
    """The models' inputs for one ranked question.

    ``top``: the best candidate's fused score in standard deviations above the seller's
    best wrong entries (pseudo-questions); ``top_right``: the same against its right
    entries; ``margin``: the lead over the runner-up, ``gap23``: runner-up over the
    third (both in the first unit; the others counted with the bonus of the product
    page, the best without); ``agree``: the share of signals that rank the best
    candidate first; ``lexical``: its lexical signal in standard deviations (clipped);
    ``is_product``; ``log_tokens``: log(1 + stems in the question); ``lang_known``: the
    FAQ has question variants in the question's language; ``own``: the seller's own
    log-odds for this ``top`` and ``margin``, learnt from its pseudo-questions
    (``faq.matching.calibration.fit_odds``).

    Args:
        candidates: the ranking, best first (at least one).
        calibration: the seller's scales.
        n_terms: stems in the normalised question.
        lang_known: whether the FAQ has variants in the question's language.
    """
    best = candidates[0]
    near = calibration.near
    # The best candidate on its own evidence, the others where they rank: a product
    # page's bonus never makes its product look sure, and a runner-up it lifts counts.
    scores = [fused(best), *(standing(c) for c in candidates[1:3])]
    floor = near.mean - 3.0 * near.sd
    while len(scores) < 3:
        scores.append(min(floor, scores[-1]))
    top = (scores[0] - near.mean) / near.sd
    margin = max(scores[0] - scores[1], 0.0) / near.sd
    low, high = LEXICAL_CLIP
    return {
        "top": top,
        "top_right": (scores[0] - calibration.right.mean) / calibration.right.sd,
        "margin": margin,
        "gap23": max(scores[1] - scores[2], 0.0) / near.sd,
        "agree": best.parts.get("agree", 0.0),
        "lexical": min(max(best.parts.get("lexical", 0.0), low), high),
        "is_product": float(best.is_product),
        "log_tokens": math.log1p(n_terms),
        "lang_known": float(lang_known),
        "own": calibration.own_logit(top, margin),
        "lead_min": best.parts.get("lead_min", 0.0),
        "lead_mean": best.parts.get("lead_mean", 0.0),
    }


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression on standardised features: ``(x - mean) / scale * weight``.

    ``terms`` holds ``(feature, mean, scale, weight)`` rows; a feature of
    :data:`FEATURES` that has no row is not used.
    """

    intercept: float
    terms: tuple[tuple[str, float, float, float], ...]

    def logit(self, values: dict[str, float]) -> float:
        z = self.intercept
        for name, mean, scale, weight in self.terms:
            z += (values[name] - mean) / scale * weight
        return z

    def probability(self, values: dict[str, float]) -> float:
        """P(the event) for one question's features."""
        z = self.logit(values)
        if z < -700:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z)) if z < 700 else 1.0


#: The hybrid matcher's models: ``python -m bench.tune --matcher hybrid --fit-confidence``
#: on the rows of ``bench/fit/confidence-hybrid.csv`` (the dev questions of the eleven
#: evaluation sellers and the parts of those that ask several things; every seller
#: weighs the same). Rows: feature, mean, scale, weight.
HYBRID_ANSWER = ConfidenceModel(
    intercept=0.4062,
    terms=(
        ("top_right", -0.5928, 1.2762, 0.3039),
        ("margin", 0.8202, 0.8467, 1.1599),
        ("agree", 0.6472, 0.3157, 0.287),
        ("lead_mean", 0.4854, 0.8533, -0.0914),
        ("is_product", 0.1973, 0.398, 0.305),
    ),
)
HYBRID_OFFER = ConfidenceModel(
    intercept=0.946,
    terms=(
        ("top_right", -0.5928, 1.2762, 0.8126),
        ("margin", 0.8202, 0.8467, 0.6957),
        ("agree", 0.6472, 0.3157, 0.1428),
        ("lead_mean", 0.4854, 0.8533, -0.1476),
        ("is_product", 0.1973, 0.398, 0.2723),
    ),
)

#: The fuzzy matcher's models (lexical signals only; also what a hybrid matcher uses while
#: its encoders read the FAQ): ``python -m bench.tune --matcher fuzzy --fit-confidence``
#: on ``bench/fit/confidence-fuzzy.csv``.
FUZZY_ANSWER = ConfidenceModel(
    intercept=-0.3257,
    terms=(
        ("top_right", 0.2219, 1.0269, 0.7897),
        ("margin", 0.8183, 1.0124, 1.2109),
        ("agree", 0.9461, 0.2258, -0.7166),
        ("lead_mean", 1.2326, 1.5179, -0.0147),
        ("is_product", 0.2917, 0.4545, -0.2187),
    ),
)
FUZZY_OFFER = ConfidenceModel(
    intercept=0.2842,
    terms=(
        ("top_right", 0.2219, 1.0269, 1.113),
        ("margin", 0.8183, 1.0124, 0.5611),
        ("agree", 0.9461, 0.2258, -0.7202),
        ("lead_mean", 1.2326, 1.5179, 0.128),
        ("is_product", 0.2917, 0.4545, -0.3185),
    ),
)
