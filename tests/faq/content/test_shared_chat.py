"""A support chat shared by two sellers lets nobody act for a seller without a staff list."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.faq.content.check import shared_chat_problems
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Content

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"
MEMBER = 424242
ADMIN = 1


def _two_in_one_chat(staff: tuple[int, ...]) -> Content:
    demo = load_content(DEMO)
    first = replace(demo.sellers["lotus-wear"], staff=())
    second = replace(first, id="second-shop", name="Second shop", staff=staff)
    return Content(sellers={first.id: first, second.id: second}, root=demo.root)


def test_faq_check_names_each_seller_without_staff_in_a_shared_chat() -> None:
    problems = shared_chat_problems(_two_in_one_chat(()))
    assert sorted(p.path.parent.name for p in problems) == ["lotus-wear", "lotus-wear"]
    assert all(p.key == "staff" and "shared with" in p.message for p in problems)
    assert len(shared_chat_problems(_two_in_one_chat((7,)))) == 1


def test_a_plain_member_may_not_act_for_a_seller_without_staff_in_a_shared_chat() -> None:
    content = _two_in_one_chat((7,))
    ctx = DeskContext(
        FaqAnswers(content, "fuzzy"), alias_key=b"k", admin_user_ids=frozenset({ADMIN})
    )
    unlisted, listed = content.sellers["lotus-wear"], content.sellers["second-shop"]
    assert not ctx.is_staff(unlisted, MEMBER)
    assert ctx.is_staff(unlisted, ADMIN)
    assert ctx.is_staff(listed, 7) and not ctx.is_staff(listed, MEMBER)
    # Alone in its chat, a seller without a list keeps trusting the chat's members.
    alone = Content(sellers={unlisted.id: unlisted}, root=content.root)
    solo = DeskContext(FaqAnswers(alone, "fuzzy"), alias_key=b"k")
    assert solo.is_staff(unlisted, MEMBER)
