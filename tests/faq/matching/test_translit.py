"""Russian typed in Latin letters is read in Cyrillic; English stays English."""

from __future__ import annotations

import pytest

from sellerdesk.faq.matching.translit import looks_russian, to_cyrillic

SHOP_WORDS = frozenset({"доставк", "заказ", "товар", "верн", "оплат"})


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("skolko idet dostavka", "сколко идет доставка"),
        ("gde moy zakaz", "где мой заказ"),
        ("mozhno oplatit kartoy", "можно оплатит картой"),
        ("shchetka", "щетка"),
        ("yesli ne podoydet", "если не подойдет"),
    ],
)
def test_latin_letters_are_spelled_in_cyrillic(latin: str, cyrillic: str) -> None:
    assert to_cyrillic(latin) == cyrillic


@pytest.mark.parametrize(
    "question",
    ["skolko idet dostavka", "kak vernut tovar", "gde moy zakaz??", "mozhno oplatit kartoy?"],
)
def test_latin_typed_russian_is_recognised(question: str) -> None:
    reading = looks_russian(question, SHOP_WORDS)
    assert reading is not None
    assert reading == to_cyrillic(question)


@pytest.mark.parametrize(
    "question",
    [
        "where can I track my parcel, it says in transit for ages",
        "how long is delivery",
        "the bike light doesnt turn on at all",
        "PB-20K",
        "ok",
    ],
)
def test_english_is_left_alone(question: str) -> None:
    assert looks_russian(question, SHOP_WORDS) is None


def test_english_words_the_seller_uses_keep_english() -> None:
    # A word the shop's English FAQ has counts for the English reading.
    assert looks_russian("tovar return", frozenset({"return"})) is None


@pytest.mark.parametrize("question", ["где мой заказ", "快递到哪了", ""])
def test_other_scripts_are_not_transliterated(question: str) -> None:
    assert looks_russian(question, SHOP_WORDS) is None
