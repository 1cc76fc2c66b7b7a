"""A buyer who comes from a product's card (a deep link to it)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.buyers import BuyerConversation
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.inbound import Incoming, Kind
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import PRODUCT_SEPARATOR
from sellerdesk.faq.matching.matcher import Matcher

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"
SELLER = "lotus-wear"


def test_a_deep_link_to_a_card_prepares_its_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card's lines are encoded when the buyer opens it, not at their first
    question; a link to the shop alone or to an unknown product prepares nothing."""
    prepared: list[str] = []
    monkeypatch.setattr(Matcher, "prepare_offer", lambda _self, offer: prepared.append(offer))
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    db.prepare()
    content = load_content(DEMO)
    offer = content.sellers[SELLER].products[0].offer_id
    desk = BuyerConversation(db, DeskContext(FaqAnswers(content, matcher="fuzzy"), alias_key=b"k"))
    links = [SELLER, f"{SELLER}{PRODUCT_SEPARATOR}no-such-offer"]
    links.append(f"{SELLER}{PRODUCT_SEPARATOR}{offer}")
    for update_id, args in enumerate(links, start=1):
        msg = Incoming(update_id, 7, 7, update_id, Kind.TEXT, "/start", command="start")
        desk.start(replace(msg, args=args))
    assert prepared == [offer]
    db.dispose()
