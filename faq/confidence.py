"""How sure the hybrid matcher is that its best candidate is the right one.

A small logistic regression over features of the ranked candidates (no new encoding):
the best score, its lead over the runner-up, the parts the best score is made of,
whether the lexical and the semantic parts point at the same candidate, and the
question's length. It gives P(the best candidate is right), where an out-of-scope
question counts as "not right", and the decision compares it with two thresholds
(``DecisionPolicy.tau_answer``, ``tau_suggest``).

The coefficients below are printed by ``python -m bench.tune --fit-confidence``, fitted on
the dev splits only (test splits are never read); paste its output here to refit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from faq.decision import Candidate
from faq.normalize import Normalized

#: Semantic parts of an entry candidate (``Candidate.parts`` keys), one per encoder.
SEMANTIC_PARTS = ("use", "e5")
#: A candidate within this many points of the best counts as close (``n_close``).
CLOSE_POINTS = 10.0

#: Every feature the model uses, in this order (see :func:`features`). Also tried on the
#: dev splits and left out: the question's language (one-hot ru/en/zh/other; objective
#: 1.071 without, 1.044 with, cross-validated) and the lead of the best candidate's
#: lexical and semantic parts over the other candidates' (1.071 either way).
FEATURES = (
    "score",
    "margin",
    "gap23",
    "lexical",
    "semantic",
    "fuzzy",
    "keyword",
    "product",
    "agree",
    "is_product",
    "log_tokens",
    "n_close",
)


def _semantic(candidate: Candidate) -> float:
    return sum(candidate.parts.get(name, 0.0) for name in SEMANTIC_PARTS)


def features(candidates: Sequence[Candidate], norm: Normalized) -> dict[str, float]:
    """The model's inputs for one ranked question (scores in [0, 1] units).

    ``score``: the best candidate's; ``margin``: its lead over the runner-up; ``gap23``:
    runner-up minus third; ``lexical`` ... ``product``: the parts of the best score
    (``Candidate.parts``); ``agree``: the best candidate is also the best of the
    candidates by lexical part alone and by semantic part alone; ``log_tokens``:
    log(1 + stems in the question); ``n_close``: other candidates within
    ``CLOSE_POINTS`` of the best.

    Args:
        candidates: the ranking, best first (at least one).
        norm: the normalised question.
    """
    best = candidates[0]
    scores = [c.score / 100.0 for c in candidates] + [0.0, 0.0]
    entries = [c for c in candidates if not c.is_product]
    lexical = [c.parts.get("lexical", 0.0) for c in entries]
    semantic = [_semantic(c) for c in entries]
    top_lexical = entries[lexical.index(max(lexical))] if entries else None
    top_semantic = entries[semantic.index(max(semantic))] if entries else None
    return {
        "score": scores[0],
        "margin": scores[0] - scores[1],
        "gap23": scores[1] - scores[2],
        "lexical": best.parts.get("lexical", 0.0) / 100.0,
        "semantic": _semantic(best) / 100.0,
        "fuzzy": best.parts.get("fuzzy", 0.0) / 100.0,
        "keyword": best.parts.get("keyword", 0.0) / 100.0,
        "product": best.parts.get("product", 0.0) / 100.0,
        "agree": float(top_lexical is best and top_semantic is best),
        "is_product": float(best.is_product),
        "log_tokens": math.log1p(len(norm.terms)),
        "n_close": float(sum(s >= scores[0] - CLOSE_POINTS / 100.0 for s in scores[1:-2])),
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

    def probability(self, candidates: Sequence[Candidate], norm: Normalized) -> float:
        """P(the best candidate is the right answer); 0 without candidates."""
        if not candidates:
            return 0.0
        z = self.logit(features(candidates, norm))
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


#: The hybrid matcher's model: ``python -m bench.tune --fit-confidence`` on the dev splits
#: (CLINC150, BANKING77-OOS, xSID en/zh/ru, the demo seller; weighted as
#: ``bench.tune.DEV_WEIGHT``), L2 1.0. Rows: feature, mean, scale, weight.
HYBRID_CONFIDENCE = ConfidenceModel(
    intercept=1.8225,
    terms=(
        ("score", 0.5309, 0.2035, 0.3721),
        ("margin", 0.1922, 0.1533, 1.4594),
        ("gap23", 0.0497, 0.0551, 0.3739),
        ("lexical", 0.1132, 0.0651, -0.5025),
        ("semantic", 0.3421, 0.1433, 0.1961),
        ("fuzzy", 0.0565, 0.0161, 0.2440),
        ("keyword", 0.0150, 0.0301, 0.5525),
        ("product", 0.0042, 0.0467, 1.5792),
        ("agree", 0.7347, 0.4415, 0.1724),
        ("is_product", 0.0095, 0.0971, -0.4761),
        ("log_tokens", 2.2014, 0.4214, 0.4202),
        ("n_close", 0.8585, 1.4240, -0.5372),
    ),
)
