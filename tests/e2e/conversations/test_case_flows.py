"""Case conversations over real HTTP: ways into a case, what the buyer sends, what
staff do in the topic."""

from __future__ import annotations

import asyncio
import shutil
from functools import partial
from pathlib import Path

from sqlalchemy import select

from sellerdesk.bot.desk.flood import BURST_LIMIT
from sellerdesk.faq.content.loader import load_content
from sellerdesk.storage.models import Case, CaseEvent, CaseStatus
from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage, TopicRecord
from tests.e2e.harness import BUYER, DEMO, STAFF, SUPPORT, Desk, open_db, run_desk, settings_for

HANDOFF = "Можете сшить костюм на заказ для свадьбы?"


def _is_copy_of(message: StoredMessage, source: tuple[int, int]) -> bool:
    return message.copied_from == source


def shows_handoff(message: StoredMessage) -> bool:
    """The buyer's first question in the topic: the new case's card carries it whole
    (no separate copy), as ``Вопрос: ...``."""
    return HANDOFF in (message.text or "")


async def open_case(desk: Desk) -> TopicRecord:
    """The buyer starts the demo seller and is handed to staff; returns the topic."""
    await desk.buyer_asks("/start lotus-wear")
    desk.buyer_says(HANDOFF)
    await desk.buyer_gets()  # the case number and its deadline
    topic = await desk.topic()
    await desk.in_topic(topic.thread_id, shows_handoff)
    return topic


