"""The matcher's decisions on a small seller, as a table of what buyers write."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sellerdesk.faq.content.loader import load_seller
from sellerdesk.faq.content.model import Entry, Seller
from sellerdesk.faq.matching.decision import Action
from sellerdesk.faq.matching.matcher import Matcher
from sellerdesk.faq.matching.normalize import normalize
from tests.faq.conftest import PRODUCTS_CSV, WriteSeller


@pytest.fixture
def matcher(write_seller: WriteSeller) -> Matcher:
    return Matcher(load_seller(write_seller(products=PRODUCTS_CSV)))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("скока идет доставка", "delivery-time"),
        ("когда придёт мой заказ?", "delivery-time"),
        (
            "Здравствуйте, подскажите пожалуйста, сколько идёт доставка заказа 12345678-0001",
            "delivery-time",
        ),
        ("доствка скоко идет", "delivery-time"),  # typos
        ("how long is delivery", "delivery-time"),
        ("多久到货", "delivery-time"),
        ("заказ на таможне", "customs"),  # the rare word decides, not "заказ"
        ("do i pay customs", "customs"),
        ("вернуть товар как", "return"),
        ("размерная сетка", "size-chart"),
        ("какой ёмкости павербанк PB-20", "product:PB-20K"),
        ("LW-SNK-220 есть белые?", "product:LW-SNK-220"),
    ],
)
def test_best_candidate(matcher: Matcher, question: str, expected: str) -> None:
    decision = matcher.decide(question)
    assert decision.best is not None
    assert decision.best.target == expected, decision


@pytest.mark.parametrize(
    "question",
    ["", "   ", "😀😀😀", "12345678-0001", "Здравствуйте!", "!!!???", "<b>hi</b>"],
)
def test_nothing_to_match_is_handed_off(matcher: Matcher, question: str) -> None:
    decision = matcher.decide(question)
    assert decision.action is Action.HANDOFF


def test_unrelated_question_is_not_answered(matcher: Matcher) -> None:
    decision = matcher.decide("можно оплатить криптой биткоин?")
    assert decision.action is not Action.ANSWER


def test_exact_code_answers(matcher: Matcher) -> None:
    decision = matcher.decide("pb-20k")
    assert decision.action is Action.ANSWER
    assert decision.best is not None and decision.best.parts["exact"] == 100.0
    assert decision.reason == "exact product code"


def test_clear_question_is_answered(matcher: Matcher) -> None:
    decision = matcher.decide("Сколько идет доставка")
    assert decision.action is Action.ANSWER
    assert decision.best is not None and decision.best.target == "delivery-time"
    assert decision.lang == "ru"


def test_long_message_gets_a_decision(matcher: Matcher) -> None:
    decision = matcher.decide("сколько идет доставка " + "бла " * 2500)
    assert decision.action in tuple(Action)


def test_the_policy_decides_between_answer_suggest_and_handoff(matcher: Matcher) -> None:
    question = "скока идет доставка"
    p = matcher.decide(question).confidence
    strict = matcher.with_policy(replace(matcher.policy, tau_answer=p + 0.01, tau_offer=0.0))
    assert strict.decide(question).action is Action.SUGGEST
    assert strict.decide(question).suggestions[0].target == "delivery-time"
    handoff = matcher.with_policy(replace(matcher.policy, tau_answer=1.1, tau_offer=1.1))
    assert handoff.decide(question).action is Action.HANDOFF
    lenient = matcher.with_policy(replace(matcher.policy, tau_answer=max(p - 0.01, 0.0)))
    assert lenient.decide(question).action is Action.ANSWER


def test_keywords_add_to_the_lexical_score(write_seller: WriteSeller) -> None:
    seller = load_seller(write_seller())
    entries = tuple(
        e if e.id != "delivery-time" else Entry(**{**e.__dict__, "keywords": ()})
        for e in seller.entries
    )
    without = Matcher(Seller(**{**seller.__dict__, "entries": entries}))
    with_kw = Matcher(seller)
    index = [e.id for e in seller.entries].index("delivery-time")
    norm = normalize("доставка")
    assert with_kw.index.lexicon.scores(norm).keyword[index] > 0
    assert without.index.lexicon.scores(norm).keyword[index] == 0


def test_seller_without_entries(write_seller: WriteSeller) -> None:
    seller = Seller(id="empty", name="Empty", support_chat_id=-1, languages=("ru",))
    assert Matcher(seller).decide("сколько идет доставка").action is Action.HANDOFF


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_sane_decision(text: str) -> None:
    decision = _SHARED.decide(text)
    scores = [c.score for c in decision.candidates]
    assert all(0.0 <= s <= 100.0 for s in scores)
    assert len(decision.suggestions) <= 3
    if decision.action is Action.ANSWER:
        assert decision.best is not None
    if decision.action is Action.SUGGEST:
        assert decision.suggestions


def _shared_matcher() -> Matcher:
    from sellerdesk.faq.content.model import Product

    entries = (
        Entry(
            "delivery-time",
            {"ru": ("Сколько идет доставка?",), "zh": ("多久能到货？",)},
            {"ru": "10 дней"},
        ),
        Entry(
            "customs", {"ru": ("Платить ли пошлину?",), "en": ("Do I pay duty?",)}, {"ru": "Нет"}
        ),
    )
    products = (Product("PB-20K", "Павербанк", "20000 мАч"),)
    return Matcher(
        Seller(
            id="s",
            name="S",
            support_chat_id=-1,
            languages=("ru",),
            entries=entries,
            products=products,
        )
    )


_SHARED = _shared_matcher()


ODD_MESSAGES = [
    "",
    "😀😀😀🔥",
    ("Здравствуйте, пишу по поводу заказа, который пришёл вчера. " * 70)[:4000],
    "мой order 订单 где? where is 我的 заказ??",
    "12345678-0001",
    "https://www.ozon.ru/product/platye-midi-1234567890/?sh=abc",
    "skolko idet dostavka? i mozhno vernut?",
    "\x00\u200b\ufeff",
]


@pytest.mark.parametrize("mode", ["fuzzy", "hybrid"])
def test_odd_messages_get_a_decision(mode: str) -> None:
    from pathlib import Path

    from sellerdesk.faq.content.loader import load_content
    from sellerdesk.faq.matching.matcher import make_matcher
    from sellerdesk.faq.matching.semantic import installed

    if mode == "hybrid" and not installed("use"):
        pytest.skip("sentence encoder not installed")
    demo = Path(__file__).resolve().parents[3] / "examples" / "sellers"
    matcher = make_matcher(load_content(demo).sellers["lotus-wear"], mode)
    for message in ODD_MESSAGES:
        for offer in (None, "LW-DRS-014"):
            decision = matcher.decide(message, offer_id=offer)
            assert decision.action in set(Action)
            if decision.action is Action.SUGGEST:
                assert 1 <= len(decision.suggestions) <= 3
            if not message.strip("\x00\u200b\ufeff 😀🔥"):
                assert decision.action is Action.HANDOFF
