"""How many SQL statements the busiest updates run, on SQLite and PostgreSQL.

Each statement costs the bot's CPU (SQLAlchemy's work around it) and, on PostgreSQL,
a round trip, so these counts decide how many answers one process gives a second. The
bounds are the counts the desk reaches now: a change that adds a statement to an FAQ
answer or a relay fails here and has to say why. BEGIN is not counted (SQLite's comes
from the engine's own hook, PostgreSQL's from the driver).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.buyers import BuyerConversation
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.inbound import Incoming, Kind
from sellerdesk.faq.content.loader import load_content
from sellerdesk.storage.models import Case, OutboxKind, OutboxMessage, OutboxStatus, ReminderStatus
from sellerdesk.storage.repo import cases, outbox, reminders
from testing.postgres import pg_schema
from tests.storage.conftest import BACKENDS

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"
SELLER = "lotus-wear"
BUYER = 5001
QUESTION = "Сколько идет доставка?"
NEEDS_A_PERSON = "Хочу поговорить с человеком, заказ 12345678-0001 пришёл сломанным"
WORKER = "worker"

#: An FAQ answer: claim the update, the buyer with their open case and return flow,
#: the question log, the answer.
FAQ_STATEMENTS = 4
#: A buyer's first message: as above, and the buyer is made.
FIRST_MESSAGE_STATEMENTS = 5
#: A message for an open case whose reply clock runs: claim the update, the buyer with
#: the case, the copy to the topic, the note on the case.
RELAY_STATEMENTS = 4
#: Recording a sent answer.
SENT_STATEMENTS = 1
#: A question the FAQ leaves to a person: claim the update, the buyer with the case,
#: the question log, the "a person will answer" note; the case check, its number, the
#: case (in the staff chat, its reply clock running), its event, its reminders (one
#: INSERT), the buyer's alias (looked up, made); the topic, the card (which carries the
#: buyer's question whole: no copy of it), the note to the buyer; the note on the case.
CASE_OPENING_STATEMENTS = 15


class Recorder:
    """The statements run on an engine while recording, BEGIN left out."""

    def __init__(self, db: Database) -> None:
        self.statements: list[str] = []
        self.on = False
        event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.on and not statement.lstrip().upper().startswith("BEGIN"):
            self.statements.append(" ".join(statement.split()))

    def count(self, work: Any, *args: Any) -> list[str]:
        self.statements, self.on = [], True
        try:
            work(*args)
        finally:
            self.on = False
        return self.statements


class Desk:
    """A buyer desk on a real database, its answers handed to a stand-in sender."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.db.prepare()
        self.handed: list[OutboxMessage] = []
        self.db.handoff = outgoing.Handoff(
            WORKER, timedelta(seconds=60), self.handed.extend, lambda _chats: None
        )
        content = load_content(DEMO)
        ctx = DeskContext(FaqAnswers(content, matcher="fuzzy"), alias_key=b"test-key")
        self.desk = BuyerConversation(self.db, ctx)
        self.recorder = Recorder(self.db)
        self.update_id = 0

    def says(self, text: str, user: int = BUYER, message_id: int = 1) -> list[str]:
        self.update_id += 1
        msg = Incoming(self.update_id, user, user, message_id, Kind.TEXT, text, user_lang="ru")
        return self.recorder.count(self.desk.message, msg)

    def start(self, user: int = BUYER) -> None:
        self.update_id += 1
        msg = Incoming(
            self.update_id,
            user,
            user,
            0,
            Kind.TEXT,
            f"/start {SELLER}",
            command="start",
            args=SELLER,
        )
        self.desk.start(msg)
        self.record_sent()

    def record_sent(self) -> list[str]:
        """Record the handed rows as sent, as the sender does after the send."""
        rows, self.handed[:] = list(self.handed), []

        def work() -> None:
            with self.db.transaction() as session:
                for row in rows:
                    assert outbox.mark_sent(session, row.id, WORKER, [1000 + row.id])

        return self.recorder.count(work)

    def open_case(self) -> Case:
        with self.db.transaction() as session:
            found = session.scalars(select(Case)).one()
            session.expunge(found)
            return found


@contextmanager
def desk_on(backend: str, tmp_path: Path, schema: str) -> Iterator[Desk]:
    """A :class:`Desk` on ``backend``: a SQLite file in ``tmp_path``, or a PostgreSQL
    ``schema`` of its own."""
    if backend == "sqlite":
        made = Desk(f"sqlite:///{tmp_path / 'desk.db'}")
        yield made
        made.db.dispose()
        return
    with pg_schema(schema) as url:
        made = Desk(url.render_as_string(hide_password=False))
        yield made
        made.db.dispose()


