"""Tune the matcher's weights and decision thresholds on development splits only.

Run: ``python -m bench.tune`` (``--mode quick`` for a smoke run, ``--mode grid`` for all).

The dev splits are CLINC150 val + oos_val, BANKING77-OOS valid, xSID valid (en, zh, ru)
and the demo seller's ``examples/eval/*.dev.jsonl``; test splits are never read here.
Each weight setting ranks every dev question once; every threshold setting is then
replayed on the stored rankings (``faq.matcher.decide_from``), so a grid of thousands of
policies costs seconds. The printed winner is what ``faq/matcher.py`` uses as defaults.

``--fit-confidence`` ranks the dev questions with ``HYBRID_WEIGHTS`` and fits the hybrid
matcher's confidence model (``faq/confidence.py``) and its thresholds; it prints the new
constants to paste there and into ``HYBRID_POLICY``, with the dev figures before and after.
It also chooses ``detail_min`` (a question asked from a product's card answered with that
card when one line of it matches; see ``faq.matcher.DecisionPolicy``), for the current
policy and for the refitted one.
For the hybrid matcher the two steps go in that order: ``--matcher hybrid`` chooses the
weights (its thresholds ``answer_min`` / ``answer_margin`` only serve to compare weight
settings; the hybrid decision itself uses the confidence model), then
``--fit-confidence`` fits the model on the rankings those weights give.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.datasets import load_all
from faq.confidence import FEATURES, ConfidenceModel, features
from faq.content import load_content
from faq.decision import Candidate
from faq.evaluate import Case, read_cases
from faq.matcher import (
    HYBRID_POLICY,
    HYBRID_WEIGHTS,
    MODES,
    DecisionPolicy,
    Matcher,
    ScoringWeights,
    semantic_query,
)
from faq.model import Seller
from faq.normalize import Normalized
from faq.semantic import ENCODER_NAMES, EmbeddingCache, Encoder, Vectors, load_encoder

ROOT = Path(__file__).resolve().parents[1]

#: Dev sets and how much each counts in the objective. The demo seller is the closest
#: to real buyers, so it counts double.
DEV_WEIGHT = {"clinc150": 1.0, "banking77-oos": 1.0, "xsid-en": 0.5, "xsid-zh": 0.5}
DEV_WEIGHT |= {"xsid-ru": 0.5, "demo": 2.0}
#: The demo seller's questions asked from a product page (cases with an ``offer``), a
#: set of their own: ``demo`` keeps the same questions as before they were added.
DEV_WEIGHT |= {"demo-context": 1.0}

#: Per-language threshold factors tried (see DecisionPolicy.zh_factor).
FACTORS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1)

#: A confident wrong answer is the worst outcome: it costs this many right answers.
WRONG_COST = 3.0
SUGGEST_VALUE = 0.5
HANDOFF_VALUE = 0.5


@dataclass
class Ranked:
    """Every dev question of one set, ranked once, as arrays for fast policy replay."""

    scores: npt.NDArray[np.float64]  # (cases, TOP) candidate scores, 0 where missing
    right: npt.NDArray[np.bool_]  # (cases, TOP) candidate is the expected target
    exact: npt.NDArray[np.bool_]  # best candidate is an exact product hit
    oos: npt.NDArray[np.bool_]  # expect is null
    lang: list[str | None]
    x: npt.NDArray[np.float64]  # (cases, FEATURES) confidence inputs, 0 without candidates
    detail: npt.NDArray[np.float64]  # best candidate's part ``detail`` (0-100), 0 without


TOP = 5
#: Passage embeddings of the dev FAQs, kept between tuning runs (gitignored).
CACHE = EmbeddingCache(ROOT / "bench" / "out" / "cache")


def dev_sets() -> list[tuple[str, Seller, list[Case]]]:
    """Every dev split: the public sets of ``bench.datasets`` and the demo seller's."""
    names = [n for n in DEV_WEIGHT if not n.startswith("demo")]
    sets = [(b.name, b.seller, list(b.dev)) for b in load_all(names)]
    demo_cases = sorted((ROOT / "examples" / "eval").glob("*.dev.jsonl"))
    if demo_cases:
        content = load_content(ROOT / "examples" / "sellers")
        for path in demo_cases:
            cases = read_cases(path)
            seller = content.sellers[cases[0].seller]
            name = "demo-context" if any(c.offer for c in cases) else "demo"
            sets.append((name, seller, cases))
    return sets


