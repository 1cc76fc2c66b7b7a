"""A message that asks two things is cut where the second question starts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sellerdesk.faq.matching.parts import MAX_PARTS, question_parts


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        (
            "когда придет заказ и можно ли через сбп оплатить?",
            ["когда придет заказ", "можно ли через сбп оплатить?"],
        ),
        (
            "how long is shipping? also do you ship to kazakhstan",
            ["how long is shipping?", "do you ship to kazakhstan"],
        ),
        ("多久能到货？还有可以退货吗", ["多久能到货？", "可以退货吗"]),
        ("Сколько идет доставка? Можно вернуть, если не подойдет?", None),
    ],
)
def test_two_questions_are_two_parts(message: str, parts: list[str] | None) -> None:
    found = question_parts(message)
    assert len(found) == 2
    if parts is not None:
        assert found == parts


@pytest.mark.parametrize(
    "message",
    [
        "где мой заказ??",
        "Здравствуйте! Сколько идет доставка?",
        "вещь полиняла после стирки, что делать",
        "快递到哪了",
        "а длина какая?",
        "чай и кофе есть?",
    ],
)
def test_one_question_stays_whole(message: str) -> None:
    assert len(question_parts(message)) == 1


def test_a_greeting_joins_the_question() -> None:
    assert question_parts("Добрый день! Подскажите, пожалуйста, как вернуть товар?") == [
        "Добрый день! Подскажите, пожалуйста, как вернуть товар?"
    ]


def test_at_most_a_few_parts() -> None:
    message = " ".join(f"Вопрос номер {i} про доставку?" for i in range(10))
    parts = question_parts(message)
    assert len(parts) == MAX_PARTS
    assert "".join(parts).replace(" ", "") == message.replace(" ", "")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_parts_that_keep_its_words(text: str) -> None:
    parts = question_parts(text)
    assert 1 <= len(parts) <= MAX_PARTS
    for part in parts:
        assert part.strip() or not text.strip()
