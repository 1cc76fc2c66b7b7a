"""seller.yaml ``telegram_business``: what the loader accepts, and what ``faq check``
says about a bad section (file and line)."""

from __future__ import annotations

import pytest

from sellerdesk.faq.content.errors import ContentError
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import BusinessLink
from tests.faq.conftest import SELLER_YAML, WriteSeller


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("telegram_business:\n  account: '@Lotus_Shop'\n", BusinessLink("lotus_shop", 30, 4)),
        (
            "telegram_business:\n  account: 777000111\n  quiet_minutes: 0\n",
            BusinessLink(777000111, 0, 4),
        ),
    ],
)
def test_a_section_loads(write_seller: WriteSeller, section: str, expected: BusinessLink) -> None:
    folder = write_seller(seller=SELLER_YAML + section)
    seller = load_content(folder.parent).sellers["test-shop"]
    assert seller.telegram_business == expected


def test_the_account_is_found_by_id_or_by_username_in_any_case() -> None:
    assert BusinessLink("lotus_shop").owns(1, "Lotus_Shop")
    assert not BusinessLink("lotus_shop").owns(1, None)
    assert BusinessLink(42).owns(42, "whatever") and not BusinessLink(42).owns(43, None)


@pytest.mark.parametrize(
    ("section", "line", "words"),
    [
        ("telegram_business:\n  account: lotus_shop\n", 5, "@username"),
        ("telegram_business:\n  account: '@ab'\n", 5, "@username"),
        ("telegram_business:\n  account: -100123\n", 5, "@username"),
        ("telegram_business:\n  account: '@lotus_shop'\n  quiet_minutes: 2000\n", 6, "0 to 1440"),
        ("telegram_business:\n  account: '@lotus_shop'\n  quiet: 5\n", 6, "unknown key"),
        ("telegram_business:\n  quiet_minutes: 5\n", 5, "missing required key"),
    ],
)
def test_a_bad_section_names_the_file_and_line(
    write_seller: WriteSeller, section: str, line: int, words: str
) -> None:
    folder = write_seller(seller=SELLER_YAML + section)
    with pytest.raises(ContentError) as raised:
        load_content(folder.parent)
    [problem] = raised.value.problems
    assert problem.path.name == "seller.yaml" and words in problem.message
    assert problem.line == line