def test_a_new_case_costs_two_calls_into_the_group(api: BotApiDouble, tmp_path: Path) -> None:
    """The topic and the card, which shows the buyer's question whole: no copy of it
    (the group's allowance is 20 messages a minute)."""

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        await asyncio.sleep(0.3)
        into_group = [
            method
            for method, params in desk.api.calls
            if params.get("chat_id") == SUPPORT
            and method != "getChatMember"
            and method != "getChat"
        ]
        assert into_group == ["createForumTopic", "sendMessage"]
        # A question too long for the card's subject is copied as before.
        desk.buyer_says("и ещё: " + "очень подробно " * 30)
        await desk.in_topic(topic.thread_id, lambda m: m.copied_from is not None)

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_talk_to_a_person_after_an_answer(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        question = desk.buyer_says("Сколько идет доставка?")
        answer = await desk.buyer_gets()
        human = answer.buttons[1]["callback_data"]
        assert human.startswith("human:lotus-wear:")
        desk.api.user_presses_button(BUYER, answer, human)
        opened = await desk.buyer_gets()
        assert opened.text is not None and opened.text.startswith("Обращение №1")
        topic = await desk.topic()
        assert "доставка" in topic.name
        copy = await desk.in_topic(topic.thread_id, lambda m: m.copied_from is not None)
        assert copy.copied_from == (BUYER, question.message_id)
        card = await desk.in_topic(topic.thread_id, lambda m: "Обращение №1" in (m.text or ""))
        assert "delivery-time" in (card.text or "")  # the entry that came close
        # Pressing it again does not open a second case.
        desk.api.user_presses_button(BUYER, answer, human, forged=True)
        again = await desk.buyer_gets()
        assert again.text is not None and "уже открыто" in again.text
        assert len(desk.api.topics(SUPPORT)) == 1

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_handoff_entry_answers_then_opens_a_case(api: BotApiDouble, tmp_path: Path) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    defect = seller.entry("defective-item")
    assert defect is not None and defect.handoff

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says("Пришел товар с браком, порвана подошва")
        answer = await desk.buyer_gets()
        assert answer.text == defect.answer["ru"]
        opened = await desk.buyer_gets()
        assert opened.text is not None and opened.text.startswith("Обращение №1")
        topic = await desk.topic()
        card = await desk.in_topic(topic.thread_id, lambda m: "Обращение №1" in (m.text or ""))
        assert "Бот ответил: defective-item" in (card.text or "")

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_every_kind_of_buyer_message_reaches_the_topic(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        sent = [
            desk.api.user_sends_document(BUYER, "invoice.pdf", caption="накладная"),
            desk.api.user_sends_voice(BUYER),
            desk.api.user_sends_video(BUYER, "видео"),
            desk.api.user_sends_sticker(BUYER),
            desk.api.user_sends_location(BUYER),
        ]
        album = desk.api.user_sends_album(BUYER, 3, caption="три фото")
        for message in sent:
            source = (BUYER, message.message_id)
            copy = await desk.in_topic(topic.thread_id, partial(_is_copy_of, source=source))
            assert copy.kind == message.kind
        album_ids = {(BUYER, a.message_id) for a in album}

        def album_copies() -> list[StoredMessage]:
            found = [
                m
                for m in desk.api.messages_in(SUPPORT, topic.thread_id)
                if m.copied_from in album_ids
            ]
            return found if len(found) == 3 else []

        copies = await desk.wait(album_copies)
        # One album in the topic, in order, the caption on its first item.
        assert len({m.media_group_id for m in copies}) == 1 and copies[0].media_group_id
        assert [m.copied_from[1] for m in copies] == [a.message_id for a in album]
        assert copies[0].caption == "три фото"
        assert len(desk.api.calls_to("copyMessages")) == 1
        # Order of arrival is kept: the document first, the album last.
        in_topic = [m for m in desk.api.messages_in(SUPPORT, topic.thread_id) if m.copied_from]
        assert [m.kind for m in in_topic] == [
            "document",
            "voice",
            "video",
            "sticker",
            "location",
            "photo",
            "photo",
            "photo",
        ]

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_staff_album_reaches_the_buyer_as_an_album(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        group = "77"
        for caption in ("первое", None):
            with desk.api._cond:  # a staff album: two photos sharing a media group id
                chat, user = desk.api._group_member(SUPPORT, STAFF)
                files = desk.api._create_files("photo", b"img", None, None)
                desk.api._incoming(
                    chat,
                    user,
                    "photo",
                    caption=caption,
                    files=files,
                    thread_id=topic.thread_id,
                    media_group_id=group,
                )
        photos = await desk.wait(
            lambda: (
                [m for m in desk.buyer_messages() if m.kind == "photo"][1:]
                and [m for m in desk.buyer_messages() if m.kind == "photo"]
            )
        )
        assert len(photos) == 2 and photos[0].media_group_id == photos[1].media_group_id
        assert photos[0].caption == "первое"

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_claim_note_templates_button_reopen_and_case_list(
    api: BotApiDouble, tmp_path: Path
) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        thread = topic.thread_id
        card = await desk.in_topic(thread, lambda m: "Обращение №1" in (m.text or ""))
        claim = card.buttons[0]["callback_data"]
        press = desk.api.member_presses_button(SUPPORT, STAFF, card, claim)
        await desk.in_topic(thread, lambda m: "взял(а)" in (m.text or ""))
        await desk.wait(lambda: desk.api.callback_query(press.id).answered)
        other = desk.api.member_presses_button(SUPPORT, 700000102, card, claim)
        await desk.wait(lambda: desk.api.callback_query(other.id).answered)
        answer = desk.api.callback_query(other.id).answer or {}
        assert answer.get("text") == "Обращение уже взял другой сотрудник."

        note = desk.api.member_sends_command(SUPPORT, STAFF, "note", "проверить склад", thread)
        saved = await desk.in_topic(thread, lambda m: "Заметка сохранена" in (m.text or ""))
        assert saved.reply_to == note.message_id

        desk.api.member_presses_button(SUPPORT, STAFF, card, card.buttons[2]["callback_data"])
        menu = await desk.in_topic(thread, lambda m: bool(m.buttons) and m is not card)
        send = next(b for b in menu.buttons if b["text"] == "closing-thanks")
        desk.api.member_presses_button(SUPPORT, STAFF, menu, send["callback_data"])
        thanks = await desk.buyer_gets()
        assert thanks.text is not None and thanks.text.startswith("Спасибо, что выбрали")

        desk.api.member_sends_command(SUPPORT, STAFF, "t", "no-such", thread)
        await desk.in_topic(thread, lambda m: "Нет шаблона «no-such»" in (m.text or ""))
        # "/t" alone: the menu of quick replies again, not "no template «»".
        menus = len([m for m in desk.api.messages_in(SUPPORT, thread) if m.buttons])
        desk.api.member_sends_command(SUPPORT, STAFF, "t", "", thread)
        await desk.wait(
            lambda: len([m for m in desk.api.messages_in(SUPPORT, thread) if m.buttons]) > menus
        )
        assert not [m for m in desk.api.messages_in(SUPPORT, thread) if "«»" in (m.text or "")]

        desk.api.member_presses_button(SUPPORT, STAFF, card, card.buttons[1]["callback_data"])
        await desk.buyer_gets()  # the rating request
        await desk.wait(lambda: desk.api.topics(SUPPORT)[0].closed)
        desk.staff_says("ещё одно", thread)
        await desk.in_topic(thread, lambda m: "покупатель этого не получил" in (m.text or ""))
        desk.api.member_sends_command(SUPPORT, STAFF, "reopen", "", thread)
        reopened = await desk.buyer_gets()
        assert reopened.text == "Обращение №1 снова открыто."
        await desk.wait(
            lambda: (
                desk.api.topics(SUPPORT)[0].name.startswith("#1 · ")
                and not desk.api.topics(SUPPORT)[0].closed
            )
        )

        cases = await desk.buyer_asks("/cases")
        assert cases.text is not None and "#1 · Lotus Wear · открыто" in cases.text

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        kinds = [e.kind for e in session.query(CaseEvent).order_by(CaseEvent.id)]
        assert kinds == ["opened", "claimed", "note", "closed", "reopened"]
        assert session.query(Case).one().status is CaseStatus.OPEN


def test_buyer_reply_to_a_closed_case_continues_it(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        desk.staff_says("Да, можем", topic.thread_id)
        answer = await desk.buyer_gets()
        desk.api.member_sends_command(SUPPORT, STAFF, "close", "", topic.thread_id)
        await desk.buyer_gets()
        desk.buyer_says("А сколько это стоит?", reply_to=answer.message_id)
        await desk.in_topic(topic.thread_id, lambda m: "снова открыто" in (m.text or ""))
        copy = await desk.in_topic(topic.thread_id, lambda m: m.text == "А сколько это стоит?")
        staff_answer = desk.api.messages_in(SUPPORT, topic.thread_id, from_bot=None)
        staff_message = next(m for m in staff_answer if m.text == "Да, можем")
        assert copy.reply_to == staff_message.message_id  # threads to the staff message
        assert len(desk.api.topics(SUPPORT)) == 1

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_plain_group_mode(api: BotApiDouble, tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(DEMO, content)
    seller_yaml = content / "lotus-wear" / "seller.yaml"
    seller_yaml.write_text(
        seller_yaml.read_text(encoding="utf-8").replace("topics: true", "topics: false"),
        encoding="utf-8",
    )

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says(HANDOFF)
        await desk.buyer_gets()
        copy = await desk.in_topic(None, shows_handoff)
        assert desk.api.topics(SUPPORT) == []
        card = await desk.in_topic(None, lambda m: "Обращение №1" in (m.text or ""))
        assert "ответ (reply)" in (card.text or "").lower() or "reply" in (card.text or "")
        # A reply to the copy goes to the buyer, as a reply to their question.
        desk.staff_says("Да, шьём по меркам", None, reply_to=copy.message_id)
        answer = await desk.buyer_gets()
        assert answer.text == "Да, шьём по меркам"
        # A reply to the card works too; a message replying to nothing gets a hint.
        desk.staff_says("Пришлите мерки", None, reply_to=card.message_id)
        assert (await desk.buyer_gets()).text == "Пришлите мерки"
        loose = desk.staff_says("кто-нибудь видел заказ?", None)
        hint = await desk.in_topic(None, lambda m: m.reply_to == loose.message_id)
        assert hint.text is not None and "ответьте (reply)" in hint.text
        assert (await desk.buyer_gets(0)).text == "Пришлите мерки"  # nothing more reached them

    settings = settings_for(api, tmp_path, content_dir=content)
    run_desk(api, settings, scenario, content_dir=content)


def test_hints_for_general_and_topics_that_are_no_case(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        await open_case(desk)
        general = desk.staff_says("Всем привет", None)
        hint = await desk.in_topic(None, lambda m: m.reply_to == general.message_id)
        assert hint.text is not None and hint.text.startswith("Здесь нет обращения")
        other = desk.api.add_topic(SUPPORT, "Болталка")
        chat = desk.staff_says("обед?", other.thread_id)
        await desk.in_topic(other.thread_id, lambda m: m.reply_to == chat.message_id)
        command = desk.api.member_sends_command(SUPPORT, STAFF, "close", "", other.thread_id)
        await desk.in_topic(other.thread_id, lambda m: m.reply_to == command.message_id)
        # One hint per place and hour: a second message in General gets none.
        desk.staff_says("ещё раз привет", None)
        desk.buyer_says("жду ответа")  # something that surely gets through afterwards
        await desk.in_topic(None, lambda m: m.text == "жду ответа")
        assert len([m for m in desk.api.messages_in(SUPPORT, None) if m.thread_id is None]) == 1
        assert not any(
            m.kind != "text" or "Здесь нет" in (m.text or "") for m in desk.buyer_messages()[3:]
        )

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_only_staff_act_on_cases(api: BotApiDouble, tmp_path: Path) -> None:
    outsider = 800000001

    async def scenario(desk: Desk) -> None:
        desk.api.set_member_status(SUPPORT, outsider, "member")
        topic = await open_case(desk)
        message = desk.staff_says("Я не сотрудник, но отвечу", topic.thread_id, user=outsider)
        hint = await desk.in_topic(topic.thread_id, lambda m: m.reply_to == message.message_id)
        assert hint.text == "Действовать в обращениях могут только сотрудники магазина."
        card = await desk.in_topic(topic.thread_id, lambda m: "Обращение №1" in (m.text or ""))
        press = desk.api.member_presses_button(
            SUPPORT, outsider, card, card.buttons[1]["callback_data"]
        )
        await desk.wait(lambda: desk.api.callback_query(press.id).answered)
        assert (desk.api.callback_query(press.id).answer or {}).get("text") == hint.text
        assert not desk.api.topics(SUPPORT)[0].closed
        assert all("не сотрудник" not in (m.content or "") for m in desk.buyer_messages())

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_language_choice_and_product_link(api: BotApiDouble, tmp_path: Path) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    product = seller.products[0]
    delivery = seller.entry("delivery-time")
    assert delivery is not None
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        welcome = await desk.buyer_asks(f"/start lotus-wear__{product.offer_id}")
        assert welcome.text is not None and product.name in welcome.text
        menu = await desk.buyer_asks("/language")
        desk.api.user_presses_button(BUYER, menu, "lang:en")
        assert (await desk.buyer_gets()).text == "Language: English."
        answer = await desk.buyer_asks("Сколько идет доставка?")
        assert answer.text == delivery.answer["en"]  # the choice wins over the text's language
        # Asked from the dress's page, the dress is offered; the buyer wants a person.
        offer = await desk.buyer_asks(HANDOFF)
        human = offer.buttons[-1]["callback_data"]
        assert human.startswith("human:lotus-wear:")
        desk.api.user_presses_button(BUYER, offer, human)
        await desk.buyer_gets()
        topic = await desk.topic()
        card = await desk.in_topic(topic.thread_id, lambda m: "Обращение №1" in (m.text or ""))
        assert product.name in (card.text or "") and "Язык: en" in (card.text or "")

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        assert session.query(Case).one().offer_id == product.offer_id


def test_an_faq_question_is_answered_while_a_case_is_open(
    api: BotApiDouble, tmp_path: Path
) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    delivery = seller.entry("delivery-time")
    assert delivery is not None

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        question = desk.buyer_says("Сколько идет доставка?")
        answer = await desk.buyer_gets()
        assert answer.text == delivery.answer["ru"]
        assert answer.reply_to == question.message_id
        # Staff see the question, as always, and what the bot answered.
        await desk.in_topic(topic.thread_id, lambda m: m.text == "Сколько идет доставка?")
        note = await desk.in_topic(
            topic.thread_id, lambda m: (m.text or "").startswith("Бот ответил на это из FAQ")
        )
        assert note is not None
        # Words for staff get no answer from the bot.
        desk.buyer_says("Жду ответа по поводу костюма")
        await desk.in_topic(topic.thread_id, lambda m: m.text == "Жду ответа по поводу костюма")
        await asyncio.sleep(0.3)
        # The greeting, the case number, the answer: nothing more.
        assert len(desk.buyer_messages()) == 3

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_a_burst_of_lines_in_a_case_is_for_staff_not_the_faq(
    api: BotApiDouble, tmp_path: Path
) -> None:
    """Lines typed one after another ("и ещё...") are not each a question: past the
    burst limit even an FAQ question among them goes to staff only."""

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        before = len(desk.buyer_messages())
        lines = [f"и ещё {n}" for n in range(BURST_LIMIT)] + ["Сколько идет доставка?"]
        for line in lines:
            desk.buyer_says(line)
        await desk.in_topic(topic.thread_id, lambda m: lines[-1] in (m.text or ""))
        await asyncio.sleep(0.3)
        assert len(desk.buyer_messages()) == before  # no answer among them

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_a_buyer_closes_their_own_case(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        rate = await desk.buyer_asks("/close")
        assert (rate.text or "").startswith("Обращение №1 закрыто")
        assert len(rate.buttons) == 5  # 1-5 stars
        await desk.in_topic(topic.thread_id, lambda m: "закрыто (покупатель)" in (m.text or ""))
        none = await desk.buyer_asks("/close")
        assert none.text == "У вас нет открытого обращения в этом магазине."

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        assert session.scalars(select(Case.status)).one() is CaseStatus.CLOSED


def test_a_closed_cases_card_loses_its_buttons(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)

        def is_card(m: StoredMessage) -> bool:
            return any(b["callback_data"].startswith("claim:") for b in m.buttons)

        card = await desk.in_topic(topic.thread_id, is_card)
        claim = next(b["callback_data"] for b in card.buttons if "claim:" in b["callback_data"])
        desk.api.member_sends_command(SUPPORT, STAFF, "close", "", topic.thread_id)
        await desk.buyer_gets()  # the rating request
        pressed = desk.api.member_presses_button(SUPPORT, STAFF, card, claim)
        answered = await desk.wait(lambda: desk.api.callback_query(pressed.id).answer)
        assert "/reopen" in str(answered.get("text"))

        def shown() -> StoredMessage:
            found = desk.api.messages_in(SUPPORT, topic.thread_id)
            return next(m for m in found if m.message_id == card.message_id)

        await desk.wait(lambda: shown().buttons == [])

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_staff_answer_with_one_tap_on_an_faq_entry_that_came_close(
    api: BotApiDouble, tmp_path: Path
) -> None:
    """The card offers the entries that came close; a press sends that entry's answer
    to the buyer in their language, stops the reply clock, and staff see what went."""
    settings = settings_for(api, tmp_path)
    seller = load_content(DEMO).sellers["lotus-wear"]

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        offered = await desk.buyer_asks("Какие размеры есть?")
        human = offered.buttons[-1]["callback_data"]
        desk.api.user_presses_button(BUYER, offered, human)
        await desk.buyer_gets()  # the case number
        topic = await desk.topic()
        card = await desk.in_topic(topic.thread_id, lambda m: bool(m.buttons))
        taps = [b for b in card.buttons if b["text"].startswith("↩")]
        assert taps and all(b["callback_data"].startswith("fsend:") for b in taps)
        target = taps[0]["callback_data"].split(":", 2)[2]
        desk.api.member_presses_button(SUPPORT, STAFF, card, taps[0]["callback_data"])
        sent = await desk.buyer_gets()
        entry = seller.entry(target)
        assert entry is not None and sent.content == entry.answer["ru"]
        # The entry's files go with it: the size chart is a photo, the answer its caption.
        assert sent.kind == ("photo" if entry.media else "text")
        await desk.in_topic(
            topic.thread_id, lambda m: "FAQ" in (m.text or "") and "↩" not in (m.text or "")
        )
        # A forged target (not in the FAQ) sends nothing.
        forged = f"fsend:{taps[0]['callback_data'].split(':')[1]}:no-such-entry"
        press = desk.api.member_presses_button(SUPPORT, STAFF, card, forged, forged=True)
        await desk.wait(lambda: desk.api.callback_query(press.id).answered)
        assert len(desk.buyer_messages()) == desk.seen

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        case = session.scalars(select(Case)).one()
        assert case.first_staff_reply_at is not None and case.awaiting_reply_since is None
