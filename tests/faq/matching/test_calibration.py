"""Each seller's own yardstick: scales, fusion and references from its own FAQ."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sellerdesk.faq.content.model import Entry, Seller
from sellerdesk.faq.matching import calibration as cal
from sellerdesk.faq.matching.calibration import Calibration, Scale
from sellerdesk.faq.matching.lexical import EntryLexicon, LexicalWeights
from sellerdesk.faq.matching.matcher import Matcher
from sellerdesk.faq.matching.normalize import normalize
from sellerdesk.faq.matching.policy import FUZZY_WEIGHTS
from sellerdesk.faq.matching.seller_index import SellerIndex
from sellerdesk.faq.matching.semantic import EmbeddingCache, SemanticIndex
from tests.faq.matching.test_semantic import CountingEncoder


def test_the_wrong_scale_leaves_each_rows_own_entry_out() -> None:
    raw = np.array([[10.0, 1.0, 3.0], [2.0, 20.0, 4.0]])
    scale = cal.wrong_scale(raw, np.array([0, 1]))
    assert scale is not None
    assert scale.mean == pytest.approx(np.mean([1.0, 3.0, 2.0, 4.0]))
    assert scale.sd == pytest.approx(np.std([1.0, 3.0, 2.0, 4.0]))


def test_a_flat_signal_gets_a_floor_under_its_spread() -> None:
    scale = Scale.of(np.full(10, 0.5))
    assert scale is not None and scale.sd == cal.MIN_SD


def test_fusion_is_the_weighted_mean_of_the_signals_that_have_a_value() -> None:
    z = {
        "a": np.array([[1.0, np.nan, np.nan]]),
        "b": np.array([[3.0, 2.0, np.nan]]),
    }
    fused = cal.fuse(z, {"a": 1.0, "b": 3.0})
    assert fused[0, 0] == pytest.approx((1.0 + 9.0) / 4.0)
    assert fused[0, 1] == pytest.approx(2.0)
    assert np.isnan(fused[0, 2])


def test_fusion_needs_a_signal() -> None:
    with pytest.raises(ValueError):
        cal.fuse({"a": np.zeros((1, 2))}, {"a": 0.0})


def test_references_are_the_right_entry_and_the_best_wrong_one() -> None:
    fused = np.array([[5.0, 1.0, 2.0], [0.5, 4.0, 3.0], [9.0, 0.0, 1.0]])
    labels = np.array([0, 1, 0])
    known = np.array([True, True, False])  # the third row's entry lacks its language
    right, near = cal.references(fused, labels, known)
    assert right.mean == pytest.approx(4.5)  # rows 1 and 2 only
    assert near.mean == pytest.approx((2.0 + 3.0 + 1.0) / 3)


def test_the_sellers_own_odds_rise_with_the_lead() -> None:
    rng = np.random.default_rng(0)
    rows, entries = 60, 6
    fused = rng.normal(0.0, 1.0, size=(rows, entries))
    labels = rng.integers(0, entries, size=rows)
    fused[np.arange(rows), labels] += 3.0  # right entries stand out
    near = Scale(1.0, 0.5)
    odds = cal.fit_odds(fused, labels, np.ones(rows, dtype=bool), near)
    assert odds is not None
    calibration = Calibration(near=near, odds=odds)
    assert calibration.own_logit(4.0, 3.0) > calibration.own_logit(1.0, 0.2)


def test_too_few_pseudo_questions_fit_no_odds() -> None:
    fused = np.zeros((3, 4))
    assert cal.fit_odds(fused, np.array([0, 1, 2]), np.ones(3, dtype=bool), Scale(0, 1)) is None


def test_display_puts_the_references_at_about_12_and_88() -> None:
    calibration = Calibration(right=Scale(3.0, 1.0), near=Scale(1.0, 1.0))
    assert calibration.display(1.0) == pytest.approx(11.9, abs=0.1)
    assert calibration.display(3.0) == pytest.approx(88.1, abs=0.1)
    assert calibration.display(2.0) == pytest.approx(50.0)


def _seller(n_entries: int = 6) -> Seller:
    topics = ["доставка", "возврат", "оплата", "размер", "гарантия", "упаковка"]
    entries = tuple(
        Entry(
            f"e{i}",
            {"ru": (f"вопрос про {topics[i]}", f"как узнать про {topics[i]}", f"{topics[i]}?")},
            {"ru": f"Ответ про {topics[i]}."},
        )
        for i in range(n_entries)
    )
    return Seller(id="s", name="S", support_chat_id=-1, languages=("ru",), entries=entries)


def test_a_pseudo_question_does_not_match_its_own_variant() -> None:
    norms = [normalize("сколько идет доставка"), normalize("когда придет"), normalize("возврат")]
    lexicon = EntryLexicon(
        norms, np.array([0, 0, 1]), 2, [[], []], LexicalWeights(fuzzy=0.0, keyword=0.0)
    )
    asked = normalize("сколько идет доставка")
    with_own = lexicon.scores(asked).tfidf[0]
    without = lexicon.scores(asked, exclude=0).tfidf[0]
    assert with_own > 0.9
    assert without < 0.3


def test_left_out_variants_match_the_reduced_faq_exactly_in_the_encoders() -> None:
    encoder = CountingEncoder()
    texts = ["a", "b", "c", "d", "e"]
    entry_of = np.array([0, 0, 1, 1, 1])
    index = SemanticIndex(encoder, EmbeddingCache(None), texts, entry_of, 2)
    queries = index.variants[[1, 3]]
    best, centroid = index.entry_scores(queries, exclude=np.array([1, 3]))
    for row, left_out in enumerate((1, 3)):
        keep = [i for i in range(5) if i != left_out]
        reduced = SemanticIndex(
            encoder, EmbeddingCache(None), [texts[i] for i in keep], entry_of[keep], 2
        )
        want_best, want_centroid = reduced.entry_scores(queries[row])
        assert best[row] == pytest.approx(want_best[0], abs=1e-5)
        assert centroid[row] == pytest.approx(want_centroid[0], abs=1e-5)


def test_the_calibration_is_the_same_at_every_build() -> None:
    seller = _seller()
    first = Matcher(seller, FUZZY_WEIGHTS).calibration
    again = Matcher(seller, FUZZY_WEIGHTS).calibration
    assert first == again
    assert first.questions == 18
    assert first.near.sd > 0 and "lexical" in first.entry


def test_a_tiny_faq_falls_back_to_the_defaults() -> None:
    calibration = Matcher(_seller(1), FUZZY_WEIGHTS).calibration
    assert calibration.questions == 0
    assert calibration.right == cal.DEFAULT_RIGHT and calibration.near == cal.DEFAULT_NEAR


def test_a_restart_reads_the_calibration_instead_of_computing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = _seller()
    first = Matcher(seller, FUZZY_WEIGHTS, cache=EmbeddingCache(tmp_path)).calibration
    assert len(list(tmp_path.glob("calibration-*.json"))) == 1

    def fail(*_: object) -> Calibration:
        raise AssertionError("calibrated again")

    monkeypatch.setattr(SellerIndex, "_calibrate", fail)
    again = Matcher(seller, FUZZY_WEIGHTS, cache=EmbeddingCache(tmp_path)).calibration
    assert again == first


def test_changed_content_is_calibrated_anew(tmp_path: Path) -> None:
    seller = _seller()
    Matcher(seller, FUZZY_WEIGHTS, cache=EmbeddingCache(tmp_path))
    changed = replace(seller, entries=seller.entries[:-1])
    Matcher(changed, FUZZY_WEIGHTS, cache=EmbeddingCache(tmp_path))
    assert len(list(tmp_path.glob("calibration-*.json"))) == 2


@pytest.mark.parametrize("damage", ["", "{", '{"format": 1}', '{"format": 99, "entry": {}}', "[]"])
def test_a_damaged_calibration_file_is_computed_again(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    seller = _seller()
    first = Matcher(seller, FUZZY_WEIGHTS, cache=EmbeddingCache(tmp_path)).calibration
    (path,) = tmp_path.glob("calibration-*.json")
    path.write_text(damage, encoding="utf-8")
    again = Matcher(seller, FUZZY_WEIGHTS, cache=EmbeddingCache(tmp_path)).calibration
    assert again == first
    assert "ignoring unreadable calibration" in caplog.text


def test_calibrations_unused_for_a_month_are_deleted(tmp_path: Path) -> None:
    stale = tmp_path / "calibration-0000.json"
    stale.write_text("{}", encoding="utf-8")
    old = time.time() - (cal.KEEP_DAYS + 1) * 86400
    os.utime(stale, (old, old))
    Matcher(_seller(), FUZZY_WEIGHTS, cache=EmbeddingCache(tmp_path))
    assert not stale.exists()
    assert len(list(tmp_path.glob("calibration-*.json"))) == 1
