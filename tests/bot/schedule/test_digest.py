"""The daily digest: due at the seller's local hour, sent once per day even by two
sweepers, with the right figures and the unanswered questions grouped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.schedule.digest import DigestSweep
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Content
from sellerdesk.storage.models import OutboxMessage, QuestionOutcome
from sellerdesk.storage.repo import buyers, questions, sellers
from sellerdesk.storage.repo import cases as cases_repo

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"
SELLER = "lotus-wear"
#: 09:30 in Moscow (UTC+3): past the seller's 09:00 digest hour.
NOW = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)
H = timedelta(hours=1)


def _desk(tmp_path: Path) -> tuple[Database, DeskContext]:
    content = load_content(DEMO)
    seller = replace(content.sellers[SELLER], timezone="Europe/Moscow", digest_hour=9)
    content = Content(sellers={SELLER: seller}, root=content.root)
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    db.prepare()
    return db, DeskContext(faq=FaqAnswers(content, "fuzzy"), alias_key=b"k")


def _seed(db: Database) -> None:
    with db.transaction() as session:
        sellers.mark_seller_seen(session, SELLER, NOW - 5 * 24 * H)

        def case(telegram_id: int, opened: datetime) -> int:
            buyer = buyers.get_or_create_buyer(session, telegram_id)
            found, _ = cases_repo.open_case(
                session, buyer_id=buyer.id, seller_id=SELLER, subject="q", now=opened
            )
            return found.id

        overdue = case(1, NOW - 30 * H)
        cases_repo.start_reply_clock(session, overdue, NOW - 30 * H)  # 24 h deadline: missed
        waiting = case(2, NOW - H)
        cases_repo.start_reply_clock(session, waiting, NOW - H)
        for telegram_id, closed_at, rating in ((3, NOW - 2 * H, 5), (4, NOW - 3 * H, 4)):
            closed = case(telegram_id, closed_at - H)
            cases_repo.close_case(session, closed, actor="staff:1", now=closed_at)
            cases_repo.rate_case(session, closed, rating, now=closed_at)
        old = case(5, NOW - 80 * H)  # closed and rated days ago: not in the digest
        cases_repo.close_case(session, old, actor="staff:1", now=NOW - 72 * H)
        cases_repo.rate_case(session, old, 1, now=NOW - 72 * H)
        for question, action, at in (
            ("Где мой заказ?", "handoff", NOW - 5 * H),
            ("Можно ли оплатить криптовалютой?", "handoff", NOW - 4 * H),
            ("подскажите где заказ мой", "suggest", NOW - 3 * H),
            ("Какой размер выбрать?", "answer", NOW - 2 * H),  # answered: not a gap
            ("Есть ли рассрочка?", "handoff", NOW - 50 * H),  # another day
        ):
            questions.log_question(
                session, seller_id=SELLER, question=question, action=action, now=at
            )


def _digests(db: Database) -> list[OutboxMessage]:
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id.is_(None)))
        return [row for row in rows if str(row.dedupe_key or "").startswith("digest:")]


def test_digest_is_sent_once_with_the_right_figures(tmp_path: Path) -> None:
    db, ctx = _desk(tmp_path)
    try:
        _seed(db)
        first, second = DigestSweep(db, ctx), DigestSweep(db, ctx)
        assert first.tick(NOW - 31 * timedelta(minutes=1)) == 0  # 08:59 Moscow: not yet
        assert first.tick(NOW) + second.tick(NOW) == 1
        assert second.tick(NOW + H) == 0 and first.tick(NOW + 2 * H) == 0
        [digest] = _digests(db)
        body = digest.payload["text"]
        assert digest.chat_id == ctx.content.sellers[SELLER].support_chat_id
        assert "26.11.2026" in body
        assert "Открытых обращений: 2" in body
        assert "Просрочено: 1" in body
        assert "Закрыто за сутки: 2" in body
        assert "Средняя оценка за сутки: 4.5 (2)" in body
        assert "FAQ не ответил на 3 вопрос(ов)" in body
        lines = body.splitlines()
        gaps = [line for line in lines if line.startswith("• ")]
        assert gaps == ["• Где мой заказ? ×2", "• Можно ли оплатить криптовалютой? ×1"]
        # The next local day gets its own digest.
        assert first.tick(NOW + 24 * H) == 1
        assert len(_digests(db)) == 2
    finally:
        db.dispose()


def test_no_digest_for_a_day_the_desk_started_after_the_hour(tmp_path: Path) -> None:
    db, ctx = _desk(tmp_path)
    try:
        with db.transaction() as session:
            sellers.mark_seller_seen(session, SELLER, NOW - 10 * timedelta(minutes=1))
        assert DigestSweep(db, ctx).tick(NOW) == 0
        assert DigestSweep(db, ctx).tick(NOW + 24 * H) == 1
    finally:
        db.dispose()


def test_every_staff_group_of_the_seller_gets_the_digest(tmp_path: Path) -> None:
    from sellerdesk.faq.content.model import SupportChat

    db, ctx = _desk(tmp_path)
    seller = ctx.content.sellers[SELLER]
    more = replace(seller, support_chats=(SupportChat(-1001000000002, ("zh",)),))
    ctx = DeskContext(
        faq=FaqAnswers(Content(sellers={SELLER: more}, root=ctx.content.root), "fuzzy"),
        alias_key=b"k",
    )
    try:
        _seed(db)
        assert DigestSweep(db, ctx).tick(NOW) == 1
        assert DigestSweep(db, ctx).tick(NOW) == 0  # once a day, in each group
        digests = _digests(db)
        assert sorted(row.chat_id for row in digests) == sorted(more.staff_chat_ids)
        assert len({row.payload["text"] for row in digests}) == 1  # the whole shop's figures
    finally:
        db.dispose()


def test_digest_reports_reply_times_csat_reopens_and_faq_answers(tmp_path: Path) -> None:
    from sellerdesk.faq.content.hours import WorkingHours

    db, ctx = _desk(tmp_path)
    # Staff work 09:00-18:00 Moscow time, Monday to Friday.
    office = WorkingHours(week=(((9 * 60, 18 * 60),),) * 5 + ((), ()), timezone="Europe/Moscow")
    seller = replace(ctx.content.sellers[SELLER], hours=office)
    ctx = DeskContext(
        faq=FaqAnswers(Content(sellers={SELLER: seller}, root=ctx.content.root), "fuzzy"),
        alias_key=b"k",
    )
    try:
        _seed(db)
        with db.transaction() as session:

            def case(telegram_id: int, opened: datetime) -> int:
                buyer = buyers.get_or_create_buyer(session, telegram_id)
                found, _ = cases_repo.open_case(
                    session, buyer_id=buyer.id, seller_id=SELLER, subject="q", now=opened
                )
                return found.id

            def answer(telegram_id: int, at: datetime) -> int:
                return questions.log_question_id(
                    session,
                    seller_id=SELLER,
                    question="q",
                    action="answer",
                    now=at,
                    buyer_id=buyers.get_or_create_buyer(session, telegram_id).id,
                )

            # 23:00 Moscow on Wednesday, answered 09:15 on Thursday: 10 h 15 min, of
            # which 15 working minutes.
            night = case(20, NOW - 10.5 * H)
            cases_repo.record_staff_reply(session, night, NOW - 0.25 * H)
            # FAQ answers of the day before: one confirmed, one assumed, one followed by a
            # case an hour later (closed by staff, then reopened by its buyer's reply).
            questions.record_outcome(session, answer(21, NOW - 30 * H), QuestionOutcome.HELPED)
            answer(22, NOW - 40 * H)
            answer(23, NOW - 30 * H)
            asked = case(23, NOW - 29 * H)
            cases_repo.close_case(session, asked, actor="staff:1", now=NOW - 20 * H)
            cases_repo.reopen_case(session, asked, actor="buyer", now=NOW - 5 * H)
        assert DigestSweep(db, ctx).tick(NOW) == 1
        [digest] = _digests(db)
        body = digest.payload["text"]
        assert (
            "Первый ответ: медиана 10h15m, p90 10h15m; в рабочее время: медиана 15m00s, p90 15m00s"
            in body
        )
        # Ratings 5 and 4 of the day; three closings asked for one, two were rated.
        assert "CSAT (оценки 4–5): 100%; оценили 67% (2 из 3)" in body
        assert "Переоткрыто за сутки: 1" in body
        assert (
            "Ответы FAQ за предыдущие сутки: решено 67% из 3 "
            "(подтверждено 1, предположительно 1, не решено 1)" in body
        )
    finally:
        db.dispose()
