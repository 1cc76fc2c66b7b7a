"""A walk through the desk as its people see it, written as a transcript
(``docs/transcript.md``).

    python -m testing.transcript > docs/transcript.md

A Russian, an English and a Chinese buyer, the demo seller's staff in their forum
group, and the admin chat: each step is what one of them does, followed by what the bot
sent in reply, in the order the Bot API double stored it. The bot runs as its own
process (``testing.crash_runner``: polling, SQLite, the fuzzy matcher, pacing far
above Telegram's so the walk takes seconds); every step waits for the reply it
expects, so a step that goes wrong stops the walk with the calls it saw. Dates and
times are the day's, in the shop's time zone where the bot shows them.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage
from testing.processes import start_crash_runner
from testing.runner_settings import ADMIN_CHAT, UNPACED_ENV

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "sellers"
SUPPORT = -1001000000001
STAFF = 700000101
RU, EN, ZH = 5001, 5002, 5003
PEOPLE = {RU: "Buyer (ru)", EN: "Buyer (en)", ZH: "Buyer (zh)"}
ORDER = "87654321-0002"
WAIT_S = 15.0
#: Seconds given to a step's messages in other chats before the next step is written.
SETTLE_S = 0.4


class Walk:
    """The people's actions and the bot's messages, in order, as markdown lines."""

    def __init__(self, api: BotApiDouble) -> None:
        self.api = api
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.seen: list[StoredMessage] = []
        original = api._store_bot_message

        def store(*args: Any, **kwargs: Any) -> StoredMessage:
            message = original(*args, **kwargs)
            with self.lock:
                self.seen.append(message)
            return message

        api._store_bot_message = store  # type: ignore[method-assign]
        self.shown = 0

    # ------------------------------------------------------------------ writing

    def section(self, title: str) -> None:
        time.sleep(SETTLE_S)
        self.flush()
        self.lines += ["", f"## {title}", ""]

    def said(self, who: str, what: str) -> None:
        time.sleep(SETTLE_S)  # the last step's notes elsewhere (staff, admins) land first
        self.flush()
        self.lines.append(f"- **{who}:** {_inline(what)}")

    def flush(self) -> None:
        with self.lock:
            new = self.seen[self.shown :]
            self.shown = len(self.seen)
        for message in new:
            self.lines.append(f"  - *bot → {self._where(message)}:* {self._body(message)}")

    def _where(self, message: StoredMessage) -> str:
        chat = message.chat.id
        if chat in PEOPLE:
            return PEOPLE[chat].lower()
        if chat == ADMIN_CHAT:
            return "admin chat"
        if chat == SUPPORT:
            topic = next(
                (t for t in self.api.topics(SUPPORT) if t.thread_id == message.thread_id), None
            )
            return f"staff, topic «{topic.name}»" if topic else "staff group"
        return f"chat {chat}"

    @staticmethod
    def _body(message: StoredMessage) -> str:
        if message.kind == "service":
            done = next(iter(message.service or {}), "service").removeprefix("forum_topic_")
            return f"*(topic {done})*"
        text = message.text or message.caption or ""
        body = _inline(text) if text else f"*({message.kind})*"
        if message.kind not in ("text", "service") and text:
            body = f"*({message.kind})* {body}"
        buttons = [b.get("text", "") for b in message.buttons]
        if buttons:
            body += " " + " ".join(f"`[{b}]`" for b in buttons)
        return body

    # ------------------------------------------------------------------ acting

    def wait(self, predicate: Callable[[], Any], what: str) -> Any:
        return self.api.wait_for(predicate, WAIT_S, what)

    def buyer(self, user: int, text: str, expect: str | None = None) -> StoredMessage:
        """The buyer writes ``text``; waits for a bot message containing ``expect`` (or
        any new one) in their chat."""
        before = len(self.api.messages_in(user))
        self.said(PEOPLE[user], text)
        self.api.user_sends_text(user, text)
        return self.reply(user, before, expect)

    def reply(self, user: int, before: int, expect: str | None) -> StoredMessage:
        def found() -> list[StoredMessage]:
            new = self.api.messages_in(user)[before:]
            return [m for m in new if expect is None or expect in (m.text or m.caption or "")]

        return self.wait(found, f"a reply to {PEOPLE[user]} with {expect!r}")[-1]  # type: ignore[no-any-return]

    def press(self, user: int, message: StoredMessage, label: str, expect: str | None) -> None:
        button = next(b for b in message.buttons if b.get("text") == label)
        before = len(self.api.messages_in(user))
        self.said(PEOPLE[user], f"presses `[{label}]`")
        query = self.api.user_presses_button(user, message, button["callback_data"])
        if expect is None:
            self.wait(lambda: self.api.callback_query(query.id).answered, "the press answered")
            return
        self.reply(user, before, expect)

    def in_topic(self, needle: str) -> StoredMessage:
        def found() -> list[StoredMessage]:
            return [m for m in self.api.messages_in(SUPPORT) if needle in (m.text or "")]

        return self.wait(found, f"{needle!r} in the staff group")[-1]  # type: ignore[no-any-return]


def _inline(text: str) -> str:
    return " ⏎ ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def walk(api: BotApiDouble, w: Walk) -> None:
    w.section("A Russian buyer: small talk, an FAQ answer, a case, its close")
    w.buyer(RU, "/start lotus-wear", "Lotus Wear")
    w.buyer(RU, "Здравствуйте")
    answer = w.buyer(RU, "Сколько идет доставка?", "дней")
    w.press(RU, answer, "👍 Помогло", None)
    w.buyer(RU, "Можете сшить платье по моим меркам?", "Обращение №1")
    card = w.in_topic("Обращение №1")
    topic = card.thread_id
    w.said("Staff (in the topic)", "Да, шьём на заказ. Пришлите, пожалуйста, мерки.")
    before = len(api.messages_in(RU))
    api.member_sends_text(SUPPORT, STAFF, "Да, шьём на заказ. Пришлите, пожалуйста, мерки.", topic)
    w.reply(RU, before, "мерки")
    w.buyer(RU, "Сколько стоит доставка?", "доставк")
    w.in_topic("Бот ответил на это из FAQ")
    w.buyer(RU, "/help", "/cases")
    closed = w.buyer(RU, "/close", "закрыто")
    w.press(RU, closed, "5 ⭐", None)

    w.section("An English buyer: an answer in English, a return, its rejection, a dispute")
    w.buyer(EN, "/start lotus-wear", "Lotus Wear")
    w.buyer(EN, "How long does delivery take?", "days")
    w.buyer(EN, "/return", "order number")
    w.buyer(EN, ORDER, "product you are returning")
    reasons = w.buyer(EN, "Midi dress", "Why")
    w.press(EN, reasons, "Size did not fit", "photos")
    before = len(api.messages_in(EN))
    w.said(PEOPLE[EN], "*(an album of two photos)*")
    api.user_sends_album(EN, 2)
    got = w.reply(EN, before, "Photos received")
    w.press(EN, got, "Done", "comment")
    w.buyer(EN, "Runs small, I need a size up", "has been sent")
    card = w.in_topic("Заявка на возврат")
    reject = next(b for b in card.buttons if b["callback_data"].startswith("rreject:"))
    w.said("Staff (in the topic)", "presses `[Отклонить]`")
    api.member_presses_button(SUPPORT, STAFF, card, reject["callback_data"])
    w.in_topic("причину отказа")
    w.said("Staff (in the topic)", "Платье было в носке, бирка срезана")
    before = len(api.messages_in(EN))
    api.member_sends_text(SUPPORT, STAFF, "Платье было в носке, бирка срезана", card.thread_id)
    rejected = w.reply(EN, before, "rejected")
    w.buyer(EN, "/cases", "return rejected")
    dispute = next(b["text"] for b in rejected.buttons)
    w.press(EN, rejected, dispute, None)
    w.wait(lambda: api.messages_in(ADMIN_CHAT), "the dispute in the admin chat")

    w.section("A Chinese buyer: small talk and an answer in Chinese")
    w.buyer(ZH, "/start lotus-wear", "Lotus Wear")
    w.buyer(ZH, "你好")
    w.buyer(ZH, "多久能到货？", "天")
    time.sleep(SETTLE_S)
    w.flush()


def main() -> None:
    with BotApiDouble() as api, tempfile.TemporaryDirectory() as folder:
        api.add_user(RU, "Анна", language_code="ru")
        api.add_user(EN, "John", language_code="en")
        api.add_user(ZH, "李", language_code="zh-hans")
        api.add_group(SUPPORT, "Lotus Wear support", is_forum=True, members=[STAFF])
        api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        w = Walk(api)
        db_url = f"sqlite:///{Path(folder) / 'desk.db'}"
        proc = start_crash_runner(api.url, api.token, db_url, DEMO, 60.0, UNPACED_ENV)
        try:
            walk(api, w)
        except AssertionError:
            w.flush()  # what happened up to the step that went wrong
            sys.stderr.write("\n".join(w.lines[-12:]) + "\n")
            raise
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    header = [
        "# A walk through the desk",
        "",
        f"Generated {date.today():%Y-%m-%d} by `python -m testing.transcript` against the "
        "Bot API double, with the demo seller (`examples/sellers/lotus-wear`). Each line in "
        "bold is what a person did; under it, what the bot sent and where. Buttons are in "
        "`[brackets]`, line breaks shown as ⏎.",
    ]
    sys.stdout.write("\n".join(header + w.lines) + "\n")


if __name__ == "__main__":
    main()
