"""seller.yaml ``ozon``: what the loader accepts, and what ``faq check`` says about a
bad section (file and line) or a key variable that is not set."""

from __future__ import annotations

import pytest

from sellerdesk.faq.content.check import check_content
from sellerdesk.faq.content.errors import ContentError
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import OzonLink
from tests.faq.conftest import SELLER_YAML, WriteSeller

GOOD = 'ozon:\n  client_id: "836271"\n  api_key_env: OZON_KEY_TEST\n'


def test_a_section_loads_with_its_defaults(write_seller: WriteSeller) -> None:
    folder = write_seller(seller=SELLER_YAML + GOOD + "  questions: true\n")
    seller = load_content(folder.parent).sellers["test-shop"]
    assert seller.ozon == OzonLink("836271", "OZON_KEY_TEST", questions=True, line=4)


@pytest.mark.parametrize(
    ("section", "line", "words"),
    [
        ('ozon:\n  client_id: "83a6"\n  api_key_env: K\n', 5, "digits"),
        ('ozon:\n  client_id: "1"\n  api_key_env: 0c9f1e5a-7d4b\n', 6, "NAME of an environment"),
        ('ozon:\n  client_id: "1"\n  api_key_env: K\n  chat: true\n', 7, "unknown key"),
        ('ozon:\n  client_id: "1"\n', 5, "missing required key"),
        ('ozon:\n  client_id: "1"\n  api_key_env: K\n  chats: yes please\n', 7, "true or false"),
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


def test_faq_check_warns_when_the_key_variable_is_not_set(
    write_seller: WriteSeller, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_seller(seller=SELLER_YAML + GOOD)
    monkeypatch.delenv("OZON_KEY_TEST", raising=False)
    warned = [w for w in check_content(folder.parent).warnings if w.key == "ozon.api_key_env"]
    assert len(warned) == 1 and warned[0].line == 4
    monkeypatch.setenv("OZON_KEY_TEST", "secret")
    assert not [w for w in check_content(folder.parent).warnings if w.key == "ozon.api_key_env"]
