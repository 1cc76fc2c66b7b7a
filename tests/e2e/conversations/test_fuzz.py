"""Fuzzing the handlers: hypothesis-made updates through the real application.

Each generated update goes through ``Application.process_update`` with the bot
pointed at the Bot API double (so replies and copies really go out over HTTP),
and no exception may reach the error handler. The updates are what Telegram could
send, not what the desk expects: every message type, odd texts, optional fields
left out, buttons with made-up data, messages in groups, topics and the admin chat.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import Application, ContextTypes

from sellerdesk.app import build_application
from sellerdesk.faq.content.loader import load_content
from testing.botapi import BotApiDouble
from tests.e2e.harness import ADMIN_CHAT, BUYER, DEMO, STAFF, SUPPORT, settings_for

JSON = dict[str, Any]
#: Examples per run and the bound on the whole run: enough to reach every message
#: type many times, few enough for ``make test``.
EXAMPLES = 150
OTHER_GROUP = -1002000000002
USERS = [BUYER, 5002, STAFF, 700000102, 123456789]
CHATS = [BUYER, 5002, SUPPORT, ADMIN_CHAT, OTHER_GROUP]

odd_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "",
            " ",
            "x" * 5000,
            "<b>bold</b> <a href='x'>&amp;</a> <script>",
            "مرحبا بالعالم \u202e reversed",
            "👍🏽👨‍👩‍👧‍👦🇷🇺",
            "/start lotus-wear",
            "/start lotus-wear__nope",
            "/start ../../etc",
            "/forget_me",
            "/cases",
            "/note hi",
            "/t thanks",
            "/close",
            "/takeover lotus-wear 1",
            "/complain",
            "/return",
            "Можете сшить костюм на заказ для свадьбы?",
            "\x00\x1f",
        ]
    ),
)
file_id = st.just({"file_id": "AgAD", "file_unique_id": "u1"})
media: dict[str, st.SearchStrategy[JSON]] = {
    "text": st.builds(lambda t: {"text": t}, odd_text),
    "photo": st.builds(
        lambda c: {
            "photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}],
            **({"caption": c} if c is not None else {}),
        },
        st.none() | odd_text,
    ),
    "sticker": st.just(
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        }
    ),
    "location": st.builds(
        lambda a, b: {"location": {"latitude": a, "longitude": b}},
        st.floats(-90, 90),
        st.floats(-180, 180),
    ),
    "contact": st.just({"contact": {"phone_number": "+10000000000", "first_name": "C"}}),
    "document": st.builds(lambda f: {"document": f}, file_id),
    "voice": st.just({"voice": {"file_id": "v", "file_unique_id": "v", "duration": 1}}),
    "video": st.just(
        {"video": {"file_id": "d", "file_unique_id": "d", "width": 1, "height": 1, "duration": 1}}
    ),
    "poll": st.just(
        {
            "poll": {
                "id": "1",
                "question": "q?",
                "options": [{"text": "a", "voter_count": 0, "persistent_id": "o1"}],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": False,
                "members_only": False,
            }
        }
    ),
    "dice": st.builds(lambda v: {"dice": {"emoji": "🎲", "value": v}}, st.integers(1, 6)),
}


def _user(user_id: int, with_optional: bool, lang: str | None) -> JSON:
    user: JSON = {"id": user_id, "is_bot": False, "first_name": "Ann"}
    if with_optional:
        user.update(username="ann_secret", last_name="Lee")
    if lang is not None:
        user["language_code"] = lang
    return user


def _chat(chat_id: int) -> JSON:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Ann"}
    forum = chat_id == SUPPORT
    return {"id": chat_id, "type": "supergroup", "title": "G", "is_forum": forum}


@st.composite
def messages(draw: st.DrawFn) -> JSON:
    chat_id = draw(st.sampled_from(CHATS))
    user_id = chat_id if chat_id > 0 else draw(st.sampled_from(USERS))
    lang = draw(st.none() | st.sampled_from(["ru", "en", "zh", "de", "xx-YY"]))
    message: JSON = {
        "message_id": draw(st.integers(1, 10_000)),
        "date": 1_700_000_000,
        "chat": _chat(chat_id),
        "from": _user(user_id, draw(st.booleans()), lang),
    }
    message.update(draw(st.sampled_from(sorted(media)).flatmap(lambda k: media[k])))
    if chat_id < 0 and draw(st.booleans()):
        message["message_thread_id"] = draw(st.integers(1, 50))
        message["is_topic_message"] = True
    if draw(st.booleans()):
        message["reply_to_message"] = {
            "message_id": draw(st.integers(1, 10_000)),
            "date": 1_700_000_000,
            "chat": message["chat"],
            "from": {"id": draw(st.sampled_from([*USERS, 42])), "is_bot": True, "first_name": "B"},
            "text": draw(odd_text),
        }
    if draw(st.booleans()):
        message["media_group_id"] = draw(st.sampled_from(["m1", "m2"]))
    return message


@st.composite
def updates(draw: st.DrawFn) -> JSON:
    kind = draw(st.sampled_from(["message", "edited_message", "callback_query"]))
    message = draw(messages())
    if kind == "edited_message":
        message["edit_date"] = 1_700_000_100
        return {kind: message}
    if kind == "message":
        return {kind: message}
    data = draw(
        st.one_of(
            st.text(max_size=64),
            st.sampled_from(
                [
                    "claim:1",
                    "close:1",
                    "close:999",
                    "rate:1:5",
                    "rate:1:9",
                    "helped:0",
                    "human:lotus-wear:0",
                    "faq:lotus-wear:nope",
                    "seller:nope",
                    "lang:xx",
                    "forget:no",
                    "complain:1",
                    "rdone:1",
                    "tpl:1:x",
                ]
            ),
        )
    )
    query: JSON = {
        "id": str(draw(st.integers(1, 10**9))),
        "from": _user(draw(st.sampled_from(USERS)), False, None),
        "chat_instance": "ci",
        "message": message,
    }
    if draw(st.booleans()):
        query["data"] = data
    return {kind: query}


def test_generated_updates_never_reach_the_error_handler(api: BotApiDouble, tmp_path: Path) -> None:
    api.add_user(5002, "Bo")
    api.add_group(OTHER_GROUP, "Someone else", is_forum=False)
    app = build_application(settings_for(api, tmp_path), load_content(DEMO))
    failures: list[BaseException] = []

    async def record(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            failures.append(context.error)

    app.add_error_handler(record)
    loop = asyncio.new_event_loop()
    ids = itertools.count(1)

    async def start(app: Application) -> None:  # type: ignore[type-arg]
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)

    async def stop(app: Application) -> None:  # type: ignore[type-arg]
        assert app.post_stop is not None and app.post_shutdown is not None
        await app.post_stop(app)
        await app.shutdown()
        await app.post_shutdown(app)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(updates())
    def feed(payload: JSON) -> None:
        payload["update_id"] = next(ids)
        update = Update.de_json(payload, app.bot)
        loop.run_until_complete(asyncio.wait_for(app.process_update(update), 30))
        assert not failures, repr(failures)

    try:
        loop.run_until_complete(start(app))
        feed()
    finally:
        loop.run_until_complete(stop(app))
        loop.close()