@pytest.fixture(params=BACKENDS)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    with desk_on(request.param, tmp_path, "sdstmt") as made:
        yield made


def test_an_faq_answer_runs_four_statements(desk: Desk) -> None:
    desk.start()
    statements = desk.says(QUESTION, message_id=2)
    assert len(statements) <= FAQ_STATEMENTS, statements
    [answer] = desk.handed
    assert answer.status is OutboxStatus.SENDING and answer.claimed_by == WORKER
    delivery = load_content(DEMO).sellers[SELLER].entry("delivery-time")
    assert delivery is not None and answer.payload["text"] == delivery.answer["ru"]
    assert len(desk.record_sent()) <= SENT_STATEMENTS


def test_a_second_question_before_the_first_answer_is_sent_waits_behind_it(
    desk: Desk,
) -> None:
    desk.start()
    desk.says(QUESTION, message_id=2)
    assert len(desk.says(QUESTION, message_id=3)) <= FAQ_STATEMENTS
    assert len(desk.handed) == 1  # the second answer waits for a claim: chat order
    desk.record_sent()
    with desk.db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.status for r in rows[-2:]] == [OutboxStatus.SENT, OutboxStatus.PENDING]
    desk.says(QUESTION, message_id=4)
    assert desk.handed == []  # still behind the pending one


def test_a_first_message_makes_the_buyer_in_one_more_statement(desk: Desk) -> None:
    statements = desk.says(QUESTION, user=BUYER + 1)
    assert len(statements) <= FIRST_MESSAGE_STATEMENTS, statements
    assert len(desk.handed) == 1


def test_a_relay_runs_four_statements_and_restarts_the_clock_after_a_reply(
    desk: Desk,
) -> None:
    desk.start()
    desk.says(NEEDS_A_PERSON, message_id=2)
    case = desk.open_case()
    assert case.awaiting_reply_since is not None
    statements = desk.says("Фото приложу позже", message_id=3)
    assert len(statements) <= RELAY_STATEMENTS, statements
    with desk.db.transaction() as session:
        assert cases.record_staff_reply(session, case.id)
    assert desk.open_case().awaiting_reply_since is None
    # The first message after staff answered starts the clock again: more to write.
    assert len(desk.says("А когда вернёте деньги?", message_id=4)) > RELAY_STATEMENTS
    started = desk.open_case().awaiting_reply_since
    assert started is not None
    assert len(desk.says("Жду ответа", message_id=5)) <= RELAY_STATEMENTS
    assert desk.open_case().awaiting_reply_since == started
    with desk.db.transaction() as session:
        copies = session.scalars(
            select(OutboxMessage).where(OutboxMessage.case_id == case.id)
        ).all()
        relayed = [r.payload["message_ids"] for r in copies if "message_ids" in r.payload]
    assert relayed == [[3], [4], [5]]  # the first is carried whole by the case card


def test_opening_a_case_runs_fifteen_statements(desk: Desk) -> None:
    desk.start()
    statements = desk.says(NEEDS_A_PERSON, message_id=2)
    assert len(statements) <= CASE_OPENING_STATEMENTS, statements
    case = desk.open_case()
    assert case.number == 1 and case.staff_chat_id is not None
    assert case.awaiting_reply_since is not None
    assert case.last_buyer_message_at is not None
    with desk.db.transaction() as session:
        schedule = reminders.list_for_case(session, case.id)
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id)
        ).all()
    assert schedule and [r.step for r in schedule] == list(range(len(schedule)))
    assert {r.status for r in schedule} == {ReminderStatus.PENDING}
    assert all(r.due_at > case.awaiting_reply_since for r in schedule)
    kinds = [r.kind for r in rows]
    assert kinds[0] == OutboxKind.CREATE_FORUM_TOPIC
    # The card carries the buyer's question whole: no copy of it.
    assert [r.payload.get("carries") for r in rows if r.payload.get("carries")] == [[BUYER, 2]]
    assert not [r for r in rows if "message_ids" in r.payload]
    assert {r.chat_id for r in rows} >= {case.staff_chat_id, BUYER}
    # The next opening for the seller takes the next number.
    desk.says(NEEDS_A_PERSON, user=BUYER + 1, message_id=1)
    with desk.db.transaction() as session:
        numbers = sorted(session.scalars(select(Case.number)))
    assert numbers == [1, 2]
