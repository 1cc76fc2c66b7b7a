"""The FAQ matcher: for one seller and one question, a decision with scored candidates.

How a question is scored (the parts live in their own modules):

* **Exact hits first.** A model code or offer id in the question (``PB-20K``) names one
  product: it short-circuits every other score (``faq.matching.products``).
* **Signals.** Each FAQ entry is scored by several signals, each with its own view of
  the question: lexical similarity (shared stems, letter trigrams, word pairs, a fuzzy
  re-ranking and keywords: ``faq.matching.lexical``) and, in hybrid mode, two sentence encoders
  (``faq.matching.semantic``): the multilingual Universal Sentence Encoder and multilingual-e5
  against the entry's question variants (the best one and their centroid), and e5
  against the entry's answer ("query:" buyer, "passage:" answer). Products are scored
  by their words and by both encoders against their name (USE also against a passage).
* **One scale per seller.** Every signal is read in standard deviations above the
  seller's own wrong entries, measured by asking the FAQ's own variants as
  pseudo-questions (``faq.matching.calibration``); an entry's fused score is the mean of its
  signals. A dense FAQ and a sparse one, a cosine of USE and one of e5, land on one scale.
* **The decision** (``faq.matching.confidence``): two small models read the best fused score
  against the seller's references, the lead over the runner-up and how many signals
  agree, and give P(the best is right) and P(the right one is among the buttons). The
  bot answers when the first is high, offers buttons with "talk to a person" when the
  second is, and hands the question to staff otherwise. A message that asks two things
  gets the part it can answer answered (``faq.matching.parts``).
* **Russian typed in Latin letters** is read in Cyrillic first (``faq.matching.translit``).
* **The product the buyer came from** (a deep link to its card) ranks with a bonus, and
  in hybrid mode its lines are compared with the question one by one: a line that
  matches adds to its score, and one that matches clearly answers with the card.

Every weight and threshold is chosen with ``python -m bench.tune`` on the dev questions
of other sellers than the one scored (leave-one-seller-out; see ``bench/tune.py``).

In hybrid mode a matcher built in the background (the bot at start) answers at once from
the lexical signals, with their own calibration and models, and switches to every signal
once the encoders have read the FAQ and the catalog.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from sellerdesk.faq.content.model import Seller
from sellerdesk.faq.matching.calibration import Calibration
from sellerdesk.faq.matching.decision import PRODUCT_PREFIX, Action, Candidate, Decision
from sellerdesk.faq.matching.normalize import ORDER_NUMBER, Normalized, normalize
from sellerdesk.faq.matching.parts import question_parts
from sellerdesk.faq.matching.policy import (
    FUZZY_POLICY,
    FUZZY_WEIGHTS,
    HYBRID_POLICY,
    HYBRID_WEIGHTS,
    MODES,
    DecisionPolicy,
    Ranking,
    ScoringWeights,
    decide_from,
    rank_key,
    without_missing,
)
from sellerdesk.faq.matching.scoring import (
    EXACT_FUSED,
    ScoringState,
    rank_entries,
    rank_products,
)
from sellerdesk.faq.matching.seller_index import SellerIndex
from sellerdesk.faq.matching.semantic import (
    EmbeddingCache,
    Encoder,
    SemanticIndex,
    Vectors,
    installed,
    load_encoder,
)
from sellerdesk.faq.matching.translit import looks_russian

log = logging.getLogger(__name__)

#: Longest question considered, in characters. Buyers paste whole letters; the first
#: part holds the question, and scoring cost grows with length.
MAX_QUESTION_CHARS = 1000
#: Messages longer than this are not tried part by part: two questions in one message
#: are short ("когда придет и можно ли картой?"), and a long story's sentences would
#: cost an encoding each.
MAX_SPLIT_CHARS = 300
#: The encoders that read the parts of a message (``Matcher.decide``): USE alone, a few
#: milliseconds a part; e5 would add about 15 ms a part to a question that already took
#: 30. Leave one seller out on the dev questions: objective 0.527 with both, 0.525 USE.
PART_ENCODERS = ("use",)


def semantic_query(text: str) -> str:
    """The question as an encoder reads it: order numbers out, length bounded."""
    return ORDER_NUMBER.sub(" ", text[:MAX_QUESTION_CHARS]).strip()


#: One thread builds the encoders' indexes of every seller in turn (a cold catalog
#: takes minutes; several at once would only share the same cores).
_BUILDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faq-vectors")


class Matcher:
    """Decides questions for one seller. Build once per content version; thread-safe reads.

    Args:
        seller: the seller's entries and products.
        weights: which signals take part (default: those of the mode).
        policy: the decision's models and thresholds (default: those of the mode).
        encoders: the sentence encoders of the hybrid mode (none: fuzzy).
        cache: where vectors are kept between runs.
        background: build the encoders' part in a background thread and answer from
            the lexical signals until it is ready (the bot at start); else build it now.
    """

    def __init__(
        self,
        seller: Seller,
        weights: ScoringWeights | None = None,
        policy: DecisionPolicy | None = None,
        encoders: Sequence[Encoder] = (),
        cache: EmbeddingCache | None = None,
        background: bool = False,
    ) -> None:
        self.seller = seller
        full = weights or (HYBRID_WEIGHTS if encoders else FUZZY_WEIGHTS)
        wanted = set(full.encoders())
        self._encoders = [e for e in encoders if e.name in wanted]
        self._policy = policy
        self._cache = cache or EmbeddingCache(None)
        self.index = SellerIndex(seller, full.lexical, self._cache)
        #: Languages the FAQ's question variants are written in (detected).
        self.variant_languages = self.index.variant_languages
        self.catalog = self.index.catalog
        self._full_weights = full
        self.ready = threading.Event()
        self._future: Future[None] | None = None
        if not self._encoders:
            self._state = self._build_state(full.lexical_only(), ())
            self.ready.set()
        elif background:
            # Lexical until the encoders have read the FAQ and the catalog.
            self._state = self._build_state(full.lexical_only(), ())
            self._future = _BUILDER.submit(self._build_semantic)
        else:
            self._build_semantic()
            if not hasattr(self, "_state"):  # the encoders failed (logged)
                self._state = self._build_state(full.lexical_only(), ())

    def _build_semantic(self) -> None:
        try:
            semantic = tuple(
                (e.name, self.index.semantic_index(e, self._full_weights)) for e in self._encoders
            )
            self._state = self._build_state(self._full_weights, semantic)
            log.info("matcher of seller %s: sentence encoders ready", self.seller.id)
        except Exception:
            log.exception("matcher of seller %s: encoders failed, lexical only", self.seller.id)
        finally:
            self.ready.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the encoders' part is built (or failed); whether it finished."""
        return self.ready.wait(timeout)

    def _build_state(
        self, weights: ScoringWeights, semantic: tuple[tuple[str, SemanticIndex], ...]
    ) -> ScoringState:
        mode = "hybrid" if semantic else "fuzzy"
        policy = self._policy if mode == self.target_mode else None
        if policy is None:
            policy = HYBRID_POLICY if semantic else FUZZY_POLICY
        return ScoringState(weights, policy, semantic, self.index.calibration(weights, semantic))

    @property
    def target_mode(self) -> str:
        """The mode this matcher ends in: ``hybrid`` with encoders, else ``fuzzy``."""
        return "hybrid" if self._encoders else "fuzzy"

    @property
    def mode(self) -> str:
        """The mode it scores with now (``fuzzy`` while the encoders' part is built)."""
        return self._state.mode

    @property
    def policy(self) -> DecisionPolicy:
        return self._state.policy

    @property
    def weights(self) -> ScoringWeights:
        return self._state.weights

    @property
    def calibration(self) -> Calibration:
        return self._state.calibration

    def query_vectors(self, text: str) -> dict[str, Vectors]:
        """The question encoded by every encoder in use (for replaying ``rank``)."""
        query = semantic_query(self.reading(text)[0])
        return {name: index.query(query) for name, index in self._state.semantic}

    def reading(self, text: str) -> tuple[str, Normalized]:
        """The text to score and its normalised form: Latin-typed Russian in Cyrillic."""
        text = text[:MAX_QUESTION_CHARS]
        norm = normalize(text)
        if norm.lang == "en":
            russian = looks_russian(text, self.index.vocabulary)
            if russian is not None:
                return russian, normalize(russian)
        return text, norm

    def rank(
        self,
        text: str,
        limit: int = 5,
        vectors: Mapping[str, Vectors] | None = None,
        offer_id: str | None = None,
    ) -> tuple[Normalized, list[Candidate]]:
        """Score the question against every entry and product; the best ``limit`` first.

        Args:
            text: the buyer's question.
            limit: how many candidates to return.
            vectors: the question's vectors if already computed (tuning); they must be
                of :meth:`reading`'s text.
            offer_id: the product the buyer came from (a deep link to its card), if any.
                That product is always scored and ranks with ``context_bonus`` (the part
                ``context``). An offer id the seller does not have is ignored, and a
                product code in the question takes precedence.
        """
        ranking = self.ranking(text, limit, vectors, offer_id)
        return ranking.norm, ranking.candidates

    def ranking(
        self,
        text: str,
        limit: int = 5,
        vectors: Mapping[str, Vectors] | None = None,
        offer_id: str | None = None,
    ) -> Ranking:
        """:meth:`rank` with what the decision needs beside the candidates."""
        state = self._state
        text, norm = self.reading(text)
        lang_known = norm.lang in self.variant_languages
        if norm.empty:
            return Ranking(norm, [], state.calibration, lang_known, text)
        semantic: dict[str, Vectors] = {}
        if state.semantic:
            if vectors is not None:
                # Given vectors: those encoders only (the parts of a message are read by
                # the cheaper ones; see ``PART_ENCODERS``).
                known = dict(state.semantic)
                semantic = {name: v for name, v in vectors.items() if name in known}
            else:
                query = semantic_query(text)
                semantic = {name: index.query(query) for name, index in state.semantic}
        hit = self.catalog.code_hit(norm.codes)
        candidates: list[Candidate] = []
        if hit is not None:
            product = self.catalog.products[hit]
            candidates.append(
                Candidate(
                    PRODUCT_PREFIX + product.offer_id,
                    100.0,
                    matched=product.name,
                    parts={"exact": 100.0, "fused": EXACT_FUSED},
                )
            )
        if self.index.entry_ids:
            candidates += rank_entries(self.index, state, norm, limit, semantic)
        if len(self.catalog):
            context = self.catalog.offers.get(offer_id) if offer_id and hit is None else None
            candidates += rank_products(self.index, state, norm, limit, hit, semantic, context)
        candidates.sort(key=rank_key, reverse=True)
        kept = candidates[:limit]
        page = [c for c in candidates[limit:] if "context" in c.parts]
        if page and kept:
            # The product the buyer came from is always among the candidates.
            kept[-1] = page[0]
        return Ranking(norm, kept, state.calibration, lang_known, text)

    def prepare_offer(self, offer_id: str) -> None:
        """Encode the lines of a product's card now (hybrid with ``product_details``),
        so the first question asked from it does not wait for them: call it when a buyer
        opens the card's deep link. An unknown offer id is ignored."""
        index = self.catalog.offers.get(offer_id)
        state = self._state
        if index is None or not state.weights.product_details:
            return
        for _, semantic_index in state.semantic:
            semantic_index.detail_vectors(index)

    def decide(
        self, text: str, lang: str | None = None, *, offer_id: str | None = None
    ) -> Decision:
        """The decision for one question: answer, suggest (up to three) or hand off.

        A message that asks several things is also read part by part. Offered buttons
        as a whole, it gets the part that is answered answered; answered as a whole, it
        keeps the answer. Either way the parts the answer does not cover are in
        ``Decision.rest``, for a person. ``offer_id``: the product the buyer came from.
        """
        state = self._state
        ranking = self.ranking(text, offer_id=offer_id)
        decision = decide_from(ranking, state.policy)
        # What looks out of scope goes to a person whole (they read every part anyway).
        if decision.action is Action.HANDOFF or len(ranking.text) > MAX_SPLIT_CHARS:
            return decision
        parts = question_parts(ranking.text)
        if len(parts) < 2:
            return decision
        vectors = self._encode_parts(state, parts)
        answered: list[tuple[int, Decision]] = []
        for i, part in enumerate(parts):
            part_decision = decide_from(
                self.ranking(part, vectors=vectors[i], offer_id=offer_id), state.policy
            )
            if part_decision.action is Action.ANSWER and part_decision.best is not None:
                answered.append((i, part_decision))
        if decision.action is Action.ANSWER and decision.best is not None:
            target = decision.best.target
            covered = [i for i, d in answered if d.best is not None and d.best.target == target]
            if not covered or len(covered) == len(parts):
                return decision
            return replace(
                decision,
                part=" ".join(parts[i] for i in covered),
                rest=" ".join(p for j, p in enumerate(parts) if j not in covered),
            )
        if not answered:
            return decision
        i, chosen = max(answered, key=lambda item: item[1].confidence)
        return replace(
            chosen,
            reason=f"{chosen.reason}; part {i + 1} of {len(parts)}",
            part=parts[i],
            rest=" ".join(p for j, p in enumerate(parts) if j != i),
        )

    @staticmethod
    def _encode_parts(state: ScoringState, parts: Sequence[str]) -> list[dict[str, Vectors]]:
        """Each part's vectors, by the encoders of ``PART_ENCODERS``, each reading all the
        parts in one batch."""
        out: list[dict[str, Vectors]] = [{} for _ in parts]
        queries = [semantic_query(p) for p in parts]
        for name, index in state.semantic:
            if name not in PART_ENCODERS:
                continue
            vectors = index.encoder.encode_queries(queries)
            for i, vector in enumerate(vectors):
                out[i][name] = vector
        return out

    def with_policy(self, policy: DecisionPolicy) -> Matcher:
        """The same index under another policy (for tuning without rebuilding)."""
        clone = object.__new__(Matcher)
        clone.__dict__.update(self.__dict__)
        clone._policy = policy
        clone._state = replace(self._state, policy=policy)
        return clone


