"""A matcher built in the background answers from its first second, lexical only, and
takes the sentence encoders in once they have read the FAQ."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from sellerdesk.faq.matching.decision import Action
from sellerdesk.faq.matching.matcher import Matcher
from sellerdesk.faq.matching.policy import ScoringWeights
from sellerdesk.faq.matching.semantic import EmbeddingCache, Vectors
from tests.faq.matching.test_calibration import _seller
from tests.faq.matching.test_semantic import CountingEncoder


class HeldEncoder(CountingEncoder):
    """Encodes passages only once ``release`` is set (a cold catalog taking minutes)."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.release = threading.Event()
        self.fail = fail

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        assert self.release.wait(10)
        if self.fail:
            raise RuntimeError("model file damaged")
        return super().encode_passages(texts)


def _weights() -> ScoringWeights:
    # USE alone (the stand-in encoder is called "use").
    return ScoringWeights(
        signals=(("lexical", 1.0), ("use", 1.0), ("use_centroid", 1.0)),
        product_signals=(("lexical", 1.0), ("use", 1.0)),
    )


def test_answers_lexically_while_the_encoders_read_then_switches() -> None:
    encoder = HeldEncoder()
    matcher = Matcher(
        _seller(), _weights(), encoders=[encoder], cache=EmbeddingCache(None), background=True
    )
    try:
        assert matcher.mode == "fuzzy" and matcher.target_mode == "hybrid"
        assert not matcher.ready.is_set()
        decision = matcher.decide("вопрос про доставка")
        assert decision.best is not None and decision.best.target == "e0"
        assert "use" not in decision.best.parts
    finally:
        encoder.release.set()
    assert matcher.wait_ready(10)
    assert matcher.mode == "hybrid"
    decision = matcher.decide("вопрос про доставка")
    assert decision.best is not None and "use" in decision.best.parts


def test_a_failing_encoder_leaves_the_lexical_matcher_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    encoder = HeldEncoder(fail=True)
    encoder.release.set()
    with caplog.at_level(logging.ERROR, logger="sellerdesk.faq.matching.matcher"):
        matcher = Matcher(
            _seller(), _weights(), encoders=[encoder], cache=EmbeddingCache(None), background=True
        )
        assert matcher.wait_ready(10)
    assert matcher.mode == "fuzzy"
    assert "encoders failed" in caplog.text
    assert matcher.decide("вопрос про доставка").action in set(Action)


def test_building_in_the_foreground_is_hybrid_at_once() -> None:
    matcher = Matcher(
        _seller(), _weights(), encoders=[CountingEncoder()], cache=EmbeddingCache(None)
    )
    assert matcher.ready.is_set() and matcher.mode == "hybrid"
    assert np.isfinite(matcher.calibration.near.mean)