class QueryVectors:
    """Every dev question encoded once per encoder, reused across weight settings."""

    def __init__(self, encoders: Sequence[Encoder]) -> None:
        self.encoders = list(encoders)
        self._vectors: dict[tuple[str, str], Vectors] = {}

    def get(self, text: str) -> dict[str, Vectors]:
        out = {}
        for encoder in self.encoders:
            key = (encoder.name, text)
            if key not in self._vectors:
                self._vectors[key] = encoder.encode_queries([semantic_query(text)])[0]
            out[encoder.name] = self._vectors[key]
        return out


def rank_all(
    seller: Seller,
    cases: Sequence[Case],
    weights: ScoringWeights,
    queries: QueryVectors | None = None,
) -> Ranked:
    encoders = queries.encoders if queries else []
    matcher = Matcher(seller, weights=weights, encoders=encoders, cache=CACHE)
    rows = []
    for case in cases:
        vectors = queries.get(case.text) if queries and matcher.mode == "hybrid" else None
        norm, candidates = matcher.rank(case.text, limit=TOP, vectors=vectors, offer_id=case.offer)
        rows.append((case, norm, candidates))
    return ranked_from(rows)


def ranked_from(rows: Sequence[tuple[Case, Normalized, Sequence[Candidate]]]) -> Ranked:
    """Arrays of the rankings of one set: ``(case, norm, candidates)`` per question."""
    scores = np.zeros((len(rows), TOP))
    right = np.zeros((len(rows), TOP), dtype=bool)
    exact = np.zeros(len(rows), dtype=bool)
    x = np.zeros((len(rows), len(FEATURES)))
    detail = np.zeros(len(rows))
    langs: list[str | None] = []
    for i, (case, norm, candidates) in enumerate(rows):
        langs.append(norm.lang)
        for j, cand in enumerate(candidates[:TOP]):
            scores[i, j] = cand.score
            right[i, j] = cand.target == case.expect
        exact[i] = bool(candidates) and "exact" in candidates[0].parts
        if candidates:
            values = features(candidates[:TOP], norm)
            x[i] = [values[name] for name in FEATURES]
            detail[i] = candidates[0].parts.get("detail", 0.0)
    oos = np.array([case.expect is None for case, _, _ in rows], dtype=bool)
    return Ranked(scores, right, exact, oos, langs, x, detail)


