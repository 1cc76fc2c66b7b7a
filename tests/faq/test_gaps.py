"""Grouping unanswered questions for the digest."""

from __future__ import annotations

from sellerdesk.faq.gaps import group_questions


def test_similar_questions_group_and_different_ones_do_not() -> None:
    questions = [
        "Где мой заказ?",
        "Когда придет подарочная упаковка",
        "Здравствуйте, где мой заказ",
        "где заказ мой??",
        "Можно ли оплатить криптовалютой?",
        "подарочная упаковка когда придёт?",
        "   ",
    ]
    gaps = group_questions(questions)
    assert [g.count for g in gaps] == [3, 2, 1]
    assert gaps[0].example == "Где мой заказ?"
    assert set(gaps[0].questions) == {
        "Где мой заказ?",
        "Здравствуйте, где мой заказ",
        "где заказ мой??",
    }
    assert gaps[1].example == "Когда придет подарочная упаковка"
    assert gaps[2].questions == ("Можно ли оплатить криптовалютой?",)


def test_nothing_to_group() -> None:
    assert group_questions([]) == []
