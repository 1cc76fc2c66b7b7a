"""Ozon product questions against the Ozon Seller API double: confident answers are
published once when the seller allows it, the rest go to staff as drafts that staff
send, rewrite by replying, or reject; a lost reply from Ozon doubles nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from sellerdesk.bot.channels import ozon_questions
from sellerdesk.bot.channels.ozon_chats import OzonChats
from sellerdesk.bot.channels.ozon_questions import OzonQuestions
from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.inbound import Incoming, Kind, Press
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.telegram_io.outbox.jobs import Job
from sellerdesk.bot.telegram_io.outbox.records import record_sent
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Content, OzonLink
from sellerdesk.faq.matching.decision import Action
from sellerdesk.storage.models import FaqQuestionLog, OutboxMessage, OzonQuestion
from sellerdesk.storage.repo import channels
from testing.ozonapi import OzonApiDouble

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"
SUPPORT = -1001000000001
STAFF = 700000101
KEY_VAR = "OZON_KEY_LOTUS"
KNOWN = "Сколько идет доставка?"
#: Out of the FAQ's scope, about a product the catalog does not list (no context).
UNSURE = "Можете сшить костюм на заказ для свадьбы?"
OTHER_SKU = 1450029999
DRESS_SKU = 1450023301


@pytest.fixture
def api() -> Iterator[OzonApiDouble]:
    with OzonApiDouble() as double:
        double.products[DRESS_SKU] = "LW-DRS-014"
        yield double


def _desk(tmp_path: Path, api: OzonApiDouble, *, auto: bool) -> OzonQuestions:
    demo = load_content(DEMO)
    link = OzonLink(api.client_id, KEY_VAR, chats=False, questions=True, questions_auto=auto)
    lotus = replace(demo.sellers["lotus-wear"], ozon=link)
    content = Content(sellers={lotus.id: lotus}, root=demo.root)
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    db.prepare()
    ctx = DeskContext(FaqAnswers(content, "fuzzy"), alias_key=b"k")
    chats = OzonChats(db, ctx, api.url, rps=1000, env={KEY_VAR: api.api_key})
    return OzonQuestions(db, ctx, chats, every=0)


def _tick(questions: OzonQuestions) -> int:
    async def run() -> int:
        try:
            return await questions.tick()
        finally:
            await questions.chats.close()

    return asyncio.run(run())


def _rows(questions: OzonQuestions) -> list[OzonQuestion]:
    with questions.db.transaction() as session:
        rows = list(session.scalars(select(OzonQuestion).order_by(OzonQuestion.id)))
        session.expunge_all()
        return rows


def _drafts(questions: OzonQuestions) -> list[OutboxMessage]:
    """The drafts shown to staff, each recorded as sent (message ids 500, 501...)."""
    with questions.db.transaction() as session:
        rows = [
            r
            for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            if "ozon_question" in r.payload
        ]
        for n, row in enumerate(rows):
            if row.sent_message_ids:
                continue
            job = Job(row.id, row.kind, row.chat_id, None, row.payload, 1, None, None)
            row.status, row.claimed_by = "sending", "w"  # type: ignore[assignment]
            session.flush()
            record_sent(session, job, [500 + n], "w")
        session.expunge_all()
        return rows


def test_a_confident_answer_is_published_once(tmp_path: Path, api: OzonApiDouble) -> None:
    questions = _desk(tmp_path, api, auto=True)
    asked = api.buyer_asks(DRESS_SKU, KNOWN)
    assert _tick(questions) == 1
    [answer] = api.answers_to(asked)
    assert answer == _rows(questions)[0].answer and "дн" in answer
    assert _tick(questions) == 0 and len(api.answers_to(asked)) == 1
    with questions.db.transaction() as session:
        logged = session.scalars(select(FaqQuestionLog)).all()
        assert [(q.channel, q.action) for q in logged] == [("ozon_question", "answer")]


def test_a_likely_product_answer_is_a_draft_found_through_the_sku(
    tmp_path: Path, api: OzonApiDouble
) -> None:
    questions = _desk(tmp_path, api, auto=True)
    api.buyer_asks(DRESS_SKU, "Какая длина платья?")
    assert _tick(questions) == 0 and api.answered == []  # offered, not sure: staff decide
    [draft] = _drafts(questions)
    assert "115 см" in draft.payload["text"]  # this dress's card, found through its SKU
    assert _rows(questions)[0].offer_id == "LW-DRS-014"


def test_without_automatic_answers_staff_send_the_draft(tmp_path: Path, api: OzonApiDouble) -> None:
    questions = _desk(tmp_path, api, auto=False)
    asked = api.buyer_asks(DRESS_SKU, KNOWN)
    assert _tick(questions) == 0 and api.answered == []
    [draft] = _drafts(questions)
    assert draft.chat_id == SUPPORT and KNOWN in draft.payload["text"]
    send, reject = (b[1] for b in draft.payload["buttons"][0])
    row_id = _rows(questions)[0].id
    assert send == f"oq:send:{row_id}" and reject == f"oq:reject:{row_id}"
    # Someone who is not the seller's staff cannot send it.
    press = Press(update_id=1, chat_id=SUPPORT, user_id=42, message_id=500, data=send)
    assert questions.press(press).remove_buttons is False
    result = questions.press(replace(press, update_id=2, user_id=STAFF))
    assert result.remove_buttons
    assert _tick(questions) == 1
    assert api.answers_to(asked) == [_rows(questions)[0].answer]
    # A second press (another staff member, a stale button) publishes nothing more.
    again = questions.press(replace(press, update_id=3, user_id=STAFF))
    assert again.remove_buttons and _tick(questions) == 0 and len(api.answered) == 1


def test_staff_answer_a_question_the_faq_cannot_by_replying_to_it(
    tmp_path: Path, api: OzonApiDouble
) -> None:
    questions = _desk(tmp_path, api, auto=True)
    asked = api.buyer_asks(OTHER_SKU, UNSURE)
    assert _tick(questions) == 0
    [draft] = _drafts(questions)
    assert [b[1] for b in draft.payload["buttons"][0]] == [f"oq:reject:{_rows(questions)[0].id}"]

    def reply(body: str, update_id: int, kind: Kind = Kind.TEXT) -> bool:
        msg = Incoming(
            update_id=update_id,
            chat_id=SUPPORT,
            user_id=STAFF,
            message_id=600 + update_id,
            kind=kind,
            body=body,
            reply_to=500,
            reply_to_bot=True,
        )
        with questions.db.transaction() as session:
            return questions.staff_reply(session, msg)

    assert reply("!", 1)  # too short for Ozon: staff are told, nothing approved
    assert reply("", 2, Kind.MEDIA)
    assert _rows(questions)[0].state == channels.Q_DRAFT
    assert reply("Да, шьём по меркам: напишите нам в чат.", 3)
    assert _tick(questions) == 1
    assert api.answers_to(asked) == ["Да, шьём по меркам: напишите нам в чат."]
    assert reply("Ещё ответ", 4)  # decided already: told so, nothing published
    assert _tick(questions) == 0 and len(api.answered) == 1
    with questions.db.transaction() as session:
        notes = [
            r.payload["text"]
            for r in session.scalars(select(OutboxMessage))
            if r.payload.get("side") == Side.STAFF.value and r.payload.get("reply_to")
        ]
    assert len(notes) == 5  # two bad answers, sending, published, decided


def test_a_rejected_question_is_left_alone(tmp_path: Path, api: OzonApiDouble) -> None:
    questions = _desk(tmp_path, api, auto=False)
    api.buyer_asks(DRESS_SKU, KNOWN)
    _tick(questions)
    [draft] = _drafts(questions)
    reject = draft.payload["buttons"][0][1][1]
    press = Press(update_id=1, chat_id=SUPPORT, user_id=STAFF, message_id=500, data=reject)
    assert questions.press(press).remove_buttons
    # A forged press naming the same question from another chat changes nothing.
    forged = replace(press, update_id=2, chat_id=-100999, data=f"oq:send:{_rows(questions)[0].id}")
    assert questions.press(forged).notice is None
    assert _tick(questions) == 0 and api.answered == []
    assert _rows(questions)[0].state == channels.Q_REJECTED


def test_a_lost_reply_from_ozon_is_settled_from_the_questions_answers(
    tmp_path: Path, api: OzonApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = _desk(tmp_path, api, auto=True)
    first = api.buyer_asks(DRESS_SKU, KNOWN)
    second = api.buyer_asks(DRESS_SKU, "Какой срок доставки до пункта выдачи?")
    api.lose_answer_replies = 1  # published, but the desk hears a 500
    assert _tick(questions) == 0
    assert len(api.answers_to(first)) == 1 and _rows(questions)[0].state == channels.Q_ANSWERING
    assert _tick(questions) == 1  # the other one goes; the first is too young to settle
    monkeypatch.setattr(ozon_questions, "SETTLE_AFTER", ozon_questions.SETTLE_AFTER * 0)
    assert _tick(questions) == 0
    assert len(api.answers_to(first)) == 1 and len(api.answers_to(second)) == 1
    assert {r.state for r in _rows(questions)} == {channels.Q_ANSWERED}


def test_questions_on_every_page_are_taken_once_and_odd_ones_lose_nothing(
    tmp_path: Path, api: OzonApiDouble
) -> None:
    questions = _desk(tmp_path, api, auto=True)
    for n in range(5):
        api.buyer_asks(DRESS_SKU + n, KNOWN)  # SKUs the catalog does not know: no context
    api.buyer_asks(DRESS_SKU, "   ")
    api.fail_next(503)
    assert _tick(questions) == 5
    assert len(api.answered) == 5 and len(_rows(questions)) == 6
    assert _tick(questions) == 0 and len(api.answered) == 5
    blank = _rows(questions)[-1]
    assert blank.state == channels.Q_DRAFT and blank.answer is None


def test_no_premium_is_told_once_and_pauses_the_seller(tmp_path: Path, api: OzonApiDouble) -> None:
    questions = _desk(tmp_path, api, auto=True)
    questions.ctx = replace(questions.ctx, admin_chat_id=-1009)
    questions.chats.ctx = questions.ctx
    api.premium = False
    api.buyer_asks(DRESS_SKU, KNOWN)
    assert _tick(questions) == 0
    assert _tick(questions) == 0  # paused: not asked again
    asked = [p for p, _ in api.requests if p == "/v1/question/list"]
    assert len(asked) == 1
    with questions.db.transaction() as session:
        notes = [r.payload["text"] for r in session.scalars(select(OutboxMessage))]
    assert len(notes) == 1 and "Premium Plus" in notes[0]


def test_product_questions_are_decided_as_a_question_from_the_products_card(
    tmp_path: Path, api: OzonApiDouble
) -> None:
    """A product question is matched exactly as the bot's chat matches a question asked
    from the product's deep link, so its accuracy is the chat matcher's with context:
    checked on the demo's product questions (the dev split)."""
    questions = _desk(tmp_path, api, auto=True)
    seller = questions.ctx.content.sellers["lotus-wear"]
    matcher = questions.ctx.faq.matcher(seller)
    dev = DEMO.parent / "eval" / "lotus-wear-context.dev.jsonl"
    cases = [json.loads(line) for line in dev.read_text("utf-8").splitlines() if line.strip()]
    assert len(cases) >= 10
    for case in cases:
        decision = matcher.decide(case["text"], offer_id=case.get("offer"))
        action, best, _, _, answer = questions._decide(seller, case["text"], case.get("offer"))
        assert best == (decision.best.target if decision.best else None), case["text"]
        if decision.action is Action.SUGGEST:
            assert action is Action.SUGGEST and answer is not None  # a draft for staff
