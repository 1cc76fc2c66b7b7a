"""Pure parts of the case desk: topic names, order numbers, the card's escaping."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.cases import TOPIC_NAME_CHARS, card_text, order_numbers, topic_name
from sellerdesk.faq.content.loader import load_content
from sellerdesk.storage.models import Case

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"


def _case(subject: str | None) -> Case:
    return Case(
        id=7,
        number=12,
        seller_id="lotus-wear",
        subject=subject,
        lang="ru",
        order_numbers=["12345678-0001"],
        opened_at=datetime(2025, 3, 1, tzinfo=UTC),
    )


def test_topic_name_has_number_alias_and_a_short_subject() -> None:
    assert topic_name(_case("Где   мой\nзаказ?"), "A7F3") == "#12 · Buyer #A7F3 · Где мой заказ?"
    assert topic_name(_case(None), "A7F3", closed=True) == "✅ #12 · Buyer #A7F3"
    long = topic_name(_case("слово " * 100), "A7F3")
    assert len(long) <= TOPIC_NAME_CHARS and long.endswith("…")


def test_order_numbers_in_ozon_formats() -> None:
    found = order_numbers("заказы 12345678-0001 и 12345678-0001-1, не 123-45 и 12345678-0001")
    assert found == ["12345678-0001", "12345678-0001-1"]


def test_card_escapes_what_buyers_wrote() -> None:
    content = load_content(DEMO)
    seller = content.sellers["lotus-wear"]
    card = card_text(_case("<script>&amp;</script>"), seller, "A7F3", FaqAnswers(content))
    assert "&lt;script&gt;&amp;amp;&lt;/script&gt;" in card
    assert "<script>" not in card
    assert "12345678-0001" in card and "Buyer #A7F3" in card
