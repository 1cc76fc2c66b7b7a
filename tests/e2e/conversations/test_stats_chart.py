"""``/stats`` through the Bot API double: staff of the seller get the chart as a photo in
their chat, admins in the admin chat; anyone else gets no chart."""

from __future__ import annotations

import struct
from pathlib import Path

from sellerdesk.storage.db import make_engine, session_factory
from sellerdesk.storage.repo import outbox
from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage
from tests.e2e.conversations.test_authorization import OTHER_STAFF, OTHER_SUPPORT, two_sellers
from tests.e2e.conversations.test_case_flows import open_case
from tests.e2e.harness import ADMIN_CHAT, BUYER, STAFF, SUPPORT, Desk, run_desk, settings_for

ADMIN = 42
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def photos(api: BotApiDouble, chat_id: int) -> list[StoredMessage]:
    return [m for m in api.messages_in(chat_id) if m.from_bot and m.kind == "photo"]


def assert_chart(api: BotApiDouble, photo: StoredMessage) -> None:
    """The photo is the uploaded PNG chart (the double keeps the bytes it was sent)."""
    assert photo.file_id is not None
    data = api.file(photo.file_id).data
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24])[0] == 1000
    assert len(data) > 20_000


def on_record(database_url: str, chat_id: int) -> set[int]:
    """Message ids the bot has on record in ``chat_id`` (what the repeat check skips)."""
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return outbox.known_message_ids(session, chat_id, 0, 2**31)
    finally:
        engine.dispose()


def test_staff_and_admins_get_the_chart_others_do_not(api: BotApiDouble, tmp_path: Path) -> None:
    content = two_sellers(tmp_path)
    api.add_group(OTHER_SUPPORT, "Other support", is_forum=True, members=[OTHER_STAFF])
    api.add_group(ADMIN_CHAT, "Admins", is_forum=False, members=[ADMIN, STAFF])
    settings = settings_for(api, tmp_path, content_dir=content, admin_user_ids=frozenset({ADMIN}))

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)

        # Staff of lotus-wear, in the case's topic: the chart comes back there, uploaded.
        asked = api.member_sends_command(SUPPORT, STAFF, "stats", thread_id=topic.thread_id)
        (photo,) = await desk.wait(lambda: photos(api, SUPPORT))
        assert photo.thread_id == topic.thread_id and photo.reply_to == asked.message_id
        assert_chart(api, photo)
        caption = photo.caption or ""
        assert "Lotus Wear" in caption and "последние 30 дн." in caption
        assert "открыто 1" in caption  # the case just opened
        (upload,) = api.calls_to("sendPhoto")
        assert upload["chat_id"] == SUPPORT
        # On record, so the outbox's check for repeats after a crash knows the chart.
        await desk.wait(lambda: photo.message_id in on_record(settings.database_url, SUPPORT))

        # The other shop's staff member, writing in lotus-wear's chat: no chart.
        api.member_sends_command(SUPPORT, OTHER_STAFF, "stats")
        refusal = await desk.in_topic(None, lambda m: "только сотрудникам" in (m.text or ""))
        assert refusal.from_bot
        # In their own chat they get their own shop's chart, never lotus-wear's.
        api.member_sends_command(OTHER_SUPPORT, OTHER_STAFF, "stats", "7")
        (own,) = await desk.wait(lambda: photos(api, OTHER_SUPPORT))
        assert "Other Shop" in (own.caption or "") and "7 дн." in (own.caption or "")
        api.member_sends_command(OTHER_SUPPORT, OTHER_STAFF, "stats", "lotus-wear")
        await desk.wait(
            lambda: [m for m in api.messages_in(OTHER_SUPPORT) if "Для какого" in (m.text or "")]
        )

        # A buyer's /stats is no staff command: the usual greeting, no photo.
        desk.buyer_says("/stats")
        reply = await desk.buyer_gets()
        assert reply.kind == "text" and photos(api, BUYER) == []

        # The admin chat: ADMIN_USER_IDS only, naming a shop when there are several.
        api.member_sends_command(ADMIN_CHAT, STAFF, "stats", "lotus-wear")
        await desk.wait(
            lambda: [m for m in api.messages_in(ADMIN_CHAT) if "администраторов" in (m.text or "")]
        )
        api.member_sends_command(ADMIN_CHAT, ADMIN, "stats")
        await desk.wait(
            lambda: [m for m in api.messages_in(ADMIN_CHAT) if "other-shop" in (m.text or "")]
        )
        api.member_sends_command(ADMIN_CHAT, ADMIN, "stats", "lotus-wear 14")
        (admin_photo,) = await desk.wait(lambda: photos(api, ADMIN_CHAT))
        assert_chart(api, admin_photo)
        assert "Lotus Wear" in (admin_photo.caption or "")
        assert "14 дн." in (admin_photo.caption or "")
        assert len(photos(api, SUPPORT)) == 1 and len(api.calls_to("sendPhoto")) == 3

    run_desk(api, settings, scenario, content_dir=content)