def probabilities(model: ConfidenceModel, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``model.probability`` for every row of ``x`` (columns in ``FEATURES`` order)."""
    z = np.full(len(x), model.intercept)
    for name, mean, scale, weight in model.terms:
        z += (x[:, FEATURES.index(name)] - mean) / scale * weight
    p: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))
    return p


def figures(
    r: Ranked, policy: DecisionPolicy, p: npt.NDArray[np.float64] | None = None
) -> dict[str, float]:
    """The dev figures under ``policy``: the same rules as ``faq.matcher.decide_from``.

    ``p`` is the confidence model's probability per question, if already computed (then
    the confidence rules apply, with or without ``policy.confidence``).
    """
    factor = np.array([policy.factor(lang) for lang in r.lang])
    answer_min, suggest_min = policy.answer_min * factor, policy.suggest_min * factor
    s0, s1 = r.scores[:, 0], r.scores[:, 1]
    has = s0 > 0
    if p is None and policy.confidence is not None:
        p = probabilities(policy.confidence, r.x)
    exact = r.exact
    if policy.detail_min is not None:
        exact = exact | ((r.detail > 0) & (r.detail >= policy.detail_min))
    if p is not None:
        answer = has & (exact | (p >= policy.tau_answer))
        suggest = has & ~answer & ((p >= policy.tau_suggest) | (s0 >= suggest_min))
    else:
        answer = has & (exact | ((s0 >= answer_min) & (s0 - s1 >= policy.answer_margin)))
        suggest = has & ~answer & (s0 >= suggest_min)
    handoff = ~answer & ~suggest
    top3 = r.scores[:, :3]
    offered = (top3 >= suggest_min[:, None]) | (np.arange(3) == 0)[None, :]
    offered &= ((s0[:, None] - top3) <= policy.suggest_window) & (top3 > 0)
    inside = ~r.oos
    n_in, n_out = int(inside.sum()), int(r.oos.sum())
    right_answer = answer & r.right[:, 0] & inside
    right_suggest = suggest & (offered & r.right[:, :3]).any(axis=1) & inside
    wrong = answer & ~(r.right[:, 0] & inside)
    return {
        "top1": float((r.right[:, 0] & inside).sum()) / max(n_in, 1),
        "answer": float(right_answer.sum()) / max(n_in, 1),
        "suggest": float((right_answer | right_suggest).sum()) / max(n_in, 1),
        "wrong": float(wrong.sum()) / max(len(s0), 1),
        "handoff": float((handoff & r.oos).sum()) / n_out if n_out else 1.0,
    }


def objective(per_set: dict[str, dict[str, float]]) -> float:
    """Weighted mean over the dev sets of what each outcome is worth to a buyer.

    An answer at once is worth 1; the right entry among the buttons 0.5 (a tap more,
    and many buyers will not read a list); an out-of-scope question handed to staff
    0.5 (suggesting three unrelated questions first costs the buyer a tap, not a wrong
    answer); a wrong answer costs ``WRONG_COST``. With these values the bot answers
    at once only where it is right about 87% of the time or more.
    """
    score = weight = 0.0
    for name, f in per_set.items():
        w = DEV_WEIGHT.get(name, 1.0)
        value = f["answer"] + SUGGEST_VALUE * (f["suggest"] - f["answer"])
        value += HANDOFF_VALUE * f["handoff"] - WRONG_COST * f["wrong"]
        score += w * value
        weight += w
    return score / weight


def policy_grid(quick: bool) -> list[DecisionPolicy]:
    answer_min = range(34, 66, 4 if quick else 2)
    margin = (0.0, 2.0, 4.0, 6.0, 8.0, 12.0)
    suggest_min = range(16, 44, 4 if quick else 2)
    window = (8.0, 12.0, 16.0, 24.0)
    return [
        DecisionPolicy(float(a), m, float(s), w)
        for a, m, s, w in itertools.product(answer_min, margin, suggest_min, window)
        if s <= a
    ]


def _with(weights: ScoringWeights, changes: dict[str, Any]) -> ScoringWeights:
    return replace(weights, **changes)


def weight_grid(mode: str, matcher: str) -> list[ScoringWeights]:
    """Weight settings to try: the defaults alone, one change at a time, or a full grid."""
    base = HYBRID_WEIGHTS if matcher == "hybrid" else ScoringWeights()
    if mode == "quick":
        return [base]
    options: dict[str, tuple[float, ...]] = {
        "char": (0.4, 0.6, 0.9),
        "pair": (0.0, 0.3),
        "centroid": (0.25, 0.4, 0.55),
        "fuzzy": (0.1, 0.2, 0.3),
        "keyword": (0.05, 0.1),
    }
    if matcher == "hybrid":
        options = {
            "use": (0.3, 0.4, 0.5, 0.6, 0.7),
            "use_floor": (0.1, 0.2, 0.3),
            "use_ceiling": (0.7, 0.8, 0.9),
            "e5": (0.0, 0.15, 0.3),
            "e5_floor": (0.7, 0.75, 0.8),
            "semantic_centroid": (0.1, 0.3, 0.5),
            "fuzzy": (0.05, 0.1, 0.2),
            "keyword": (0.04, 0.08),
        }
    if mode == "grid":
        return [
            _with(base, dict(zip(options, values, strict=True)))
            for values in itertools.product(*options.values())
        ]
    grid = [base]
    for name, values in options.items():
        grid += [_with(base, {name: v}) for v in values if v != getattr(base, name)]
    return grid


#: Features of the fitted confidence model (a subset of ``faq.confidence.FEATURES``,
#: chosen by the cross-validated objective on the dev splits).
CONFIDENCE_FEATURES: tuple[str, ...] = FEATURES
#: L2 penalty of the logistic regression (on standardised features, weights summing to n).
CONFIDENCE_L2 = 1.0
#: Folds of the cross-fitted probabilities the thresholds are chosen on.
FOLDS = 5
#: The demo seller's dev wrong-answer rate may not exceed this under the fitted policy.
DEMO_MAX_WRONG = 0.02


def fit_logistic(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.bool_],
    w: npt.NDArray[np.float64],
    names: Sequence[str],
    l2: float = CONFIDENCE_L2,
) -> ConfidenceModel:
    """Weighted L2 logistic regression by Newton's method, on standardised columns."""
    mean = np.average(x, axis=0, weights=w)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    scale[scale < 1e-9] = 1.0
    x1 = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = w * len(w) / w.sum()
    penalty = np.full(x1.shape[1], l2)
    penalty[0] = 0.0
    beta = np.zeros(x1.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(x1 @ beta, -700, 700)))
        grad = x1.T @ (w * (p - y)) + penalty * beta
        hess = (x1 * (w * p * (1 - p))[:, None]).T @ x1 + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    terms = tuple(
        (name, float(m), float(sd), float(b))
        for name, m, sd, b in zip(names, mean, scale, beta[1:], strict=True)
    )
    return ConfidenceModel(float(beta[0]), terms)


