"""FAQ gaps: unanswered questions grouped (biggest first), the staff answer of a case
attached to its group as a draft FAQ entry, and ``sellerdesk faq gaps`` printing the
drafts as YAML to paste or as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sellerdesk.bot.desk.cases import relay_to_buyer
from sellerdesk.bot.reports.unanswered import (
    TODO_ANSWER,
    GapDraft,
    draft_yaml,
    find_gaps,
    suggest_id,
    unique_id,
)
from sellerdesk.cli import main
from sellerdesk.faq.content.faq_file import load_faq_file
from sellerdesk.faq.content.model import ANY_LANG
from sellerdesk.storage.db import make_engine, session_factory, unit_of_work
from sellerdesk.storage.repo import privacy, questions
from sellerdesk.storage.repo.questions import MASK
from tests.storage.factories import T0, case

H = timedelta(hours=1)
SELLER = "shop"

#: Three topics, with typos and the words in another order; asked in this order.
WHERE = ["где мой заказ", "заказ мой где?", "где мой закз", "подскажите где заказ", "где мой заказ"]
CUSTOMS = [
    "нужно ли платить пошлину на таможне?",
    "пошлину на таможне нужно платить?",
    "платить пошлину на таможне нужно ли",
]
ADDRESS = ["can I change the delivery address", "how to change delivery adress"]
STAFF_ANSWER = "Пошлину платим мы: для покупателя она уже в цене.\nНичего доплачивать не нужно."


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    assert main(["db", "upgrade", "--url", url]) == 0
    return url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def _ask(session: Session, question: str, at: datetime, action: str = "handoff") -> None:
    questions.log_question(session, seller_id=SELLER, question=question, action=action, now=at)


def _seed(session: Session, start: datetime) -> None:
    """The three topics interleaved, questions the FAQ answered, and answered cases."""
    mixed = [*WHERE, *CUSTOMS, *ADDRESS]
    order = [0, 5, 1, 8, 2, 6, 3, 9, 7, 4]  # interleaved: grouping must not rely on order
    for step, index in enumerate(order):
        action = "suggest" if index % 2 else "handoff"
        _ask(session, mixed[index], start + step * timedelta(minutes=5), action)
    _ask(session, "сколько идет доставка", start, action="answer")  # answered: no gap
    # The second customs question became case #1, which staff answered.
    answered = case(session, 2001, SELLER, start + H, subject=CUSTOMS[1])
    questions.keep_first_answer(session, answered.id, STAFF_ANSWER)
    # A "where" question became a case nobody has answered yet.
    case(session, 2002, SELLER, start + H, subject=WHERE[0])
    # An answered case about something nobody else asked.
    other = case(session, 2003, SELLER, start + H, subject="размер 52 есть?")
    questions.keep_first_answer(session, other.id, "Да, есть.")


def test_groups_by_topic_biggest_first_with_the_staff_answer(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as session:
        _seed(session, T0)
    with sessions() as session:
        report = find_gaps(session, SELLER, T0, T0 + 2 * H)
    assert report.unanswered == 10
    assert [d.count for d in report.drafts] == [5, 3, 2]
    where, customs, address = report.drafts
    assert where.examples == ("где мой заказ", "заказ мой где?", "где мой закз")  # distinct
    assert set(customs.examples) == set(CUSTOMS)
    assert address.examples == tuple(ADDRESS)
    assert (customs.staff_answer, customs.case_number) == (STAFF_ANSWER, 1)
    assert where.staff_answer is None and address.staff_answer is None
    assert [d.suggested_id for d in report.drafts] == [
        "gde-zakaz",
        "nuzhno-platit-poshlinu-tamozhne",
        "change-delivery-address",
    ]


def test_since_keeps_only_the_period(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as session:
        _seed(session, T0)
        for question in ADDRESS:
            _ask(session, question, T0 + 3 * H)
    with sessions() as session:
        later = find_gaps(session, SELLER, T0 + 2 * H, T0 + 4 * H)
        before = find_gaps(session, SELLER, T0 - H, T0 + 2 * H)
    assert [(d.examples, d.count) for d in later.drafts] == [(tuple(ADDRESS), 2)]
    assert later.unanswered == 2
    assert [d.count for d in before.drafts] == [5, 3, 2]
    # The customs case was opened before the later period: its answer is not offered.
    assert all(d.staff_answer is None for d in later.drafts)


def test_suggested_ids_avoid_existing_entries(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as session:
        _seed(session, T0)
    with sessions() as session:
        report = find_gaps(session, SELLER, T0, T0 + 2 * H, taken_ids={"gde-zakaz"})
    assert report.drafts[0].suggested_id == "gde-zakaz-2"
    assert unique_id("a", {"a", "a-2"}) == "a-3"
    assert suggest_id(["我的订单在哪里？"]) == "new-entry"
    assert suggest_id(["Сколько стоит доставка в Ёкатеринбург?"]) == (
        "skolko-stoit-dostavka-ekaterinburg"
    )
    # A negation stays with its word: "не пришла" is not "пришла".
    assert suggest_id(["Не пришла та вещь"]) == "ne-prishla-ta-veshch"
    assert suggest_id(["It does not work"]) == "not-work"


def test_a_staff_reply_to_one_buyer_is_shown_not_proposed(tmp_path: Path) -> None:
    personal = GapDraft(1, ("Когда придёт мой заказ?",), "kogda-pridet", "Будет через 5 дней", 7)
    general = GapDraft(1, ("Сколько идёт доставка?",), "skolko", "Доставка 7–12 дней.", 8)
    text = draft_yaml(personal)
    assert '# staff in case #7, to one buyer: "Будет через 5 дней"' in text
    assert f"answer: {TODO_ANSWER}" in text
    assert '"Доставка 7–12 дней."' in draft_yaml(general)
    faq = tmp_path / "faq.yaml"
    faq.write_text("entries:\n" + text + draft_yaml(general), encoding="utf-8")
    entries, problems = load_faq_file(faq)
    assert [str(p.key) for p in problems] == ["entry kogda-pridet.answer"]  # to be written
    assert [e.id for e in entries] == ["skolko"]


def test_the_first_staff_text_is_kept_and_forgetting_the_buyer_clears_it(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as session:
        _ask(session, CUSTOMS[0], T0)
        opened = case(session, 3001, SELLER, T0, subject=CUSTOMS[0])
        # A photo without a caption, then the answer, then a follow-up.
        for message_id, body in enumerate(["", " Пошлину платим мы. ", "Что-нибудь еще?"]):
            assert relay_to_buyer(
                session, opened, staff_chat_id=-100, message_id=message_id, body=body, now=T0 + H
            )
    with sessions() as session:
        (draft,) = find_gaps(session, SELLER, T0, T0 + 2 * H).drafts
    assert draft.staff_answer == "Пошлину платим мы."

    with unit_of_work(sessions) as session:
        assert privacy.forget_buyer(session, 3001, now=T0 + 2 * H)
    with sessions() as session:
        assert questions.answered_cases(session, SELLER, T0, T0 + 2 * H) == []
        (draft,) = find_gaps(session, SELLER, T0, T0 + 2 * H).drafts
    assert draft.staff_answer is None and draft.count == 1  # the anonymous log stays


def test_the_draft_is_a_valid_faq_entry(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with unit_of_work(sessions) as session:
        _seed(session, T0)
        _ask(session, "12345678", T0)  # digits only: no language, no words
    with sessions() as session:
        drafts = find_gaps(session, SELLER, T0, T0 + 2 * H).drafts
    faq = tmp_path / "faq.yaml"
    faq.write_text("entries:\n" + "".join(draft_yaml(d) for d in drafts), encoding="utf-8")
    entries, problems = load_faq_file(faq)
    # Drafts without a staff answer wait for one: the loader refuses their empty answer.
    assert sorted(str(p.key) for p in problems) == [
        "entry change-delivery-address.answer",
        "entry gde-zakaz.answer",
        "entry new-entry.answer",
    ]
    assert all(p.message == "must not be empty" for p in problems)
    by_id = {e.id: e for e in entries}
    customs = by_id["nuzhno-platit-poshlinu-tamozhne"]
    assert customs.answer == {"ru": STAFF_ANSWER}  # the line break survives
    assert set(customs.questions["ru"]) == set(CUSTOMS)
    # Once the answers are written, every draft loads, questions per language.
    filled = faq.read_text("utf-8").replace(TODO_ANSWER, '"Ответ"')
    faq.write_text(filled, encoding="utf-8")
    entries, problems = load_faq_file(faq)
    assert problems == []
    by_id = {e.id: e for e in entries}
    assert by_id["change-delivery-address"].questions == {"en": tuple(ADDRESS)}
    assert by_id["gde-zakaz"].answer == {ANY_LANG: "Ответ"}
    # The log masks long digit runs (order numbers) before it stores a question.
    assert by_id["new-entry"].questions == {ANY_LANG: (MASK,)}


# ------------------------------------------------------------------------------- the CLI


def test_cli_prints_yaml_drafts_to_paste(
    url: str, sessions: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    with unit_of_work(sessions) as session:
        _seed(session, now - 3 * 24 * H)
        _ask(session, "old question nobody asks now", now - 10 * 24 * H)
    empty = tmp_path / "content"
    empty.mkdir()

    assert main(["faq", "gaps", SELLER, "--url", url, "--content", str(empty)]) == 0
    out = capsys.readouterr().out
    assert "10 question(s) the FAQ did not answer, in 3 group(s)" in out
    assert "# 2. asked 3 time(s); answer from case #1" in out
    assert "old question" not in out
    faq = tmp_path / "faq.yaml"
    # The whole output pastes; once the empty answers are written, it loads.
    faq.write_text("entries:\n" + out.replace(TODO_ANSWER, '"Ответ"'), encoding="utf-8")
    entries, problems = load_faq_file(faq)
    assert problems == []
    assert [e.id for e in entries] == [
        "gde-zakaz",
        "nuzhno-platit-poshlinu-tamozhne",
        "change-delivery-address",
    ]
    assert entries[1].answer == {"ru": STAFF_ANSWER}

    args = ["faq", "gaps", SELLER, "--url", url, "--content", str(empty), "--since", "30d"]
    assert main([*args, "--json", "--limit", "2"]) == 0
    drafts = json.loads(capsys.readouterr().out)
    assert [d["count"] for d in drafts] == [5, 3]  # --limit: the biggest two
    assert drafts[1]["staff_answer"] == STAFF_ANSWER and drafts[1]["case_number"] == 1
    assert drafts[0]["examples"] == ["где мой заказ", "заказ мой где?", "где мой закз"]
    assert drafts[0]["suggested_id"] == "gde-zakaz" and "- id: gde-zakaz" in drafts[0]["yaml"]

    assert main([*args, "--json"]) == 0
    assert [d["count"] for d in json.loads(capsys.readouterr().out)] == [5, 3, 2, 1]


def test_cli_avoids_ids_of_the_sellers_faq(
    url: str, sessions: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with unit_of_work(sessions) as session:
        _ask(session, "где мой заказ", datetime.now(UTC) - H)
    assert main(["init", SELLER, "--content", str(tmp_path)]) == 0
    faq = tmp_path / SELLER / "faq.yaml"
    faq.write_text(faq.read_text("utf-8").replace("id: order-status", "id: gde-zakaz"), "utf-8")
    capsys.readouterr()
    assert main(["faq", "gaps", SELLER, "--url", url, "--content", str(tmp_path), "--json"]) == 0
    (draft,) = json.loads(capsys.readouterr().out)
    assert draft["suggested_id"] == "gde-zakaz-2"


def test_cli_with_nothing_to_report(
    url: str, sessions: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with unit_of_work(sessions) as session:
        _ask(session, "сколько идет доставка", datetime.now(UTC) - H, action="answer")
    args = ["faq", "gaps", SELLER, "--url", url, "--content", str(tmp_path)]
    assert main(args) == 0
    assert "nothing to add" in capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["nope"], 2, "No seller 'nope'"),
        ([SELLER, "--since", "week"], 2, "expected a duration"),
        ([SELLER, "--since", "0d"], 2, "expected a duration"),
        ([SELLER, "--limit", "0"], 2, "--limit must be at least 1"),
    ],
)
def test_cli_refuses_bad_input(
    url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    code: int,
    message: str,
) -> None:
    with unit_of_work(sessions) as session:
        _ask(session, "где мой заказ", datetime.now(UTC) - H)
    assert main(["faq", "gaps", *extra, "--url", url, "--content", str(tmp_path)]) == code
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_cli_on_an_unmigrated_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faq", "gaps", SELLER, "--url", f"sqlite:///{tmp_path / 'empty.db'}"]) == 1
    assert "db upgrade" in capsys.readouterr().err
