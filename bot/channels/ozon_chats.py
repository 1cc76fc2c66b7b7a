"""Ozon buyer chats ("Чат с продавцом"): the FAQ answers buyers inside Ozon.

For each seller whose seller.yaml has an ``ozon`` section with ``chats`` on, every
``OZON_POLL_SECONDS`` the desk lists the seller's buyer chats with unread messages
(``/v3/chat/list``, every page) and reads the newest messages of those that changed
(``/v3/chat/history``). Each buyer message not taken up before, written within Ozon's
reply window, is asked of the seller's FAQ like a message in the bot's chat:

* a confident answer (no hand-off entry, nothing left unanswered in the message) is
  sent back into the chat (``/v1/chat/send/message``, in parts of at most 1,000
  characters), and the chat is marked read once every buyer message in it is answered;
* anything else goes to the seller's staff as a case, with its forum topic, like a
  bot-chat buyer's (``bot.channels.ozon_cases``): staff's replies there go back into the
  Ozon chat, and every later message of the chat reaches the case while it is open;
* every question is logged like the bot chat's, so ``sellerdesk stats``, the digest
  and ``faq gaps`` count Ozon buyers too.

No message is answered twice and none is lost across restarts: a message is taken up
in the database (``storage.repo.channels``) before its answer goes, as ``answering``, and
marked ``answered`` after. A message left ``answering`` (the process died mid-send, or
Ozon's answer was lost) is settled on a later pass from the chat's history: the answer
is there (done) or it is sent again. Two processes cannot both take one message.
Ozon's own unread state is the cursor: an unread chat is looked at until its messages
are answered or left for staff.

A missing key variable, a key Ozon refuses, or a seller without the Premium Plus/Pro
subscription chats need is one log line and one admin-chat note a day, and that
seller's chats are not asked for again for :data:`PAUSE`; other sellers go on. 429
and 5xx are retried by the client (``bot.channels.ozon_client``), then wait for the
next pass.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sellerdesk.bot.channels import ozon_cases
from sellerdesk.bot.channels.ozon_client import (
    OzonApiError,
    OzonAuthError,
    OzonChatClient,
    OzonDeniedError,
    OzonRefusedError,
    is_buyer,
    message_text,
    split_text,
)
from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.desk.answers import EntryAnswer
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.i18n.texts import text
from sellerdesk.faq.content.errors import Problem as ContentProblem
from sellerdesk.faq.content.model import Content, MediaFile, OzonLink, Seller
from sellerdesk.faq.matching.decision import Action
from sellerdesk.storage.repo import channels, questions
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: Ozon's longest reply window (FBS/rFBS: 72 hours): older messages are not answered.
REPLY_WINDOW = timedelta(hours=72)
#: A seller whose key or subscription Ozon refused is not asked again for this long.
PAUSE = timedelta(minutes=10)
#: A message left ``answering`` this long is settled from the history (younger: its
#: answer may still be on its way from another process).
SETTLE_AFTER = timedelta(seconds=60)
#: Questions are logged at most this long, as in the bot's chat.
MAX_QUESTION_CHARS = 1000
#: The start of an answer looked for in the history to settle an ``answering`` message.
HEAD_CHARS = 50


@dataclass(frozen=True)
class Answer:
    text: str
    question: str
    action: Action
    best: str | None
    score: float | None
    lang: str
    #: The entry's link buttons (label, address) and its files: in a chat, the links
    #: are written out after the text (an Ozon chat shows no buttons) and the files
    #: follow; not part of a product question's answer.
    links: tuple[tuple[str, str], ...] = ()
    media: tuple[MediaFile, ...] = ()

    def chat_text(self) -> str:
        return outgoing.with_links(self.text, self.links) if self.text else self.text


class OzonChats:
    """The desk's side of Ozon buyer chats, for every seller that has them."""

    def __init__(
        self,
        db: Database,
        ctx: DeskContext,
        api_url: str,
        rps: float = 5.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.ctx = ctx
        self.api_url = api_url
        self.rps = rps
        self.env = env if env is not None else os.environ
        self._clients: dict[str, tuple[str, str, OzonChatClient]] = {}
        self._paused: dict[str, float] = {}
        self._last_seen: dict[tuple[str, str], str] = {}
        self._lock = asyncio.Lock()
        self._woken: set[str] = set()
        self._woken_task: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self._woken_task is not None:
            self._woken_task.cancel()
        for _, _, client in self._clients.values():
            await client.close()
        self._clients.clear()

    async def tick(self, only: set[str] | None = None, wait: bool = False) -> int:
        """One pass over the chats of every seller (of ``only``); returns how many
        answers were sent. A timed pass while another runs does nothing; with ``wait``
        (a push) it runs after it."""
        if self._lock.locked() and not wait:
            return 0  # the last pass is still going: never two at once
        async with self._lock:
            sent = 0
            for seller in list(self.ctx.content.sellers.values()):
                if seller.ozon is None or not seller.ozon.chats:
                    continue
                if only is not None and seller.id not in only:
                    continue
                if self._paused.get(seller.id, 0.0) > time.monotonic():
                    continue
                sent += await self._seller(seller)
            return sent

    async def wake(self, client_id: str | None) -> None:
        """A push said a buyer wrote: a pass over that seller's chats (the seller whose
        ``client_id`` it is; every seller with Ozon chats when none is) starts now, or
        right after the one running."""
        sellers = [s for s in self.ctx.content.sellers.values() if s.ozon and s.ozon.chats]
        named = {s.id for s in sellers if s.ozon and s.ozon.client_id == client_id}
        self._woken |= named or {s.id for s in sellers}
        if self._woken_task is None or self._woken_task.done():
            self._woken_task = asyncio.get_running_loop().create_task(self._woken_passes())

    async def _woken_passes(self) -> None:
        while self._woken:
            woken, self._woken = self._woken, set()
            try:
                await self.tick(only=woken, wait=True)
            except Exception:  # a failed pass must not stop the next pushes
                log.exception("Ozon chats pass after a push failed")

    async def client_for(self, seller: Seller) -> OzonChatClient | None:
        """The seller's client; None while the seller is paused, or when its key
        variable is unset (said once in the log and to the admin chat, then paused)."""
        assert seller.ozon is not None
        if self._paused.get(seller.id, 0.0) > time.monotonic():
            return None
        key = self.env.get(seller.ozon.api_key_env, "").strip()
        if not key:
            log.error(
                "Ozon of %s: %s is not set; set it where the bot runs",
                seller.id,
                seller.ozon.api_key_env,
            )
            await self._tell(seller, "admin_ozon_no_key", var=seller.ozon.api_key_env)
            self._pause(seller)
            return None
        return await self._client(seller, key)

    async def refused(self, seller: Seller, key: str) -> None:
        """Ozon refused the seller's key or subscription: the admin chat hears (once a
        day) and the seller is left alone for :data:`PAUSE`."""
        await self._tell(seller, key)
        self._pause(seller)

    async def _seller(self, seller: Seller) -> int:
        client = await self.client_for(seller)
        if client is None:
            return 0
        try:
            sent = 0
            for chat in await client.unread_chats():
                if self._last_seen.get((seller.id, chat.chat_id)) == chat.last_message_id:
                    continue  # nothing new since the last look: left for staff
                messages = await client.messages_since(chat.chat_id, chat.first_unread_id)
                answered, settled = await self._chat(seller, client, chat.chat_id, messages)
                sent += answered
                if settled:  # an answer still unsettled brings the chat back next pass
                    self._last_seen[(seller.id, chat.chat_id)] = chat.last_message_id
            return sent
        except OzonAuthError as error:
            log.error("Ozon chats of %s: %s; check ozon.client_id and the key", seller.id, error)
            await self._tell(seller, "admin_ozon_key")
        except OzonDeniedError as error:
            log.error("Ozon chats of %s: %s (Premium Plus or Premium Pro?)", seller.id, error)
            await self._tell(seller, "admin_ozon_denied")
        except OzonApiError as error:
            log.warning("Ozon chats of %s: %s; trying again on the next pass", seller.id, error)
            return 0
        self._pause(seller)
        return 0

    async def _client(self, seller: Seller, key: str) -> OzonChatClient:
        assert seller.ozon is not None
        known = self._clients.get(seller.id)
        if known is not None and known[:2] == (seller.ozon.client_id, key):
            return known[2]
        if known is not None:
            await known[2].close()
        client = OzonChatClient(seller.ozon.client_id, key, self.api_url, rps=self.rps)
        self._clients[seller.id] = (seller.ozon.client_id, key, client)
        return client

    def _pause(self, seller: Seller) -> None:
        self._paused[seller.id] = time.monotonic() + PAUSE.total_seconds()

    async def _chat(
        self,
        seller: Seller,
        client: OzonChatClient,
        chat_id: str,
        messages: list[dict[str, Any]],
    ) -> tuple[int, bool]:
        """Answer the chat's new buyer messages; returns how many answers went, and
        whether every buyer message is settled (answered, or left for staff)."""
        from_buyer = [m for m in messages if is_buyer(m)]
        ids = [str(m.get("message_id")) for m in from_buyer]
        known = await self.db.run(lambda: self._known(seller.id, ids))
        now = utcnow()
        sent = 0
        for message in from_buyer:
            message_id = str(message.get("message_id"))
            state = known.get(message_id)
            if state is None:
                if _written_at(message) < now - REPLY_WINDOW:
                    continue  # past Ozon's reply windows: nothing can be sent
                sent += await self._new(seller, client, chat_id, message)
            elif state[0] == channels.ANSWERING and state[1] and state[2] < now - SETTLE_AFTER:
                sent += await self._settle(seller, client, chat_id, message, messages, state[1])
        # Read once every buyer message is answered or handed to staff's case; otherwise
        # it stays unread for staff in Ozon's cabinet.
        states = await self.db.run(lambda: self._known(seller.id, ids))
        done = (channels.ANSWERED, channels.CASE)
        if ids and all(i in states and states[i][0] in done for i in ids):
            await client.read(chat_id, ids[-1])
        settled = all(i not in states or states[i][0] != channels.ANSWERING for i in ids)
        return sent, settled

    def _known(self, seller_id: str, ids: list[str]) -> dict[str, tuple[str, str | None, datetime]]:
        with self.db.transaction() as session:
            return channels.taken(session, seller_id, ids)

    async def _new(
        self, seller: Seller, client: OzonChatClient, chat_id: str, message: dict[str, Any]
    ) -> int:
        message_id = str(message.get("message_id"))
        question = message_text(message)
        found = await asyncio.to_thread(self._answer, seller, question) if question else None
        answering = found is not None and found.action is Action.ANSWER
        order = str((message.get("context") or {}).get("order_number") or "").strip()

        def take() -> bool:
            with self.db.transaction() as session:
                in_case = ozon_cases.has_open_case(session, seller.id, chat_id)
                state = channels.ANSWERING if answering else channels.CASE
                head = found.text if found is not None and answering else None
                if not channels.take(session, seller.id, chat_id, message_id, state, head):
                    return False
                if not answering or in_case:
                    # For people: the chat's case in the staff group (opened now, or
                    # open already: staff read every message of the chat there).
                    ozon_cases.relay(
                        session,
                        self.ctx,
                        seller,
                        chat_id,
                        message_id,
                        question,
                        found.lang if found is not None else seller.default_language,
                        order or None,
                    )
                if found is not None:
                    # The chat's buyer (no Telegram id), so a request for a person in
                    # the same chat later counts against this answer (resolution).
                    _, buyer = channels.ozon_buyer(session, seller.id, chat_id, found.lang)
                    questions.log_question_id(
                        session,
                        seller_id=seller.id,
                        question=found.question,
                        action=found.action.value,
                        best_entry=found.best,
                        score=found.score,
                        lang=found.lang,
                        channel=questions.OZON_CHAT,
                        buyer_id=buyer.id,
                    )
                return True

        if not await self.db.run(take) or not answering or found is None:
            return 0
        return await self._send(seller, client, chat_id, message_id, found)

    def _answer(
        self, seller: Seller, question: str, offer_id: str | None = None, *, likely: bool = False
    ) -> Answer:
        """The FAQ's decision on an Ozon buyer's question (``offer_id``: the product it is
        about). ``text`` is the answer when the FAQ is sure, and with ``likely`` also the
        answer of the entry it only offers (a draft for staff)."""
        decision = self.ctx.faq.matcher(seller).decide(question, offer_id=offer_id)
        lang = decision.lang if decision.lang in seller.languages else seller.default_language
        best = decision.best
        entry = seller.entry(best.ref) if best is not None and not best.is_product else None
        action = decision.action
        if action is Action.ANSWER and ((entry is not None and entry.handoff) or decision.rest):
            action = Action.HANDOFF  # for a person: a hand-off entry, or a part unanswered
        answer = EntryAnswer("")
        wanted = (Action.ANSWER, Action.SUGGEST) if likely else (Action.ANSWER,)
        if action in wanted and best is not None:
            answer = self.ctx.faq.answer(seller, best.target, lang)
        return Answer(
            text=answer.text,
            links=answer.links,
            media=answer.media,
            question=question[:MAX_QUESTION_CHARS],
            action=action,
            best=best.target if best is not None else None,
            score=best.score if best is not None else None,
            lang=lang,
        )

    async def _send(
        self, seller: Seller, client: OzonChatClient, chat_id: str, message_id: str, answer: Answer
    ) -> int:
        try:
            for part in split_text(answer.chat_text()):
                await client.send(chat_id, part)
            for media in answer.media:
                await client.send_local_file(chat_id, media.path)
        except OzonRefusedError as error:
            # A closed reply window or a text Ozon will not take: trying again cannot
            # help; the message is left for staff (who see it unread in Ozon).
            log.warning("Ozon chat %s of %s: answer refused (%s)", chat_id, seller.id, error)
            await self.db.run(lambda: self._set(seller.id, message_id, channels.STAFF))
            return 0
        await self.db.run(lambda: self._set(seller.id, message_id, channels.ANSWERED))
        return 1

    async def _settle(
        self,
        seller: Seller,
        client: OzonChatClient,
        chat_id: str,
        message: dict[str, Any],
        messages: list[dict[str, Any]],
        head: str,
    ) -> int:
        """A message left ``answering``: done if its answer is in the chat after it,
        else sent again (the FAQ asked again: it may have changed meanwhile)."""
        message_id = str(message.get("message_id"))
        after = [m for m in messages if not is_buyer(m) and int(m["message_id"]) > int(message_id)]
        if any(message_text(m).startswith(head[:HEAD_CHARS].strip()) for m in after):
            await self.db.run(lambda: self._set(seller.id, message_id, channels.ANSWERED))
            return 0
        found = await asyncio.to_thread(self._answer, seller, message_text(message))
        if found.action is not Action.ANSWER:
            await self.db.run(lambda: self._set(seller.id, message_id, channels.STAFF))
            return 0
        return await self._send(seller, client, chat_id, message_id, found)

    def _set(self, seller_id: str, message_id: str, state: str) -> None:
        with self.db.transaction() as session:
            channels.set_state(session, seller_id, message_id, state)

    async def _tell(self, seller: Seller, key: str, **values: str) -> None:
        """One note a day to the admin chat about the seller's Ozon chats."""
        admin = self.ctx.admin_chat_id
        if admin is None:
            return
        day = utcnow().strftime("%Y%m%d")
        note = text(key, self.ctx.admin_language, shop=seller.name, **values)

        def queue() -> None:
            with self.db.transaction() as session:
                outgoing.send_text(
                    session,
                    chat_id=admin,
                    text=note,
                    side=outgoing.Side.ADMIN,
                    dedupe_key=f"ozon:{seller.id}:{key}:{day}",
                )

        await self.db.run(queue)


def _written_at(message: dict[str, Any]) -> datetime:
    raw = str(message.get("created_at") or "")
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return utcnow()  # no readable date: treat as new
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def online_problems(
    content: Content, api_url: str, env: Mapping[str, str] | None = None
) -> list[ContentProblem]:
    """``faq check --online``: for each seller with Ozon chats or product questions on,
    whether its key variable is set, Ozon takes the key, and the subscription lets the
    key read chats (when the seller has a chat to try it on) and product questions.
    Each problem names the ``ozon`` line."""
    env = env if env is not None else os.environ
    found: list[ContentProblem] = []
    for seller in content.sellers.values():
        link = seller.ozon
        if link is None or not (link.chats or link.questions):
            continue
        path = (seller.path / "seller.yaml") if seller.path else Path("seller.yaml")

        def problem(message: str, link: OzonLink = link, path: Path = path) -> ContentProblem:
            return ContentProblem(path, link.line or None, "ozon", message)

        key = env.get(link.api_key_env, "").strip()
        if not key:
            found.append(problem(f"{link.api_key_env} is not set: no key to ask Ozon with"))
            continue
        client = OzonChatClient(link.client_id, key, api_url)
        try:
            if link.chats:
                page = await client.post("/v3/chat/list", {"filter": {}, "limit": 1})
                chats = [c.get("chat") or {} for c in page.get("chats") or []]
                if chats and chats[0].get("chat_id"):
                    await client.post(
                        "/v3/chat/history", {"chat_id": chats[0]["chat_id"], "limit": 1}
                    )
            if link.questions:
                try:
                    await client.post(
                        "/v1/question/list", {"filter": {"status": "NEW"}, "last_id": ""}
                    )
                except OzonDeniedError as error:
                    found.append(
                        problem(f"the key may not read product questions: Premium Plus? ({error})")
                    )
        except OzonAuthError as error:
            found.append(problem(f"Ozon refused the Client-Id and key ({error})"))
        except OzonDeniedError as error:
            found.append(
                problem(f"the key may not read chats: Premium Plus or Premium Pro? ({error})")
            )
        except OzonApiError as error:
            found.append(problem(f"could not ask Ozon: {error}"))
        finally:
            await client.close()
    return found