def _training_rows(
    ranked: dict[str, Ranked], names: Sequence[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.float64], list[Any]]:
    """Inputs, targets and weights over every dev set: exact hits and empty rankings left
    out (the decision does not ask the model about them). Each set weighs ``DEV_WEIGHT``.
    """
    columns = [FEATURES.index(n) for n in names]
    xs, ys, ws, where = [], [], [], []
    for set_name, r in ranked.items():
        keep = np.flatnonzero((r.scores[:, 0] > 0) & ~r.exact)
        xs.append(r.x[keep][:, columns])
        ys.append(r.right[keep, 0] & ~r.oos[keep])
        ws.append(np.full(len(keep), DEV_WEIGHT.get(set_name, 1.0) / max(len(r.oos), 1)))
        where += [(set_name, int(i)) for i in keep]
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ws), where


def cross_fitted(
    ranked: dict[str, Ranked], names: Sequence[str], l2: float = CONFIDENCE_L2
) -> dict[str, npt.NDArray[np.float64]]:
    """Out-of-fold probabilities per set (each question scored by a model not fitted on it)."""
    x, y, w, where = _training_rows(ranked, names)
    fold = np.random.default_rng(7).integers(0, FOLDS, len(y))
    p_all = np.zeros(len(y))
    for k in range(FOLDS):
        model = fit_logistic(x[fold != k], y[fold != k], w[fold != k], names, l2)
        p_all[fold == k] = probabilities(model, _expand(x[fold == k], names))
    out = {name: np.zeros(len(r.oos)) for name, r in ranked.items()}
    for (set_name, i), value in zip(where, p_all, strict=True):
        out[set_name][i] = value
    return out


def _expand(x: npt.NDArray[np.float64], names: Sequence[str]) -> npt.NDArray[np.float64]:
    """Columns ``names`` placed in a full ``FEATURES`` matrix (for ``probabilities``)."""
    full = np.zeros((len(x), len(FEATURES)))
    full[:, [FEATURES.index(n) for n in names]] = x
    return full


