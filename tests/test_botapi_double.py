"""The Bot API double, driven by python-telegram-bot's real ``telegram.Bot`` over HTTP.

These tests prove two things the end-to-end tests rely on: PTB parses every result the
double returns (so the double's objects are shaped like Telegram's), and the double
reproduces the Telegram behaviour the bot must cope with (missing topics, blocked users,
flood control, broken connections, long polling, duplicate updates).

Longer than ~500 lines on purpose: one test per behaviour of Telegram the double
reproduces.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import http.client
import json
import struct
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from telegram import (
    Bot,
    BotCommand,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ForumTopic,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    MessageEntity,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from testing.botapi import BotApiDouble, StoredMessage, UploadedFile

T = TypeVar("T")

USER = 1001
OTHER_USER = 1002
STAFF = 2001
GROUP = -1002000000001


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid PNG of the given size, so the double can read its dimensions."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def make_bot(api: BotApiDouble, token: str | None = None) -> Bot:
    """A real PTB bot pointed at the double, with short timeouts."""
    return Bot(
        token or api.token,
        base_url=api.base_url,
        base_file_url=api.base_file_url,
        request=HTTPXRequest(connect_timeout=2, read_timeout=5),
        get_updates_request=HTTPXRequest(connect_timeout=2, read_timeout=5),
    )


def run(api: BotApiDouble, scenario: Callable[[Bot], Awaitable[T]]) -> T:
    """Run an async scenario with an initialized bot; bounded so no test can hang."""

    async def main() -> T:
        async with make_bot(api) as bot:
            return await scenario(bot)

    return asyncio.run(asyncio.wait_for(main(), timeout=15))


def raw_call(
    api: BotApiDouble,
    method: str,
    body: bytes | None = None,
    content_type: str = "application/json",
    token: str | None = None,
    query: str = "",
) -> tuple[int, dict[str, Any]]:
    """One request without PTB, to check the wire format itself."""
    url = f"{api.url}/bot{token or api.token}/{method}" + (f"?{query}" if query else "")
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def api() -> Iterator[BotApiDouble]:
    """A started double with one private user and one forum group with a staff member."""
    with BotApiDouble() as double:
        double.add_user(USER, "Anna", username="anna_seller")
        double.add_group(GROUP, "Support desk", is_forum=True, members=[STAFF])
        yield double
        assert not double.internal_errors, double.dump()


# ---------------------------------------------------------------------- basics


def test_get_me_parses_as_bot_user(api: BotApiDouble) -> None:
    me = run(api, lambda bot: bot.get_me())
    assert me.id == 123456789
    assert me.is_bot
    assert me.username == "sellerdesk_test_bot"
    assert me.can_join_groups is True
    assert api.calls[0].method == "getMe"


def test_wrong_token_is_unauthorized(api: BotApiDouble) -> None:
    async def scenario() -> None:
        bot = make_bot(api, token="123456789:WRONG-token")
        with pytest.raises(InvalidToken):
            await bot.initialize()

    asyncio.run(asyncio.wait_for(scenario(), 10))
    status, body = raw_call(api, "getMe", token="123456789:WRONG-token")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = raw_call(api, "getMe", token="not-a-token")
    assert status == 404
    assert body["description"] == "Not Found"


def test_unknown_method_is_not_found_and_names_are_case_insensitive(api: BotApiDouble) -> None:
    status, body = raw_call(api, "sendTelepathy", b"{}")
    assert (status, body["description"]) == (404, "Not Found")
    status, body = raw_call(api, "GETME")
    assert status == 200
    assert body["result"]["is_bot"] is True
    assert api.calls[-1].method == "getMe"


def test_json_form_and_query_parameters_are_decoded_alike(api: BotApiDouble) -> None:
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    as_json = json.dumps({"chat_id": USER, "text": "json", "reply_markup": json.dumps(markup)})
    status, body = raw_call(api, "sendMessage", as_json.encode())
    assert status == 200
    assert body["result"]["reply_markup"] == markup
    form = urllib.parse.urlencode(
        {"chat_id": str(USER), "text": "form", "reply_markup": json.dumps(markup)}
    )
    status, body = raw_call(api, "sendMessage", form.encode(), "application/x-www-form-urlencoded")
    assert status == 200
    status, body = raw_call(api, "sendMessage", query=f"chat_id={USER}&text=query")
    assert status == 200
    params = api.calls_to("sendMessage")
    assert [p["chat_id"] for p in params] == [USER, USER, USER]
    assert params[1]["reply_markup"] == markup
    assert [m.text for m in api.messages_in(USER)] == ["json", "form", "query"]
    assert [m.message_id for m in api.messages_in(USER)] == [1, 2, 3]


# ---------------------------------------------------------------------- sending & topics


def test_create_topic_then_send_into_it(api: BotApiDouble) -> None:
    async def scenario(bot: Bot) -> tuple[ForumTopic, Message]:
        topic = await bot.create_forum_topic(GROUP, "Anna · order 77")
        sent = await bot.send_message(
            GROUP, "New ticket from Anna", message_thread_id=topic.message_thread_id
        )
        return topic, sent

    topic, sent = run(api, scenario)
    assert topic.name == "Anna · order 77"
    assert topic.icon_color == 0x6FB9F0
    assert sent.message_thread_id == topic.message_thread_id
    assert sent.is_topic_message
    assert sent.chat.is_forum and sent.chat.type == "supergroup"
    # In a topic every message replies to the topic's creation message, as in Telegram.
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.forum_topic_created is not None
    assert sent.message_id == topic.message_thread_id + 1
    [record] = api.topics(GROUP)
    assert (record.name, record.status) == ("Anna · order 77", "open")
    [message] = api.messages_in(GROUP, topic.message_thread_id)
    assert message.text == "New ticket from Anna"


def test_send_message_and_copy_message_into_topic(api: BotApiDouble) -> None:
    topic = api.add_topic(GROUP, "Anna")
    incoming = api.user_sends_text(USER, "Where is my payout?")

    async def scenario(bot: Bot) -> tuple[Message, int]:
        ack = await bot.send_message(USER, "We got your question")
        copied = await bot.copy_message(
            chat_id=GROUP,
            from_chat_id=USER,
            message_id=incoming.message_id,
            message_thread_id=topic.thread_id,
        )
        return ack, copied.message_id

    ack, copy_id = run(api, scenario)
    assert ack.chat.id == USER and ack.chat.type == "private"
    assert ack.message_id == incoming.message_id + 1
    assert ack.from_user is not None and ack.from_user.is_bot
    [copy] = api.messages_in(GROUP, topic.thread_id)
    assert copy.message_id == copy_id
    assert copy.text == "Where is my payout?"
    assert copy.copied_from == (USER, incoming.message_id)


def test_copying_a_missing_message_is_bad_request(api: BotApiDouble) -> None:
    async def scenario(bot: Bot) -> None:
        await bot.copy_message(GROUP, from_chat_id=USER, message_id=999)

    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        run(api, scenario)


def test_sending_into_a_deleted_topic_is_message_thread_not_found(api: BotApiDouble) -> None:
    topic = api.add_topic(GROUP, "Old ticket")
    api.delete_topic(GROUP, topic.thread_id)

    async def scenario(bot: Bot) -> None:
        await bot.send_message(GROUP, "reply", message_thread_id=topic.thread_id)

    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        run(api, scenario)
    assert api.topics(GROUP)[0].status == "deleted"
    assert api.history[-1].status == 400


def test_topic_creation_without_rights_is_refused(api: BotApiDouble) -> None:
    api.set_bot_rights(GROUP, can_manage_topics=False)

    async def scenario(bot: Bot) -> None:
        await bot.create_forum_topic(GROUP, "Ticket")

    with pytest.raises(BadRequest, match=r"(?i)not enough rights to create a topic"):
        run(api, scenario)


def test_topic_lifecycle_edit_close_reopen_delete(api: BotApiDouble) -> None:
    async def scenario(bot: Bot) -> list[bool]:
        topic = await bot.create_forum_topic(GROUP, "Ticket 1")
        thread = topic.message_thread_id
        results = [
            await bot.edit_forum_topic(GROUP, thread, name="Ticket 1 (paid)"),
            await bot.close_forum_topic(GROUP, thread),
        ]
        with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
            await bot.close_forum_topic(GROUP, thread)
        results.append(await bot.reopen_forum_topic(GROUP, thread))
        results.append(await bot.delete_forum_topic(GROUP, thread))
        with pytest.raises(BadRequest, match=r"(?i)TOPIC_ID_INVALID"):
            await bot.close_forum_topic(GROUP, thread)
        return results

    assert run(api, scenario) == [True, True, True, True]
    [topic] = api.topics(GROUP)
    assert (topic.name, topic.status) == ("Ticket 1 (paid)", "deleted")


def test_blocked_user_is_forbidden(api: BotApiDouble) -> None:
    api.block_bot(USER)

    async def scenario(bot: Bot) -> None:
        await bot.send_message(USER, "Your ticket was answered")

    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        run(api, scenario)
    assert api.messages_in(USER) == []
    api.user_sends_text(USER, "/start")  # writing to the bot unblocks it, as in the apps
    run(api, scenario)
    assert [m.text for m in api.messages_in(USER)] == ["Your ticket was answered"]


def test_bot_cannot_write_first_to_a_user_who_never_started_it(api: BotApiDouble) -> None:
    async def scenario(bot: Bot) -> Message:
        return await bot.send_message(STAFF, "You have a new ticket")

    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation with a user"):
        run(api, scenario)
    api.user_sends_text(STAFF, "/start")
    assert run(api, scenario).chat.id == STAFF


def test_html_parse_mode_strips_markup_and_rejects_bad_markup(api: BotApiDouble) -> None:
    async def scenario(bot: Bot) -> Message:
        sent = await bot.send_message(
            USER, "<b>Order</b> &lt;77&gt; 🙂 <i>ok</i>", parse_mode="HTML"
        )
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(USER, "price < 5 <b>and", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)reserved"):
            await bot.send_message(USER, "Order 77.", parse_mode="MarkdownV2")
        return sent

    sent = run(api, scenario)
    assert sent.text == "Order <77> 🙂 ok"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        (MessageEntity.BOLD, 0, 5),
        (MessageEntity.ITALIC, 14, 2),  # the emoji counts as two UTF-16 units
    ]
    [stored] = api.messages_in(USER)
    assert stored.sent_text == "<b>Order</b> &lt;77&gt; 🙂 <i>ok</i>"


@pytest.mark.parametrize(
    ("text", "mode", "shown", "entities"),
    [
        (
            r"*Order* \#77 is _paid_\.",
            "MarkdownV2",
            "Order #77 is paid.",
            [("bold", 0, 5), ("italic", 13, 4)],
        ),
        (
            "[site](https://example.com) `id`",
            "MarkdownV2",
            "site id",
            [("text_link", 0, 4), ("code", 5, 2)],
        ),
        ('<pre><code class="language-py">x = 1</code></pre>', "HTML", "x = 1", [("pre", 0, 5)]),
        ("*bold* 1.5!", "Markdown", "bold 1.5!", [("bold", 0, 4)]),
        ("𝐀 <u>b</u>", "html", "𝐀 b", [("underline", 3, 1)]),
    ],
)
def test_parse_modes_produce_telegram_entities(
    api: BotApiDouble, text: str, mode: str, shown: str, entities: list[tuple[str, int, int]]
) -> None:
    status, body = raw_call(
        api, "sendMessage", json.dumps({"chat_id": USER, "text": text, "parse_mode": mode}).encode()
    )
    assert status == 200, body
    result = body["result"]
    assert result["text"] == shown
    assert [(e["type"], e["offset"], e["length"]) for e in result.get("entities", [])] == entities


def test_edit_message_text_and_reply_markup(api: BotApiDouble) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Close", callback_data="close:1")]])

    async def scenario(bot: Bot) -> tuple[Message, Message, Message]:
        sent = await bot.send_message(USER, "Ticket #1", reply_markup=keyboard)
        edited = await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
        assert isinstance(edited, Message)
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
        text = await bot.edit_message_text("Ticket #1 (closed)", USER, sent.message_id)
        assert isinstance(text, Message)
        return sent, edited, text

    sent, edited, text = run(api, scenario)
    assert sent.reply_markup == keyboard
    assert edited.reply_markup is None
    assert edited.edit_date is not None
    assert text.text == "Ticket #1 (closed)"
    stored = api.message(USER, sent.message_id)
    assert stored.text == "Ticket #1 (closed)"
    assert [h["text"] for h in stored.history] == ["Ticket #1", "Ticket #1"]


def test_misc_methods_parse(api: BotApiDouble) -> None:
    incoming = api.user_sends_text(USER, "thanks")
    api.set_member_status(GROUP, STAFF, "administrator")
    api.set_member_status(GROUP, OTHER_USER, "kicked")

    async def scenario(bot: Bot) -> dict[str, Any]:
        return {
            "chat": await bot.get_chat(GROUP),
            "private": await bot.get_chat(USER),
            "staff": await bot.get_chat_member(GROUP, STAFF),
            "banned": await bot.get_chat_member(GROUP, OTHER_USER),
            "stranger": await bot.get_chat_member(USER, STAFF),
            "reaction": await bot.set_message_reaction(
                USER, incoming.message_id, ReactionTypeEmoji("👍")
            ),
            "action": await bot.send_chat_action(USER, "typing"),
            "commands": await bot.set_my_commands([BotCommand("start", "Begin")]),
            "listed": await bot.get_my_commands(),
            "uncommand": await bot.delete_my_commands(),
            "delete": await bot.delete_message(USER, incoming.message_id),
        }

    result = run(api, scenario)
    assert isinstance(result["chat"], ChatFullInfo) and result["chat"].is_forum
    assert result["private"].first_name == "Anna"
    assert isinstance(result["staff"], ChatMemberAdministrator)
    assert isinstance(result["banned"], ChatMemberBanned)
    assert isinstance(result["stranger"], ChatMemberLeft)
    assert result["listed"] == (BotCommand("start", "Begin"),)
    assert all(result[k] is True for k in ("reaction", "action", "commands", "delete"))
    assert api.commands() == []
    assert api.message(USER, incoming.message_id).deleted
    assert api.message(USER, incoming.message_id).reactions == [{"type": "emoji", "emoji": "👍"}]


def test_forward_copy_messages_and_replies(api: BotApiDouble) -> None:
    album = api.user_sends_album(USER, 2, caption="damaged box")
    question = api.user_sends_text(USER, "see photos")

    async def scenario(bot: Bot) -> tuple[Message, list[int], Message]:
        forwarded = await bot.forward_message(GROUP, USER, question.message_id)
        copies = await bot.copy_messages(GROUP, USER, [m.message_id for m in album])
        reply = await bot.send_message(
            USER, "Got it", reply_parameters=ReplyParameters(question.message_id)
        )
        with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
            await bot.send_message(USER, "x", reply_parameters=ReplyParameters(4242))
        return forwarded, [c.message_id for c in copies], reply

    forwarded, copy_ids, reply = run(api, scenario)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.date is not None
    assert forwarded.text == "see photos"
    copies = [api.message(GROUP, i) for i in copy_ids]
    assert {c.media_group_id for c in copies} != {None}
    assert len({c.media_group_id for c in copies}) == 1
    assert copies[0].caption == "damaged box"
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == question.message_id


# ---------------------------------------------------------------------- files


def test_send_photo_upload_and_media_group(api: BotApiDouble) -> None:
    png = tiny_png(4, 3)

    async def scenario(bot: Bot) -> tuple[Message, tuple[Message, ...]]:
        photo = await bot.send_photo(USER, photo=png, caption="Label")
        album = await bot.send_media_group(
            USER,
            [
                InputMediaPhoto(tiny_png(5, 5), caption="first"),
                InputMediaPhoto(photo.photo[-1].file_id, caption="again"),
            ],
        )
        return photo, album

    photo, album = run(api, scenario)
    assert photo.caption == "Label"
    assert (photo.photo[-1].width, photo.photo[-1].height) == (4, 3)
    media = api.calls_to("sendMediaGroup")[0]["media"]
    assert media[0]["media"].startswith("attach://")
    assert media[1]["media"] == photo.photo[-1].file_id
    upload = api.calls_to("sendPhoto")[0]["photo"]
    assert isinstance(upload, UploadedFile) and upload.data == png
    assert api.file(photo.photo[-1].file_id).data == png
    assert len(album) == 2
    assert album[0].media_group_id is not None
    assert album[0].media_group_id == album[1].media_group_id
    assert [m.caption for m in album] == ["first", "again"]
    # Re-sending by file_id reuses the photo; the new upload got new ids.
    assert album[1].photo[-1].file_id == photo.photo[-1].file_id
    assert album[0].photo[-1].file_unique_id != photo.photo[-1].file_unique_id
    kinds = [(m.kind, m.media_group_id is not None) for m in api.messages_in(USER)]
    assert kinds == [("photo", False), ("photo", True), ("photo", True)]


def test_documents_voice_video_uploads_parse(api: BotApiDouble) -> None:
    async def scenario(bot: Bot) -> list[Message]:
        return [
            await bot.send_document(USER, document=b"%PDF-1.4 ...", filename="act.pdf"),
            await bot.send_voice(USER, voice=b"OggS voice"),
            await bot.send_video(USER, video=b"\x00\x00\x00\x18ftypmp42"),
        ]

    document, voice, video = run(api, scenario)
    assert document.document is not None and document.document.file_name == "act.pdf"
    assert voice.voice is not None and voice.voice.mime_type == "audio/ogg"
    assert video.video is not None and video.video.width
    ids = [
        document.document.file_unique_id,
        voice.voice.file_unique_id,
        video.video.file_unique_id,
    ]
    assert len(set(ids)) == 3


def test_get_file_and_download(api: BotApiDouble) -> None:
    incoming = api.user_sends_document(USER, "contract.pdf", data=b"%PDF-1.7 signed")
    big = api.user_sends_document(USER, "scan.tiff", size=25 * 1024 * 1024)
    assert incoming.file_id is not None and big.file_id is not None

    async def scenario(bot: Bot) -> tuple[str | None, bytes]:
        file = await bot.get_file(incoming.file_id or "")
        data = await file.download_as_bytearray()
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await bot.get_file(big.file_id or "")
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await bot.get_file("nonsense")
        return file.file_path, bytes(data)

    path, data = run(api, scenario)
    assert data == b"%PDF-1.7 signed"
    assert (
        path is not None
        and path.startswith(f"{api.base_file_url}{api.token}/")
        and path.endswith(".pdf")
    )


# ---------------------------------------------------------------------- faults


def test_injected_429_raises_retry_after(
    api: BotApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    api.fail("sendMessage", 429, retry_after=7)

    async def scenario(bot: Bot) -> Message:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(USER, "first try")
        assert caught.value.retry_after == dtm.timedelta(seconds=7)
        return await bot.send_message(USER, "second try")

    assert run(api, scenario).text == "second try"
    assert [m.text for m in api.messages_in(USER)] == ["second try"]
    [failed, ok] = [e for e in api.history if e.method == "sendMessage"]
    assert (failed.status, failed.fault, ok.status) == (429, True, 200)
    assert "retry after 7" in (failed.description or "")


def test_injected_5xx_and_dropped_connection_are_network_errors(api: BotApiDouble) -> None:
    api.fail("sendMessage", 500)
    api.fail("sendMessage", 502)
    api.fail("sendMessage", drop_connection=True)

    async def scenario(bot: Bot) -> None:
        for expected in ("Internal Server Error", "Bad Gateway", "disconnected"):
            with pytest.raises(NetworkError, match=f"(?i){expected}") as caught:
                await bot.send_message(USER, "hello")
            assert not isinstance(caught.value, TimedOut)
        await bot.send_message(USER, "hello")

    run(api, scenario)
    assert [e.status for e in api.history if e.method == "sendMessage"] == [500, 502, 0, 200]


def test_fault_with_predicate_and_after_effect(api: BotApiDouble) -> None:
    api.fail("sendMessage", 502, when=lambda p: p["chat_id"] == GROUP, after_effect=True)

    async def scenario(bot: Bot) -> None:
        await bot.send_message(USER, "private is fine")
        with pytest.raises(NetworkError):
            await bot.send_message(GROUP, "lost answer")

    run(api, scenario)
    # The method took effect even though the bot saw an error: a retry would duplicate it.
    assert [m.text for m in api.messages_in(GROUP)] == ["lost answer"]


def test_rate_limit_answers_429_until_the_window_has_room(
    api: BotApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    limit = api.limit_rate(3, 60, chat_id=USER)

    async def scenario(bot: Bot) -> None:
        await bot.send_message(USER, "1")
        await bot.send_message(USER, "2")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_media_group(USER, [InputMediaPhoto(tiny_png()) for _ in range(2)])
        assert caught.value.retry_after in (dtm.timedelta(seconds=59), dtm.timedelta(seconds=60))
        await bot.send_message(USER, "3")
        with pytest.raises(RetryAfter):
            await bot.send_message(USER, "4")
        await bot.send_message(GROUP, "other chats are not limited")

    run(api, scenario)
    assert [m.text for m in api.messages_in(USER)] == ["1", "2", "3"]
    assert limit.hits == 2


def test_telegrams_limits_count_per_group_per_private_chat_and_per_bot(
    api: BotApiDouble,
) -> None:
    group, private, bot_wide = api.telegram_limits()

    async def scenario(bot: Bot) -> None:
        for n in range(4):  # a private chat takes a short burst...
            await bot.send_message(USER, str(n))
        with pytest.raises(RetryAfter):  # ...and no more in the same second
            await bot.send_message(USER, "5")
        for n in range(20):  # a group takes 20 in a minute, its topics together
            await bot.send_message(GROUP, str(n))
        with pytest.raises(RetryAfter):
            await bot.send_message(GROUP, "21")

    run(api, scenario)
    assert (group.hits, private.hits, bot_wide.hits) == (1, 1, 0)
    # Every chat together: the 31st message within a second is refused, whatever chat.
    bot_wide.stamps.clear()
    group.stamps.clear()
    api.clear_faults()
    only_bot_wide = api.limit_rate(30, 60.0, per_bot=True)

    async def many_chats(bot: Bot) -> None:
        for n in range(30):
            await bot.send_message(USER if n % 2 else GROUP, str(n))
        with pytest.raises(RetryAfter):
            await bot.send_message(GROUP, "31")

    run(api, many_chats)
    assert only_bot_wide.hits == 1


def test_delay_slows_a_method(api: BotApiDouble) -> None:
    api.delay("sendChatAction", 0.2, times=1)

    async def scenario(bot: Bot) -> float:
        started = time.monotonic()
        await bot.send_chat_action(USER, "typing")
        return time.monotonic() - started

    assert run(api, scenario) >= 0.2


# ---------------------------------------------------------------------- updates


def test_long_poll_returns_enqueued_update_and_times_out_empty(api: BotApiDouble) -> None:
    timer = threading.Timer(0.3, api.user_sends_text, args=(USER, "/start order-77"))

    async def scenario(bot: Bot) -> tuple[tuple[Update, ...], float, tuple[Update, ...], float]:
        started = time.monotonic()
        timer.start()
        updates = await bot.get_updates(timeout=4, allowed_updates=["message", "callback_query"])
        first = time.monotonic() - started
        started = time.monotonic()
        empty = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
        return updates, first, empty, time.monotonic() - started

    try:
        updates, first, empty, second = run(api, scenario)
    finally:
        timer.join(2)
    assert 0.25 <= first < 2
    [update] = updates
    assert update.message is not None
    assert update.message.text == "/start order-77"
    assert update.message.from_user is not None and update.message.from_user.first_name == "Anna"
    assert update.message.parse_entities([MessageEntity.BOT_COMMAND]) == {
        MessageEntity(MessageEntity.BOT_COMMAND, 0, 6): "/start"
    }
    assert empty == ()
    assert 0.9 <= second < 2
    assert api.pending_updates == 0


def test_offset_confirms_updates(api: BotApiDouble) -> None:
    ids: list[int] = []
    for index in range(3):
        update_id = api.user_sends_text(USER, f"m{index}").update_id
        assert update_id is not None
        ids.append(update_id)

    async def scenario(bot: Bot) -> list[list[int]]:
        seen = [[u.update_id for u in await bot.get_updates()]]
        seen.append([u.update_id for u in await bot.get_updates(offset=ids[1])])
        seen.append([u.update_id for u in await bot.get_updates(offset=ids[1], limit=1)])
        seen.append([u.update_id for u in await bot.get_updates(offset=ids[2] + 1)])
        return seen

    assert run(api, scenario) == [ids, ids[1:], ids[1:2], []]
    assert api.pending_updates == 0


def test_deliver_twice_repeats_the_same_update_id(api: BotApiDouble) -> None:
    message = api.user_sends_text(USER, "pay me")

    async def scenario(bot: Bot) -> list[int]:
        first = await bot.get_updates()
        confirmed = await bot.get_updates(offset=first[-1].update_id + 1)
        assert confirmed == ()
        api.deliver_twice(message)
        again = await bot.get_updates(offset=first[-1].update_id + 1)
        return [u.update_id for u in (*first, *again)]

    assert run(api, scenario) == [message.update_id, message.update_id]


def test_incoming_kinds_parse(api: BotApiDouble) -> None:
    topic = api.add_topic(GROUP, "Anna")
    text = api.user_sends_text(USER, "hello")
    api.user_sends_photo(USER, caption="receipt")
    api.user_sends_album(USER, 3, caption="boxes")
    api.user_sends_document(USER, "act.pdf")
    api.user_sends_voice(USER)
    api.user_sends_video(USER, caption="unboxing")
    api.user_sends_sticker(USER)
    api.user_sends_location(USER)
    api.user_edits(text, "hello again")
    staff = api.member_sends_text(GROUP, STAFF, "On it", thread_id=topic.thread_id)
    api.member_sends_photo(GROUP, STAFF, caption="label", reply_to=staff)
    api.member_sends_command(
        GROUP, STAFF, "close", "soon", thread_id=topic.thread_id, mention_bot=True
    )

    updates = run(api, lambda bot: bot.get_updates())
    messages = [u.message for u in updates if u.message is not None]
    kinds = [
        next(
            k
            for k in ("text", "photo", "document", "voice", "video", "sticker", "location")
            if getattr(m, k)
        )
        for m in messages
    ]
    assert kinds == [
        "text",
        "photo",
        "photo",
        "photo",
        "photo",
        "document",
        "voice",
        "video",
        "sticker",
        "location",
        "text",
        "photo",
        "text",
    ]
    album = messages[2:5]
    assert len({m.media_group_id for m in album}) == 1 and album[0].media_group_id
    assert [m.caption for m in album] == ["boxes", None, None]
    edited = [u.edited_message for u in updates if u.edited_message is not None]
    assert edited[0].text == "hello again" and edited[0].edit_date is not None
    in_topic, photo_reply, command = messages[-3:]
    assert in_topic.is_topic_message and in_topic.message_thread_id == topic.thread_id
    assert photo_reply.message_thread_id == topic.thread_id
    assert photo_reply.reply_to_message is not None
    assert photo_reply.reply_to_message.message_id == staff.message_id
    assert command.text == "/close@sellerdesk_test_bot soon"
    assert command.entities[0].type == MessageEntity.BOT_COMMAND
    assert command.entities[0].length == len("/close@sellerdesk_test_bot")
    assert len({p.file_unique_id for m in messages if m.photo for p in m.photo}) == 5 * 4


def test_callback_query_update_parses_and_is_answered_once(api: BotApiDouble) -> None:
    async def scenario(bot: Bot) -> None:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Rate 5", callback_data="rate:5")]])
        sent = await bot.send_message(USER, "Rate us", reply_markup=keyboard)
        press = api.user_presses_button(USER, sent.message_id, "rate:5")
        [update] = await bot.get_updates()
        query = update.callback_query
        assert query is not None
        assert (query.id, query.data, query.from_user.id) == (press.id, "rate:5", USER)
        assert query.message is not None and query.message.message_id == sent.message_id
        assert await bot.answer_callback_query(query.id, text="Thanks!") is True
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query(query.id)
        assert api.callback_query(query.id).answer == {"text": "Thanks!"}

    run(api, scenario)


def test_group_button_press_and_webhook_conflict(api: BotApiDouble) -> None:
    async def scenario(bot: Bot) -> None:
        topic = await bot.create_forum_topic(GROUP, "Ticket")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Take", callback_data="take")]])
        sent = await bot.send_message(
            GROUP, "New", message_thread_id=topic.message_thread_id, reply_markup=keyboard
        )
        api.member_presses_button(GROUP, STAFF, sent, "take")
        assert await bot.set_webhook("https://example.invalid/hook") is True
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == ("https://example.invalid/hook", 1)
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook() is True
        [update] = await bot.get_updates()
        assert update.callback_query is not None
        assert update.callback_query.from_user.id == STAFF

    run(api, scenario)


def test_blocking_emits_my_chat_member(api: BotApiDouble) -> None:
    api.block_bot(USER)
    [update] = run(api, lambda bot: bot.get_updates())
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"


def test_concurrent_long_polls_conflict(api: BotApiDouble) -> None:
    async def scenario(bot: Bot) -> None:
        first = asyncio.create_task(bot.get_updates(timeout=3))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(bot.get_updates(timeout=0))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await first
        assert await second == ()

    run(api, scenario)


def test_a_polling_application_round_trip(api: BotApiDouble) -> None:
    """The way end-to-end tests use the double: a real Application polls it.

    Blocking ``wait_for*`` calls run in a worker thread so the event loop keeps polling.
    """

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Ticket for {' '.join(context.args or [])}")

    async def forward(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_user is not None
        topic = await context.bot.create_forum_topic(GROUP, update.effective_user.full_name)
        await update.effective_message.copy(GROUP, message_thread_id=topic.message_thread_id)

    async def scenario() -> tuple[StoredMessage, StoredMessage]:
        app = (
            Application.builder()
            .token(api.token)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        app.add_handler(CommandHandler("start", start))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, forward))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=2)
            api.user_sends_text(USER, "/start order-77")
            reply = await asyncio.to_thread(api.wait_for_message, USER)
            api.user_sends_text(USER, "Where is my payout?")
            copy = await asyncio.to_thread(api.wait_for_message, GROUP)
            await app.updater.stop()
            await app.stop()
        return reply, copy

    reply, copy = asyncio.run(asyncio.wait_for(scenario(), 15))
    assert reply.text == "Ticket for order-77"
    assert copy.text == "Where is my payout?"
    assert copy.thread_id == api.topics(GROUP)[0].thread_id
    assert api.pending_updates == 0


# ---------------------------------------------------------------------- the double itself


def test_wait_for_times_out_with_a_dump(api: BotApiDouble) -> None:
    raw_call(api, "sendMessage", json.dumps({"chat_id": USER, "text": "hi"}).encode())
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"(?s)never.*sendMessage\(chat_id=1001"):
        api.wait_for(lambda: api.messages_in(GROUP), timeout=0.2, message="never")
    assert time.monotonic() - started < 1
    assert api.wait_for_message(USER).text == "hi"
    assert api.wait_for_call("sendmessage")["text"] == "hi"


def test_stop_wakes_long_polls_and_is_quick() -> None:
    api = BotApiDouble().start()
    outcome: list[object] = []

    def poll() -> None:
        try:
            outcome.append(raw_call(api, "getUpdates", json.dumps({"timeout": 30}).encode()))
        # The socket may close before (or while) the empty answer is written.
        except (OSError, http.client.HTTPException) as error:
            outcome.append(error)

    poller = threading.Thread(target=poll)
    poller.start()
    api.wait_for(lambda: api.calls_to("getUpdates"), timeout=2)
    started = time.monotonic()
    api.stop()
    poller.join(2)
    assert time.monotonic() - started < 1
    assert not poller.is_alive()
    assert outcome and (
        isinstance(outcome[0], (OSError, http.client.HTTPException))
        or outcome[0] == (200, {"ok": True, "result": []})
    )
    api.stop()  # idempotent


def test_stored_message_repr_is_readable(api: BotApiDouble) -> None:
    message: StoredMessage = api.user_sends_text(USER, "hi")
    assert repr(message) == "<text #1 in 1001 from user 1001: 'hi'>"
