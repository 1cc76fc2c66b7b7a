"""Which waiting rows fold into a claimed buyer text, and which keep their own send."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

from sqlalchemy import select

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.outgoing import MESSAGE_CHARS, Side
from sellerdesk.bot.telegram_io.outbox.folding import fold_into_card, fold_waiting
from sellerdesk.storage.models import Direction, OutboxMessage
from sellerdesk.storage.repo import buyers, cases, outbox
from sellerdesk.storage.types import utcnow

GROUP = -1001000000001
BUYER_CHAT = 5001
#: No seller known: times are shown in UTC.
NO_SELLERS = cast(DeskContext, SimpleNamespace(seller=lambda seller_id: None))


def two_cases(tmp_path: Path) -> tuple[Database, int, int]:
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    db.prepare()
    with db.transaction() as session:
        buyer = buyers.get_or_create_buyer(session, BUYER_CHAT)
        one, _ = cases.open_case(session, buyer_id=buyer.id, seller_id="shop")
        other = buyers.get_or_create_buyer(session, BUYER_CHAT + 1)
        two, _ = cases.open_case(session, buyer_id=other.id, seller_id="shop")
        return db, one.id, two.id


def _copy(db: Database, case_id: int, message_id: int, text: str | None, **extra: object) -> None:
    with db.transaction() as session:
        outgoing.copy_messages(
            session,
            chat_id=GROUP,
            from_chat_id=BUYER_CHAT,
            message_ids=[message_id],
            side=Side.STAFF,
            case_id=case_id,
            record=Direction.TO_STAFF,
            text=text,
            **extra,  # type: ignore[arg-type]
        )


def _claim_and_fold(db: Database) -> tuple[OutboxMessage, int, list[OutboxMessage]]:
    with db.transaction() as session:
        [head] = outbox.claim_batch(session, "worker", limit=1)
        carried = fold_waiting(session, head, NO_SELLERS, utcnow())
        rest = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return head, carried, rest


def test_plain_texts_of_one_case_fold_until_something_else_waits(tmp_path: Path) -> None:
    db, case, other_case = two_cases(tmp_path)
    for n, text in enumerate(["первое", "второе", "третье"], start=1):
        _copy(db, case, n, text)
    _copy(db, case, 4, None)  # a photo: its own copy, and the fold stops before it
    _copy(db, case, 5, "после фото")
    _copy(db, other_case, 6, "другой покупатель")
    head, carried, rest = _claim_and_fold(db)
    assert carried == 2
    lines = head.payload["folded_text"].split("\n")
    assert [line.split(" · ", 1)[1] for line in lines] == ["первое", "второе", "третье"]
    assert all(line[:5].replace(":", "").isdigit() for line in lines)  # "HH:MM · "
    assert head.payload["message_ids"] == [1, 2, 3]
    # The photo, the text after it and the other case's text wait as they were.
    assert [r.payload["message_ids"] for r in rest] == [[1, 2, 3], [4], [5], [6]]


def test_a_case_folds_past_another_cases_rows(tmp_path: Path) -> None:
    """Several buyers writing at once interleave in the group's queue; each case's
    texts fold together, the other case's rows keep their own order."""
    db, case, other_case = two_cases(tmp_path)
    _copy(db, case, 1, "a1")
    _copy(db, other_case, 2, "b1")
    _copy(db, case, 3, "a2")
    _copy(db, other_case, 4, "b2")
    _copy(db, case, 5, "a3")
    head, carried, rest = _claim_and_fold(db)
    assert carried == 2 and head.payload["message_ids"] == [1, 3, 5]
    assert [r.payload["message_ids"] for r in rest] == [[1, 3, 5], [2], [4]]


def test_a_reply_keeps_its_own_copy_and_a_fold_stays_under_telegrams_limit(
    tmp_path: Path,
) -> None:
    db, case, _ = two_cases(tmp_path)
    _copy(db, case, 1, "раз")
    _copy(db, case, 2, "ответ на фото", reply_ref=(BUYER_CHAT, 1))
    head, carried, _ = _claim_and_fold(db)
    assert carried == 0 and "folded_text" not in head.payload
    db2, case2, _ = two_cases(tmp_path / "long")
    for n in range(1, 4):
        _copy(db2, case2, n, "x" * 2000)
    head, carried, rest = _claim_and_fold(db2)
    assert carried == 1 and len(head.payload["folded_text"]) <= MESSAGE_CHARS
    assert [r.payload["message_ids"] for r in rest] == [[1, 2], [3]]


def test_staff_texts_to_a_buyer_fold_as_paragraphs(tmp_path: Path) -> None:
    """Staff's short messages waiting for the buyer's paced private chat: one message,
    each of staff's messages a paragraph, in order, no times."""
    db, case, _other = two_cases(tmp_path)
    with db.transaction() as session:
        for n, text in enumerate(["Здравствуйте!", "Заказ в пути.", "Будет завтра."], 1):
            outgoing.copy_messages(
                session,
                chat_id=BUYER_CHAT,
                from_chat_id=GROUP,
                message_ids=[n],
                side=Side.BUYER,
                case_id=case,
                record=Direction.TO_BUYER,
                text=text,
            )
    head, carried, rest = _claim_and_fold(db)
    assert carried == 2
    assert head.payload["folded_text"] == "Здравствуйте!\n\nЗаказ в пути.\n\nБудет завтра."
    assert head.payload["message_ids"] == [1, 2, 3] and len(rest) == 1


def test_a_new_cases_card_carries_the_lines_written_before_it_went(tmp_path: Path) -> None:
    """The card shows the first question; lines the buyer wrote while it waited join
    it, each with its time, escaped: the case opens in two sends."""
    db, case, other_case = two_cases(tmp_path)
    with db.transaction() as session:
        outgoing.send_text(
            session,
            chat_id=GROUP,
            text="<b>Case #1</b>\nQuestion: первое",
            side=Side.STAFF,
            case_id=case,
            html=True,
            buttons=[[("Claim", "claim:1")]],
            record=Direction.SYSTEM,
            carries=(BUYER_CHAT, 1),
        )
    _copy(db, case, 2, "второе <и> третье")
    _copy(db, other_case, 3, "другой покупатель")
    _copy(db, case, 4, "четвёртое")
    _copy(db, case, 5, None)  # a photo keeps its own copy
    with db.transaction() as session:
        [head] = outbox.claim_batch(session, "worker", limit=1)
        carried = fold_into_card(session, head, NO_SELLERS, utcnow())
        rest = [r.payload.get("message_ids") for r in session.scalars(select(OutboxMessage))]
    assert carried == 2
    lines = head.payload["text"].split("\n")
    assert lines[:2] == ["<b>Case #1</b>", "Question: первое"]
    assert [line.split(" · ", 1)[1] for line in lines[2:]] == [
        "второе &lt;и&gt; третье",
        "четвёртое",
    ]
    assert head.payload["carries_more"] == [2, 4] and head.payload["buttons"]
    assert rest == [None, [3], [5]]