def default_mode() -> str:
    """``hybrid`` where the sentence encoder is installed, else ``fuzzy``."""
    return "hybrid" if installed("use") else "fuzzy"


def make_matcher(
    seller: Seller,
    mode: str | None = None,
    cache_dir: Path | None = None,
    weights: ScoringWeights | None = None,
    policy: DecisionPolicy | None = None,
    background: bool = False,
) -> Matcher:
    """The matcher the bot and the CLI use for ``seller``.

    Args:
        seller: whose FAQ and catalog to index.
        mode: ``fuzzy`` or ``hybrid``; None picks :func:`default_mode`. Hybrid without
            the encoders installed falls back to fuzzy with a logged notice.
        cache_dir: where vectors are kept between runs (None: memory only).
        weights, policy: override the defaults of the mode.
        background: build the encoders' part in the background (see :class:`Matcher`).
    """
    mode = mode or default_mode()
    if mode not in MODES:
        raise ValueError(f"unknown matcher {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "hybrid":
        hybrid_weights = weights or HYBRID_WEIGHTS
        encoders = [
            encoder
            for name in hybrid_weights.encoders()
            if (encoder := load_encoder(name)) is not None
        ]
        if encoders:
            if len(encoders) < len(hybrid_weights.encoders()):
                hybrid_weights = without_missing(hybrid_weights, {e.name for e in encoders})
            return Matcher(
                seller,
                hybrid_weights,
                policy,
                encoders=encoders,
                cache=EmbeddingCache(cache_dir),
                background=background,
            )
        log.warning("hybrid matcher unavailable (no sentence encoder installed): using fuzzy")
    return Matcher(seller, weights or FUZZY_WEIGHTS, policy)
