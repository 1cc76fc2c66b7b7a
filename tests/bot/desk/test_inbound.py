"""What the desk reads of a Telegram message (``handlers.common.incoming``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Chat, Message, MessageEntity, Update, User

from sellerdesk.bot.desk.cases import carries_message
from sellerdesk.handlers.common import incoming

BUYER = User(5001, "Anna", is_bot=False, language_code="ru")


def _update(text: str, entities: list[MessageEntity]) -> Update:
    chat = Chat(5001, Chat.PRIVATE)
    message = Message(
        7, datetime(2026, 12, 6, tzinfo=UTC), chat, from_user=BUYER, text=text, entities=entities
    )
    return Update(1, message=message)


@pytest.mark.parametrize(
    ("kind", "formatted"),
    [
        (MessageEntity.BOLD, True),
        (MessageEntity.TEXT_LINK, True),
        (MessageEntity.SPOILER, True),
        (MessageEntity.URL, False),  # Telegram links it again in any text
        (MessageEntity.PHONE_NUMBER, False),
    ],
)
def test_formatting_only_a_copy_keeps_is_noticed(kind: str, formatted: bool) -> None:
    url = "https://example.com" if kind == MessageEntity.TEXT_LINK else None
    entity = MessageEntity(kind, 0, 3, url=url)
    msg = incoming(_update("Где заказ https://example.com", [entity]))
    assert msg is not None and msg.formatted is formatted
    # A formatted question is copied to staff; a plain one the card can carry.
    assert carries_message(msg.body, msg.formatted) is not formatted


def test_the_card_carries_only_what_it_shows_whole() -> None:
    assert carries_message("Где мой заказ?", False)
    assert not carries_message("   ", False)
    assert not carries_message("x" * 256, False)  # longer than a case's subject
