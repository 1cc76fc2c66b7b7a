"""Who may do what: staff of one seller only on that seller's cases, admins only
with ADMIN_USER_IDS, no forged button, no buyer identity to staff, no token in logs."""

from __future__ import annotations

import logging
import re
import shutil
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from sellerdesk.storage.models import Case, CaseStatus
from testing.botapi import BotApiDouble
from tests.e2e.conversations.test_case_flows import open_case
from tests.e2e.harness import (
    ADMIN_CHAT,
    BUYER,
    DEMO,
    STAFF,
    SUPPORT,
    Desk,
    open_db,
    run_desk,
    settings_for,
)

OTHER_SUPPORT = -1001000000077
OTHER_STAFF = 700000777


def answered(api: BotApiDouble, query_id: str) -> bool:
    return api.callback_query(query_id).answered


def two_sellers(tmp_path: Path) -> Path:
    """The demo content plus a second shop with its own support chat and staff."""
    content = tmp_path / "content"
    shutil.copytree(DEMO, content)
    other = content / "other-shop"
    shutil.copytree(content / "lotus-wear", other)
    seller_yaml = other / "seller.yaml"
    text = seller_yaml.read_text(encoding="utf-8")
    text = text.replace("name: Lotus Wear", "name: Other Shop")
    text = text.replace(f"support_chat_id: {SUPPORT}", f"support_chat_id: {OTHER_SUPPORT}")
    text = re.sub(r"staff: \[[^\]]*\]", f"staff: [{OTHER_STAFF}]", text)
    seller_yaml.write_text(text, encoding="utf-8")
    return content


def test_staff_of_one_seller_cannot_touch_another_sellers_case(
    api: BotApiDouble, tmp_path: Path
) -> None:
    content = two_sellers(tmp_path)
    api.add_group(OTHER_SUPPORT, "Other support", is_forum=True, members=[OTHER_STAFF])
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        card = await desk.in_topic(topic.thread_id, lambda m: "Обращение №1" in (m.text or ""))
        # The other shop's staff, in their own chat, with buttons forged for case 1.
        # Their commands in their own chat name no case of lotus-wear.
        api.member_sends_command(OTHER_SUPPORT, OTHER_STAFF, "close")
        api.member_sends_command(OTHER_SUPPORT, OTHER_STAFF, "note", "sneaky")
        hints = await desk.wait(
            lambda: [m for m in api.messages_in(OTHER_SUPPORT) if m.from_bot][1:]
        )
        for data in (
            "close:1",
            "claim:1",
            "tpl:1",
            "tsend:1:thanks",
            "fsend:1:size-chart",  # a one-tap FAQ answer
            "teach:1:+",  # teaching the FAQ from another shop's case
            "teach:1:size-chart",
        ):
            press = api.member_presses_button(
                OTHER_SUPPORT, OTHER_STAFF, hints[0], data, forged=True
            )
            await desk.wait(partial(answered, api, press.id))
            answer = api.callback_query(press.id).answer or {}
            assert "устарела" in str(answer.get("text")), answer
        # Nor may they act in lotus-wear's chat, on the genuine card.
        api.set_member_status(SUPPORT, OTHER_STAFF, "member")
        press = api.member_presses_button(
            SUPPORT, OTHER_STAFF, card, card.buttons[1]["callback_data"]
        )
        await desk.wait(lambda: api.callback_query(press.id).answered)
        answer = api.callback_query(press.id).answer or {}
        assert "только сотрудники" in str(answer.get("text")), answer
        # The lotus-wear staff pressing the genuine card still works afterwards.
        press = api.member_presses_button(SUPPORT, STAFF, card, card.buttons[0]["callback_data"])
        await desk.wait(lambda: api.callback_query(press.id).answered)
        await desk.in_topic(topic.thread_id, lambda m: "взял" in (m.text or ""))
        assert not api.topics(SUPPORT)[0].closed
        assert all("sneaky" not in (m.content or "") for m in api.messages_in(SUPPORT))
        assert all("sneaky" not in (m.content or "") for m in desk.buyer_messages())

    run_desk(api, settings, scenario, content_dir=content)
    with open_db(settings) as session:
        case = session.scalars(select(Case)).one()
        assert case.status is CaseStatus.OPEN and case.claimed_by == STAFF


def test_forged_buyer_buttons_for_another_buyers_case(api: BotApiDouble, tmp_path: Path) -> None:
    intruder = 5009
    api.add_user(intruder, "Mallory")
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        await open_case(desk)
        other = Desk(api, buyer=intruder)
        hello = await other.buyer_asks("/start lotus-wear")
        for data in ("complain:1", "rate:1:1"):
            api.user_presses_button(intruder, hello, data, forged=True)
            stale = await other.buyer_gets()
            assert stale.text == "Эта кнопка устарела. Задайте вопрос ещё раз."
        assert api.messages_in(ADMIN_CHAT) == []

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        case = session.scalars(select(Case)).one()
        assert case.rating is None and case.escalated_at is None


def test_only_admin_user_ids_use_admin_commands(api: BotApiDouble, tmp_path: Path) -> None:
    api.add_group(ADMIN_CHAT, "Admins", is_forum=False, members=[STAFF, 42])
    settings = settings_for(api, tmp_path, admin_user_ids=frozenset({42}))

    async def scenario(desk: Desk) -> None:
        await open_case(desk)
        for command in ("takeover", "resolve", "handback"):
            api.member_sends_command(ADMIN_CHAT, STAFF, command, "lotus-wear 1")
        refused = await desk.wait(
            lambda: [m for m in api.messages_in(ADMIN_CHAT) if m.from_bot][2:]
        )
        assert refused
        assert all("только для администраторов" in (m.text or "") for m in refused)

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        case = session.scalars(select(Case)).one()
        assert case.admin_id is None and case.status is CaseStatus.OPEN


def test_buyer_identity_never_reaches_staff_and_token_never_logs(
    api: BotApiDouble, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = settings_for(api, tmp_path)
    # Faults make the sender log its retries and refusals too.
    api.fail("copyMessage", 429, retry_after=1, times=1)
    api.fail("sendMessage", 502, times=1)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        desk.api.user_sends_photo(BUYER, caption="брак")
        await desk.in_topic(topic.thread_id, lambda m: m.kind == "photo")
        desk.staff_says("Пришлите номер заказа", topic.thread_id)
        await desk.buyer_gets()
        await desk.buyer_asks("/complain")
        await desk.wait(lambda: api.messages_in(ADMIN_CHAT))
        desk.staff_says("/note проверить", topic.thread_id)
        await desk.in_topic(topic.thread_id, lambda m: "Заметка" in (m.text or ""))

    run_desk(api, settings, scenario)
    identity = ["Anna", "anna_secret", str(BUYER)]
    to_staff = [*api.messages_in(SUPPORT), *api.messages_in(ADMIN_CHAT)]
    assert to_staff
    for message in to_staff:
        if message.copied_from is not None:
            continue  # the buyer's own content, which copyMessage sends without a sender
        shown = " ".join(
            str(part)
            for part in (message.text, message.caption, message.sent_text, message.reply_markup)
        )
        assert not any(word in shown for word in identity), shown
    for topic in api.topics(SUPPORT):
        assert not any(word in topic.name for word in identity)
    for message in to_staff:
        assert message.forward_origin is None  # a forward would name the buyer
    assert api.token not in caplog.text
    assert api.token.split(":", 1)[1] not in caplog.text