def choose_taus(
    ranked: dict[str, Ranked],
    p: dict[str, npt.NDArray[np.float64]],
    base: DecisionPolicy,
) -> tuple[float, DecisionPolicy, dict[str, dict[str, float]]]:
    """The best thresholds of the confidence policy by the objective, on given probabilities.

    Coordinate search: ``tau_answer`` and ``tau_suggest`` with ``suggest_min`` over a grid,
    then the suggestion window. The demo seller may not exceed ``DEMO_MAX_WRONG``.
    """
    best: tuple[float, DecisionPolicy, dict[str, dict[str, float]]] | None = None
    tau_answer = [round(0.5 + 0.01 * i, 2) for i in range(50)]
    tau_suggest = [round(0.05 * i, 2) for i in range(1, 17)]
    suggest_min = [float(v) for v in range(30, 70, 2)] + [101.0]
    grids: list[list[DecisionPolicy]] = [
        [
            replace(base, tau_answer=a, tau_suggest=t, suggest_min=m)
            for a, t, m in itertools.product(tau_answer, tau_suggest, suggest_min)
            if t <= a
        ],
        [],
    ]
    for stage in range(2):
        if stage == 1:
            assert best is not None
            grids[1] = [replace(best[1], suggest_window=v) for v in (8.0, 12.0, 16.0, 24.0, 32.0)]
        for policy in grids[stage]:
            per_set = {name: figures(r, policy, p[name]) for name, r in ranked.items()}
            if per_set.get("demo", {}).get("wrong", 0.0) > DEMO_MAX_WRONG:
                continue
            value = objective(per_set)
            if best is None or value > best[0]:
                best = (value, policy, per_set)
    assert best is not None
    return best


#: ``detail_min`` values tried (the part ``detail``, 0-100); None turns the rule off.
DETAIL_MINS: tuple[float | None, ...] = (None, *(float(v) for v in range(5, 100, 5)))


def choose_detail_min(
    ranked: dict[str, Ranked], base: DecisionPolicy
) -> tuple[float, DecisionPolicy, dict[str, dict[str, float]]]:
    """The best ``detail_min`` under ``base`` (its model and thresholds kept) by the
    objective. No dev set may get more wrong answers than without the rule; of equal
    objectives the highest value (the fewest answers on that ground) wins."""
    best: tuple[float, DecisionPolicy, dict[str, dict[str, float]]] | None = None
    off = {name: figures(r, replace(base, detail_min=None)) for name, r in ranked.items()}
    for value in DETAIL_MINS:
        policy = replace(base, detail_min=value)
        per_set = {name: figures(r, policy) for name, r in ranked.items()}
        if any(f["wrong"] > off[n]["wrong"] + 1e-12 for n, f in per_set.items()):
            continue
        score = objective(per_set)
        if best is None or score >= best[0] - 1e-12:
            best = (score, policy, per_set)
    assert best is not None
    return best


def fit_confidence(
    ranked: dict[str, Ranked], names: Sequence[str] = CONFIDENCE_FEATURES
) -> tuple[float, DecisionPolicy, dict[str, dict[str, float]]]:
    """Fit the model on every dev question; thresholds chosen on cross-fitted probabilities.

    Returns the objective and figures of the fitted model and thresholds on the dev sets.
    """
    _, chosen, _ = choose_taus(ranked, cross_fitted(ranked, names), HYBRID_POLICY)
    x, y, w, _ = _training_rows(ranked, names)
    policy = replace(chosen, confidence=fit_logistic(x, y, w, names))
    per_set = {name: figures(r, policy) for name, r in ranked.items()}
    return objective(per_set), policy, per_set


def print_figures(per_set: dict[str, dict[str, float]]) -> None:
    print("| dev set | top1 | answer | suggest | wrong | handoff |\n|---|---|---|---|---|---|")
    for name, f in per_set.items():
        print(
            f"| {name} | {f['top1']:.3f} | {f['answer']:.3f} | {f['suggest']:.3f} "
            f"| {f['wrong']:.3f} | {f['handoff']:.3f} |"
        )


