"""A seller with more than one staff group (seller.yaml ``support_chats``): cases open
by the buyer's language and by load, stay in their group, and a group the bot cannot
use sends its cases to ``support_chat_id`` with one note to the admin chat."""

from __future__ import annotations

from pathlib import Path

from sellerdesk.faq.content.loader import load_content
from testing.botapi import BotApiDouble
from tests.e2e.conversations.test_case_flows import HANDOFF, shows_handoff
from tests.e2e.harness import (
    ADMIN_CHAT,
    BUYER,
    DEMO,
    STAFF,
    SUPPORT,
    Desk,
    run_desk,
    settings_for,
)
from tests.faq.content.test_support_chats import demo_with, other_shop

#: The Chinese-speaking team's group, and a second group sharing the other languages.
ZH_GROUP = -1001000000002
MORE_GROUP = -1001000000003
ZH_STAFF = 700000103
ZH_BUYER = 5002
SECOND_BUYER = 5003


TWO_TEAMS = f"""support_chats:
  - chat_id: {ZH_GROUP}
    languages: [zh]
  - chat_id: {MORE_GROUP}
"""


def _zh_question() -> str:
    seller = load_content(DEMO).sellers["lotus-wear"]
    entry = seller.entry("delivery-time")
    assert entry is not None
    return entry.questions["zh"][0]


async def _zh_case(desk: Desk) -> None:
    """The Chinese buyer asks, gets the FAQ answer, and asks for a person."""
    await desk.buyer_asks("/start lotus-wear")
    answer = await desk.buyer_asks(_zh_question())
    desk.api.user_presses_button(ZH_BUYER, answer, answer.buttons[1]["callback_data"])
    await desk.buyer_gets()  # the case number


def _admin_texts(api: BotApiDouble) -> list[str]:
    return [m.text or "" for m in api.messages_in(ADMIN_CHAT)]


def _api() -> BotApiDouble:
    api = BotApiDouble()
    api.add_user(BUYER, "Anna", language_code="ru")
    api.add_user(ZH_BUYER, "Li", language_code="zh")
    api.add_user(SECOND_BUYER, "Boris", language_code="ru")
    api.add_group(SUPPORT, "Lotus Wear support", members=[STAFF])
    api.add_group(ZH_GROUP, "Lotus Wear 客服", members=[ZH_STAFF])
    api.add_group(MORE_GROUP, "Lotus Wear support 2", members=[STAFF])
    api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
    return api


def test_cases_open_by_language_and_load_and_stay_in_their_group(tmp_path: Path) -> None:
    content = demo_with(tmp_path, TWO_TEAMS)
    with _api() as api:

        async def scenario(desk: Desk) -> None:
            zh = Desk(api, buyer=ZH_BUYER, support=ZH_GROUP)
            await _zh_case(zh)
            topic = await zh.topic()
            assert topic.name.startswith("#1")
            card = await zh.in_topic(topic.thread_id, lambda m: bool(m.buttons))
            assert card.buttons  # claim / close work in this group too
            # The Chinese team answers in its group; the buyer gets it.
            zh.staff_says("您好，我们马上查看", topic.thread_id, user=ZH_STAFF)
            relayed = await zh.buyer_gets()
            assert relayed.text == "您好，我们马上查看"
            # Russian buyers: the main group first, then the group with fewer open cases.
            await desk.buyer_asks("/start lotus-wear")
            desk.buyer_says(HANDOFF)
            await desk.buyer_gets()
            main = await desk.topic()
            await desk.in_topic(main.thread_id, shows_handoff)
            second = Desk(api, buyer=SECOND_BUYER, support=MORE_GROUP)
            await second.buyer_asks("/start lotus-wear")
            second.buyer_says(HANDOFF)
            await second.buyer_gets()
            other = await second.topic()
            await second.in_topic(other.thread_id, shows_handoff)
            assert len(api.topics(SUPPORT)) == 1
            # Closed, and reopened by the buyer's reply: the case stays in its group.
            zh.staff_says("/close", topic.thread_id, user=ZH_STAFF)
            await zh.wait(lambda: "✅" in (api.topics(ZH_GROUP)[0].name or ""))
            zh.buyer_says("还有一个问题", reply_to=relayed.message_id)
            await zh.in_topic(topic.thread_id, lambda m: "还有一个问题" in (m.text or ""))
            assert api.topics(ZH_GROUP)[1:] == [] and len(api.topics(MORE_GROUP)) == 1

        run_desk(api, settings_for(api, tmp_path), scenario, content_dir=content)


def test_a_group_the_bot_cannot_use_sends_its_cases_to_the_main_group(tmp_path: Path) -> None:
    content = demo_with(tmp_path, f"support_chats:\n  - chat_id: {ZH_GROUP}\n    languages: [zh]\n")
    with _api() as api:
        api.set_bot_rights(ZH_GROUP, status="left")

        async def scenario(desk: Desk) -> None:
            notes = await desk.wait(lambda: [t for t in _admin_texts(api) if str(ZH_GROUP) in t])
            zh = Desk(api, buyer=ZH_BUYER, support=SUPPORT)
            await _zh_case(zh)
            topic = await zh.topic()
            await zh.in_topic(topic.thread_id, lambda m: bool(m.buttons))
            assert api.messages_in(ZH_GROUP) == []
            assert len(notes) == 1

        run_desk(api, settings_for(api, tmp_path), scenario, content_dir=content)
        assert len([t for t in _admin_texts(api) if str(ZH_GROUP) in t]) == 1


def test_another_sellers_group_is_not_used_without_shared(tmp_path: Path) -> None:
    content = demo_with(tmp_path, f"support_chats:\n  - chat_id: {ZH_GROUP}\n    languages: [zh]\n")
    other_shop(content, ZH_GROUP, name="Other Shop")
    with _api() as api:

        async def scenario(desk: Desk) -> None:
            note = await desk.wait(lambda: [t for t in _admin_texts(api) if "shared: true" in t])
            assert str(ZH_GROUP) in note[0] and "Other Shop" in note[0]
            zh = Desk(api, buyer=ZH_BUYER, support=SUPPORT)
            await _zh_case(zh)
            await zh.topic()
            assert api.topics(ZH_GROUP) == []

        run_desk(api, settings_for(api, tmp_path), scenario, content_dir=content)
