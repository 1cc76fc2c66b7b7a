"""What buyers and admins read: deadlines in the shop's time, the init placeholder refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from sellerdesk.bot.desk.cases import deadline_text
from sellerdesk.faq.content.check import placeholder_problems
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Content
from sellerdesk.faq.content.scaffold import PLACEHOLDER_CHAT_ID
from sellerdesk.storage.models import Case

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"


def test_the_deadline_is_shown_in_the_shops_time_zone_and_named() -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    case = cast(Case, SimpleNamespace(opened_at=datetime(2026, 12, 6, 9, 30, tzinfo=UTC)))
    first = seller.sla.first_reply
    due = datetime(2026, 12, 6, 9, 30, tzinfo=UTC) + first
    moscow = replace(seller, timezone="Europe/Moscow")
    assert deadline_text(case, moscow) == f"{due.replace(tzinfo=None):%d.%m.%Y} " + (
        f"{(due.hour + 3) % 24:02d}:{due.minute:02d} (Moscow)"
    )
    utc = replace(seller, timezone="UTC")
    assert deadline_text(case, utc) == f"{due:%d.%m.%Y %H:%M} UTC"


def test_faq_check_refuses_the_placeholder_staff_chat_of_init() -> None:
    demo = load_content(DEMO)
    seller = replace(demo.sellers["lotus-wear"], support_chat_id=PLACEHOLDER_CHAT_ID)
    problems = placeholder_problems(Content(sellers={seller.id: seller}, root=demo.root))
    assert [(p.key, "placeholder" in p.message) for p in problems] == [("support_chat_id", True)]
    assert placeholder_problems(demo) == []


def test_topics_in_a_group_shared_by_two_shops_say_whose() -> None:
    from sellerdesk.bot.desk.answers import FaqAnswers
    from sellerdesk.bot.desk.cases import DeskContext, topic_name

    demo = load_content(DEMO)
    first = demo.sellers["lotus-wear"]
    second = replace(first, id="gadget-hub", name="Gadget Hub", staff=(7,))
    shared = Content(sellers={first.id: first, second.id: second}, root=demo.root)
    ctx = DeskContext(FaqAnswers(shared, "fuzzy"), alias_key=b"k")
    case = cast(Case, SimpleNamespace(number=1, subject="где мой заказ??"))
    assert topic_name(case, "9930", shop=ctx.topic_shop(second)).startswith(
        "#1 · Gadget Hub · Buyer #9930 · "
    )
    alone = DeskContext(FaqAnswers(Content({first.id: first}, demo.root), "fuzzy"), b"k")
    assert alone.topic_shop(first) is None
    assert (
        topic_name(case, "9930", shop=alone.topic_shop(first))
        == "#1 · Buyer #9930 · где мой заказ??"
    )