def fit_confidence_main(sets: Sequence[tuple[str, Seller, list[Case]]]) -> int:
    """``--fit-confidence``: rank the dev sets with the hybrid weights, fit, print."""
    encoders = [
        e
        for name in ENCODER_NAMES
        if HYBRID_WEIGHTS.semantic_share(name) > 0 and (e := load_encoder(name)) is not None
    ]
    if not encoders:
        print("the sentence encoders are not installed: nothing to fit")
        return 1
    queries = QueryVectors(encoders)
    ranked = {
        name: rank_all(seller, cases, HYBRID_WEIGHTS, queries) for name, seller, cases in sets
    }
    per_before = {name: figures(r, HYBRID_POLICY) for name, r in ranked.items()}
    print(f"current HYBRID_POLICY: objective {objective(per_before):.4f}")
    print_figures(per_before)
    off = replace(HYBRID_POLICY, detail_min=None)
    per_off = {name: figures(r, off) for name, r in ranked.items()}
    print(f"\ncurrent HYBRID_POLICY without detail_min: objective {objective(per_off):.4f}")
    print_figures(per_off)
    value, chosen, per_detail = choose_detail_min(ranked, HYBRID_POLICY)
    print(f"\nbest detail_min {chosen.detail_min} for it: objective {value:.4f}")
    print_figures(per_detail)
    value, policy, per_set = fit_confidence(ranked)
    print(f"\nrefitted confidence model: objective {value:.4f}")
    print_figures(per_set)
    model = policy.confidence
    assert model is not None
    print("\n# faq/confidence.py")
    print(
        f"HYBRID_CONFIDENCE = ConfidenceModel(\n    intercept={model.intercept:.4f},\n    terms=("
    )
    for name, mean, scale, weight in model.terms:
        print(f'        ("{name}", {mean:.4f}, {scale:.4f}, {weight:.4f}),')
    print("    ),\n)")
    _, policy, _ = choose_detail_min(ranked, policy)
    print(f"\nwith its best detail_min ({policy.detail_min}):")
    print_figures({name: figures(r, policy) for name, r in ranked.items()})
    print("\n# faq/matcher.py, HYBRID_POLICY")
    for key in ("tau_answer", "tau_suggest", "suggest_min", "suggest_window", "detail_min"):
        print(f"    {key}={getattr(policy, key)},")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mode",
        choices=("quick", "coordinate", "grid"),
        default="coordinate",
        help="weights: defaults only, one change at a time (default), or every combination",
    )
    parser.add_argument("--matcher", choices=MODES, default="fuzzy", help="which matcher to tune")
    parser.add_argument("--json", help="write every setting's figures to this file")
    parser.add_argument(
        "--fit-confidence",
        action="store_true",
        help="fit the hybrid confidence model and its thresholds (prints the new constants)",
    )
    args = parser.parse_args(argv)
    sets = dev_sets()
    if args.fit_confidence:
        return fit_confidence_main(sets)
    queries = None
    if args.matcher == "hybrid":
        encoders = [e for name in ENCODER_NAMES if (e := load_encoder(name)) is not None]
        queries = QueryVectors(encoders)
    policies = policy_grid(args.mode == "quick")
    best: tuple[float, ScoringWeights, DecisionPolicy, dict[str, dict[str, float]]] | None = None
    rows = []
    for weights in weight_grid(args.mode, args.matcher):
        ranked = {name: rank_all(seller, cases, weights, queries) for name, seller, cases in sets}
        top1 = {name: round(figures(r, DecisionPolicy())["top1"], 4) for name, r in ranked.items()}
        local_best = None
        # Coordinate search: the shared thresholds, then the per-language factors,
        # then the shared thresholds again under the chosen factors.
        factors = [(z, r) for z in FACTORS for r in FACTORS]
        stages: list[list[DecisionPolicy]] = [policies, [], []]
        for stage in range(3):
            if stage == 1:
                assert local_best is not None
                base = local_best[2]
                stages[1] = [replace(base, zh_factor=z, ru_factor=r) for z, r in factors]
            if stage == 2:
                assert local_best is not None
                chosen = local_best[2]
                stages[2] = [
                    replace(p, zh_factor=chosen.zh_factor, ru_factor=chosen.ru_factor)
                    for p in policies
                ]
            for policy in stages[stage]:
                per_set = {name: figures(r, policy) for name, r in ranked.items()}
                value = objective(per_set)
                if local_best is None or value > local_best[0]:
                    local_best = (value, weights, policy, per_set)
        assert local_best is not None
        rows.append({"weights": asdict(weights), "top1": top1, "objective": local_best[0]})
        print(f"{local_best[0]:.4f} {weights} top1={top1}", flush=True)
        if best is None or local_best[0] > best[0]:
            best = local_best
    assert best is not None
    value, weights, policy, per_set = best
    print("\nbest objective", round(value, 4))
    print(weights)
    print(policy)
    print_figures(per_set)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
