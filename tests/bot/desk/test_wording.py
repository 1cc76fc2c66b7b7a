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
