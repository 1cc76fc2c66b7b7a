"""Ozon product questions: the public questions under a product card, answered from the
seller's FAQ and product descriptions.

For each seller whose seller.yaml has ``ozon`` with ``questions: true``, every
``OZON_QUESTIONS_POLL_SECONDS`` the desk lists the questions Ozon calls new
(``/v1/question/list``, every page; no push exists for questions). Each question not
seen before is matched with its product as context: the question's Ozon SKU is mapped
to the catalog's offer id through ``/v3/product/info/list``. Then:

* a confident answer, when the seller allows it (``questions_auto: true``), is
  published at once (``/v1/question/answer/create``);
* otherwise the question goes to the seller's staff group as a draft: the answer of
  the FAQ entry or product the matcher found (sure, or offered as a likely one) with
  Send / Reject buttons, or, with nothing found, the question alone. Staff send
  the draft, or reply to the draft's message with their own text, which is published
  instead; Reject leaves the question to Ozon's cabinet;
* every question is logged (channel ``ozon_question``), so ``faq gaps``, the digest and
  ``sellerdesk stats`` count the unanswered ones.

An answer is published once: its row is ``answering`` before the call and ``answered``
after; a row left ``answering`` (a crash mid-call, a lost reply) is settled after a
minute from the question's answers (``/v1/question/answer/list``): there (done) or
sent again. Answers are public on the product page, under the shop's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from html import escape
from typing import Any

from sqlalchemy.orm import Session

from sellerdesk.bot.channels.ozon_chats import OzonChats
from sellerdesk.bot.channels.ozon_client import (
    OzonApiError,
    OzonAuthError,
    OzonChatClient,
    OzonDeniedError,
    OzonRefusedError,
)
from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.inbound import Incoming, Kind, Press, PressResult
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import pick_language, text
from sellerdesk.faq.content.model import Seller
from sellerdesk.faq.matching.decision import Action
from sellerdesk.storage.models import OzonQuestion
from sellerdesk.storage.repo import channels, questions, updates
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: Callback data prefix of the draft's buttons: ``oq:<send|reject>:<row id>``.
BUTTON = "oq"
SEND = "send"
REJECT = "reject"
#: Ozon's bounds on an answer's text.
ANSWER_MIN_CHARS = 2
ANSWER_MAX_CHARS = 3000
#: An answer left ``answering`` this long is settled from the question's answers.
SETTLE_AFTER = timedelta(seconds=60)
#: A question shown to staff is cut to this many characters (Telegram's limit is 4,096).
QUESTION_SHOWN_CHARS = 1500
HEAD_CHARS = 50


class OzonQuestions:
    """Product questions of every seller that has them on."""

    def __init__(self, db: Database, ctx: DeskContext, chats: OzonChats, every: float) -> None:
        self.db = db
        self.ctx = ctx
        #: The Ozon chats side: its clients, key checks, pauses and admin notes are shared.
        self.chats = chats
        self.every = every
        self._last: dict[str, float] = {}
        self._offers: dict[str, dict[int, str | None]] = {}
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wanted: set[str] = set()

    # ------------------------------------------------------------------ the pass

    async def tick(self, force: bool = False) -> int:
        """Publish what is approved and look for new questions (each seller at most
        every ``every`` seconds, unless ``force`` or staff just approved one); returns
        how many answers were published."""
        self._loop = asyncio.get_running_loop()
        if self._lock.locked():
            return 0
        async with self._lock:
            published = 0
            wanted, self._wanted = self._wanted, set()
            for seller in list(self.ctx.content.sellers.values()):
                if seller.ozon is None or not seller.ozon.questions:
                    continue
                due = time.monotonic() - self._last.get(seller.id, -1e9) >= self.every
                if not (force or due or seller.id in wanted):
                    continue
                client = await self.chats.client_for(seller)
                if client is None:
                    continue
                self._last[seller.id] = time.monotonic()
                try:
                    if due or force:
                        await self._new_questions(seller, client)
                    published += await self._publish(seller, client)
                except OzonAuthError as error:
                    log.error("Ozon questions of %s: %s", seller.id, error)
                    await self.chats.refused(seller, "admin_ozon_key")
                except OzonDeniedError as error:
                    log.error("Ozon questions of %s: %s (Premium Plus?)", seller.id, error)
                    await self.chats.refused(seller, "admin_ozon_questions_denied")
                except OzonApiError as error:
                    log.warning("Ozon questions of %s: %s; next pass", seller.id, error)
            return published

    def request_pass(self, seller_id: str) -> None:
        """Staff approved an answer: publish it now rather than at the next poll (from
        any thread)."""
        self._wanted.add(seller_id)
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(lambda: loop.create_task(self.tick()))

    async def _new_questions(self, seller: Seller, client: OzonChatClient) -> None:
        listed = await client.new_questions()
        ids = [str(q["id"]) for q in listed]
        known = await self.db.run(self._known, seller.id, ids)
        fresh = [q for q in listed if str(q["id"]) not in known]
        if not fresh:
            return
        offers = await self._offers_of(seller, client, [_sku(q) for q in fresh])
        for item in fresh:
            sku = _sku(item)
            offer = offers.get(sku)
            question = str(item.get("text") or "").strip()
            decided = await asyncio.to_thread(self._decide, seller, question, offer)
            await self.db.run(self._take, seller, item, sku, offer, question, decided)

    def _known(self, seller_id: str, ids: list[str]) -> set[str]:
        with self.db.transaction() as session:
            return channels.questions_known(session, seller_id, ids)

    async def _offers_of(
        self, seller: Seller, client: OzonChatClient, skus: list[int]
    ) -> dict[int, str | None]:
        """The catalog's offer id of each SKU (None: not the seller's, or unknown)."""
        cache = self._offers.setdefault(seller.id, {})
        missing = sorted({s for s in skus if s and s not in cache})
        if missing:
            found = await client.offers_of(missing)
            for sku in missing:
                offer = found.get(sku)
                cache[sku] = offer if offer and seller.product(offer) is not None else None
        return {s: cache.get(s) for s in skus}

    def _decide(
        self, seller: Seller, question: str, offer: str | None
    ) -> tuple[Action, str | None, float | None, str, str | None]:
        """(action, best target, score, language, the answer of the best candidate when
        the matcher answers or offers it: a draft for staff, published by itself only
        when the action is ``answer``)."""
        if not question:
            return Action.HANDOFF, None, None, seller.default_language, None
        found = self.chats._answer(seller, question[:1000], offer, likely=True)
        answer = found.text[:ANSWER_MAX_CHARS] or None
        return found.action, found.best, found.score, found.lang, answer

    def _take(
        self,
        seller: Seller,
        item: dict[str, Any],
        sku: int,
        offer: str | None,
        question: str,
        decided: tuple[Action, str | None, float | None, str, str | None],
    ) -> None:
        """Record a new question, log it, and either approve the FAQ's answer (automatic
        answers on) or show staff the draft, in one transaction."""
        action, best, score, lang, answer = decided
        auto = (
            seller.ozon is not None
            and seller.ozon.questions_auto
            and action is Action.ANSWER
            and answer is not None
        )
        with self.db.transaction() as session:
            row = channels.take_question(
                session,
                seller.id,
                str(item["id"]),
                sku=sku,
                offer_id=offer,
                answer=answer,
                entry=best,
                state=channels.Q_APPROVED if auto else channels.Q_DRAFT,
                staff_chat_id=None if auto else seller.support_chat_id,
            )
            if row is None:
                return  # another process took it first
            questions.log_question_id(
                session,
                seller_id=seller.id,
                question=question or "—",
                action=action.value,
                best_entry=best,
                score=score,
                lang=lang,
                channel=questions.OZON_QUESTION,
            )
            if not auto:
                self._draft(session, seller, row, item, question)

    def _draft(
        self,
        session: Session,
        seller: Seller,
        row: OzonQuestion,
        item: dict[str, Any],
        question: str,
    ) -> None:
        lang = pick_language(seller.staff_language, seller.default_language)
        product = seller.product(row.offer_id) if row.offer_id else None
        about = product.name if product else f"SKU {row.sku}"
        shown = (
            question
            if len(question) <= QUESTION_SHOWN_CHARS
            else question[:QUESTION_SHOWN_CHARS] + "…"
        )
        parts = [text("staff_ozon_question", lang, product=escape(about), question=escape(shown))]
        link = str(item.get("question_link") or item.get("product_url") or "")
        if link.startswith("https://"):
            parts.append(escape(link))
        buttons: list[list[tuple[str, str]]] = []
        if row.answer:
            label = self.ctx.faq.label(seller, row.entry, lang) if row.entry else ""
            parts.append(
                text("staff_ozon_draft", lang, entry=escape(label), answer=escape(row.answer))
            )
            buttons = [
                [
                    (text("button_ozon_send", lang), f"{BUTTON}:{SEND}:{row.id}"),
                    (text("button_ozon_reject", lang), f"{BUTTON}:{REJECT}:{row.id}"),
                ]
            ]
        else:
            parts.append(text("staff_ozon_no_draft", lang))
            buttons = [[(text("button_ozon_reject", lang), f"{BUTTON}:{REJECT}:{row.id}")]]
        outgoing.send_text(
            session,
            chat_id=seller.support_chat_id,
            text="\n\n".join(parts),
            side=Side.STAFF,
            html=True,
            buttons=buttons,
            dedupe_key=f"ozq:{row.id}",
            ozon_question=row.id,
        )

    async def _publish(self, seller: Seller, client: OzonChatClient) -> int:
        rows = await self.db.run(self._sendable, seller.id)
        published = 0
        for row_id, question_id, sku, answer, state in rows:
            if state == channels.Q_ANSWERING:
                there = await client.question_answers(question_id, sku)
                head = answer[:HEAD_CHARS].strip()
                if any(a.strip().startswith(head) for a in there):
                    await self.db.run(self._set, row_id, channels.Q_ANSWERED)
                    continue
            if not await self.db.run(self._begin, row_id):
                continue  # another process is publishing it
            try:
                await client.answer_question(question_id, sku, answer)
            except OzonRefusedError as error:
                log.warning("Ozon question %s of %s: refused (%s)", question_id, seller.id, error)
                await self.db.run(self._refused, seller, row_id, str(error))
                continue
            await self.db.run(self._done, seller, row_id)
            published += 1
        return published

    def _sendable(self, seller_id: str) -> list[tuple[int, str, int, str, str]]:
        with self.db.transaction() as session:
            rows = channels.questions_to_publish(session, seller_id, utcnow() - SETTLE_AFTER)
            return [(r.id, r.question_id, r.sku, r.answer or "", r.state) for r in rows]

    def _begin(self, row_id: int) -> bool:
        with self.db.transaction() as session:
            return channels.begin_publishing(session, row_id)

    def _set(self, row_id: int, state: str) -> None:
        with self.db.transaction() as session:
            channels.set_question_state(session, row_id, state)

    def _done(self, seller: Seller, row_id: int) -> None:
        with self.db.transaction() as session:
            row = channels.set_question_state(session, row_id, channels.Q_ANSWERED)
            if row is not None and row.staff_message_id is not None:
                self._note(session, seller, row, "staff_ozon_published")

    def _refused(self, seller: Seller, row_id: int, error: str) -> None:
        with self.db.transaction() as session:
            row = channels.set_question_state(session, row_id, channels.Q_FAILED)
            if row is not None and row.staff_chat_id is not None:
                self._note(session, seller, row, "staff_ozon_refused", error=error[:300])

    def _note(
        self, session: Session, seller: Seller, row: OzonQuestion, key: str, **values: str
    ) -> None:
        """A note to staff under the question's draft message."""
        assert row.staff_chat_id is not None
        outgoing.send_text(
            session,
            chat_id=row.staff_chat_id,
            text=text(key, pick_language(seller.staff_language, seller.default_language), **values),
            side=Side.STAFF,
            reply_to=row.staff_message_id,
        )

    # ------------------------------------------------------------------ staff

    def press(self, press: Press) -> PressResult:
        """Send or Reject under a draft; only the seller's staff, in the chat of the draft."""
        _, action, raw_id = [*press.data.split(":"), "", ""][:3]
        with self.db.transaction() as session:
            if not updates.mark_processed(session, press.update_id):
                return PressResult()
            row = channels.get_question(session, int(raw_id)) if raw_id.isdigit() else None
            seller = self.ctx.seller(row.seller_id) if row else None
            if row is None or seller is None or row.staff_chat_id != press.chat_id:
                return PressResult()
            lang = pick_language(seller.staff_language, seller.default_language)
            if not self.ctx.is_staff(seller, press.user_id, press.chat_id):
                return PressResult(text("staff_not_staff", lang))
            if row.state != channels.Q_DRAFT:
                return PressResult(text("staff_ozon_decided", lang), remove_buttons=True)
            if action == SEND and row.answer:
                channels.decide_question(
                    session, row, channels.Q_APPROVED, row.answer, press.user_id
                )
                notice = text("staff_ozon_sending", lang)
            elif action == REJECT:
                channels.decide_question(session, row, channels.Q_REJECTED, None, press.user_id)
                notice = text("staff_ozon_rejected", lang)
            else:
                return PressResult()
        if action == SEND:
            self.request_pass(seller.id)
        return PressResult(notice, remove_buttons=True)

    def staff_reply(self, session: Session, msg: Incoming) -> bool:
        """A staff reply to a question's draft message is the answer to publish; True
        when the message was one (the staff side then does nothing more with it)."""
        if msg.reply_to is None or msg.edited:
            return False
        row = channels.question_by_message(session, msg.chat_id, msg.reply_to)
        seller = self.ctx.seller(row.seller_id) if row else None
        if row is None or seller is None:
            return False
        lang = pick_language(seller.staff_language, seller.default_language)

        def note(key: str, **values: str) -> None:
            outgoing.send_text(
                session,
                chat_id=msg.chat_id,
                text=text(key, lang, **values),
                side=Side.STAFF,
                reply_to=msg.message_id,
            )

        answer = msg.body.strip()
        if not self.ctx.is_staff(seller, msg.user_id, msg.chat_id):
            note("staff_not_staff")
        elif row.state not in (channels.Q_DRAFT, channels.Q_REJECTED, channels.Q_FAILED):
            note("staff_ozon_decided")
        elif msg.kind is not Kind.TEXT or not ANSWER_MIN_CHARS <= len(answer) <= ANSWER_MAX_CHARS:
            note("staff_ozon_bad_answer", low=str(ANSWER_MIN_CHARS), high=str(ANSWER_MAX_CHARS))
        else:
            channels.decide_question(session, row, channels.Q_APPROVED, answer, msg.user_id)
            note("staff_ozon_sending")
            # Published by a pass that starts once this is committed (it must see it).
            seller_id = seller.id
            session.info.setdefault(outgoing.AFTER_COMMIT_KEY, []).append(
                lambda: self.request_pass(seller_id)
            )
        return True


def _sku(item: dict[str, Any]) -> int:
    raw = str(item.get("sku") or "0")
    return int(raw) if raw.isdigit() else 0
