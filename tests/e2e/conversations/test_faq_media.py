"""FAQ answers with files and link buttons: the demo's size chart reaches the buyer as
one photo with the answer as its caption; files go up once and are re-sent by file id;
albums, PDFs, long answers, a stale file id and a file gone meanwhile."""

from __future__ import annotations

import re
import shutil
import zlib
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from sellerdesk.bot.telegram_io.outbox import jobs as outbox_jobs
from sellerdesk.faq.content.loader import load_content
from sellerdesk.storage.models import MediaUpload
from sellerdesk.storage.types import utcnow
from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage
from tests.e2e.harness import BUYER, DEMO, Desk, open_db, run_desk, settings_for

SIZE_QUESTION = "Покажите размерную сетку"
OTHER_BUYER = BUYER + 11


def png(width: int, height: int) -> bytes:
    """A small valid PNG (one grey pixel row repeated)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def add_to_entry(faq: Path, entry: str, lines: str) -> None:
    """Put ``lines`` (keys of the entry, indented by four) right under ``- id: entry``."""
    text = faq.read_text("utf-8")
    marker = f"  - id: {entry}\n"
    assert marker in text
    faq.write_text(text.replace(marker, marker + lines), "utf-8")


def test_the_size_chart_goes_as_one_photo_with_the_answer_and_is_uploaded_once(
    api: BotApiDouble, tmp_path: Path
) -> None:
    api.add_user(OTHER_BUYER, "Vera", language_code="ru")
    settings = settings_for(api, tmp_path)
    entry = load_content(DEMO).sellers["lotus-wear"].entry("size-chart")
    assert entry is not None and entry.media and entry.buttons
    answer = entry.answer["ru"]

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        reply = await desk.buyer_asks(SIZE_QUESTION)
        # One message: the chart, the answer as its caption, the buttons under it.
        assert reply.kind == "photo" and reply.caption == answer
        urls = [b.get("url") for b in reply.buttons]
        assert "https://www.ozon.ru/seller/lotus-wear/" in urls
        assert {b.get("callback_data", "").split(":")[0] for b in reply.buttons} >= {"helped"}
        assert len(desk.buyer_messages()) == 2  # the greeting and the answer
        # "Helped" takes its buttons away; the link stays under the chart.
        helped = next(b for b in reply.buttons if b.get("callback_data", "").startswith("helped"))
        press = api.user_presses_button(BUYER, reply, helped["callback_data"])
        await desk.wait(lambda: api.callback_query(press.id).answered)

        def links_left() -> bool:
            buttons = api.message(BUYER, reply.message_id).buttons
            return [b.get("url") for b in buttons] == ["https://www.ozon.ru/seller/lotus-wear/"]

        await desk.wait(links_left)
        other = Desk(api, buyer=OTHER_BUYER)
        await other.buyer_asks("/start lotus-wear")
        again = await other.buyer_asks(SIZE_QUESTION)
        assert again.kind == "photo" and again.file_id == reply.file_id

    run_desk(api, settings, scenario)
    sent = [call["photo"] for call in api.calls_to("sendPhoto")]
    assert len(sent) == 2
    # The first answer uploaded the file; the second sent Telegram's id of it.
    assert not isinstance(sent[0], str) or sent[0].startswith("attach://")
    assert isinstance(sent[1], str) and not sent[1].startswith("attach://")
    with open_db(settings) as session:
        assert len(session.scalars(select(MediaUpload)).all()) == 1


def test_albums_pdfs_and_long_answers_keep_the_buttons_under_the_text(
    api: BotApiDouble, tmp_path: Path
) -> None:
    content = tmp_path / "sellers"
    shutil.copytree(DEMO, content)
    folder = content / "lotus-wear"
    (folder / "care").mkdir()
    (folder / "care" / "wash.png").write_bytes(png(40, 30))
    (folder / "care" / "iron.jpg").write_bytes(png(30, 40))  # a PNG named .jpg: a picture
    (folder / "certificate.pdf").write_bytes(b"%PDF-1.4\n% a certificate\n")
    faq = folder / "faq.yaml"
    add_to_entry(faq, "fabric-care", "    media: [care/wash.png, care/iron.jpg]\n")
    add_to_entry(faq, "quality-certificates", "    media: [certificate.pdf]\n")
    long_answer = "Уход за изделием. " * 70  # over a caption's 1,024 characters
    text = faq.read_text("utf-8")
    text = re.sub(
        r"(  - id: customs-duties\n(?:    .*\n|      .*\n)*?    answer:\n      ru: ).*\n",
        lambda m: m.group(1) + f"'{long_answer.strip()}'\n",
        text,
        count=1,
    )
    faq.write_text(text, "utf-8")
    add_to_entry(faq, "customs-duties", "    media: [care/wash.png]\n")
    settings = settings_for(api, tmp_path, content_dir=content)

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says("Как стирать и гладить вещи?")
        album = await desk.buyer_gets(2)
        assert album.kind == "photo" and album.media_group_id is not None
        text_after = await desk.buyer_gets()
        assert text_after.text and "helped" in str(text_after.reply_markup)
        desk.buyer_says("Есть ли сертификаты качества?")
        document = await desk.buyer_gets()
        assert document.kind == "document" and document.caption
        assert "helped" in str(document.reply_markup)
        desk.buyer_says("Нужно ли платить таможенную пошлину?")
        photo = await desk.buyer_gets()
        assert photo.kind == "photo" and not photo.caption
        rest = await desk.buyer_gets()
        assert rest.text == long_answer.strip() and "helped" in str(rest.reply_markup)

    run_desk(api, settings, scenario, content_dir=content)
    # wash.png went up once, with the album; the answer carrying it later sent its id.
    (alone,) = api.calls_to("sendPhoto")
    assert isinstance(alone["photo"], str) and not alone["photo"].startswith("attach://")


def test_a_stale_file_id_is_replaced_and_a_file_gone_leaves_the_answer(
    api: BotApiDouble, tmp_path: Path
) -> None:
    content = tmp_path / "sellers"
    shutil.copytree(DEMO, content)
    settings = settings_for(api, tmp_path, content_dir=content)
    entry = load_content(content).sellers["lotus-wear"].entry("size-chart")
    assert entry is not None
    digest = entry.media[0].digest

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        with open_db(settings) as session:
            # An id from another bot token: Telegram refuses it.
            session.merge(
                MediaUpload(
                    digest=digest,
                    kind="photo",
                    file_id="AgACAgIAAxkBAAIBOGZz-another-bot",
                    used_at=utcnow(),
                )
            )
            session.commit()
        reply = await desk.buyer_asks(SIZE_QUESTION)
        assert reply.kind == "photo" and reply.caption

        def stored() -> list[str]:
            with open_db(settings) as session:
                ids = session.scalars(select(MediaUpload.file_id)).all()
            return [i for i in ids if i == reply.file_id]

        assert await desk.wait(stored)  # the refused id was replaced by the new one
        # The chart is deleted from the folder and its id forgotten: the answer still
        # goes, as text.
        (content / "lotus-wear" / "size-chart.png").unlink()
        with open_db(settings) as session:
            session.execute(delete(MediaUpload))
            session.commit()
        gone = await desk.buyer_asks(SIZE_QUESTION)
        assert gone.kind == "text" and gone.text == reply.caption

    run_desk(api, settings, scenario, content_dir=content)


def test_a_chart_that_landed_unanswered_is_not_kept_twice(
    api: BotApiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection breaks after Telegram took the photo: the sender tries again,
    finds the earlier one and deletes the repeat (as for texts, see outbox.first_copy)."""
    monkeypatch.setattr(outbox_jobs, "BACKOFF_BASE_S", 0.05)
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        api.fail("sendPhoto", drop_connection=True, after_effect=True)
        desk.buyer_says(SIZE_QUESTION)

        def photos() -> list[StoredMessage]:
            found = api.messages_in(BUYER, include_deleted=True)
            return [m for m in found if m.kind == "photo"]

        await desk.wait(lambda: [m for m in photos() if m.deleted], 10)
        kept = [m for m in photos() if not m.deleted]
        assert len(photos()) == 2 and len(kept) == 1 and kept[0].caption

    run_desk(api, settings, scenario)
