"""faq check explains what is wrong and what to do: language codes, YAML syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from sellerdesk.faq.content.faq_file import load_faq_file
from sellerdesk.faq.content.seller_file import load_seller_file


def test_country_and_three_letter_codes_are_not_languages(tmp_path: Path) -> None:
    path = tmp_path / "seller.yaml"
    path.write_text(
        "name: Shop\nsupport_chat_id: -1001\nlanguages: [ru, eng, cn]\n", encoding="utf-8"
    )
    _, problems = load_seller_file(path, "shop")
    messages = [p.message for p in problems]
    assert any("'eng'" in m and "did you mean 'en'" in m for m in messages), messages
    assert any("'cn'" in m and "did you mean 'zh'" in m for m in messages), messages


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        ("entries:\n\t- id: a\n", "indent with spaces"),
        ("entries:\n  - id: a\n    answer: Ответ: да\n    questions: [x]\n", "in quotes"),
        ("entries:\n  - id: a\n   questions: [x]\n", "indent this line"),
        ('entries:\n  - id: "a\n', "not closed"),
    ],
)
def test_yaml_syntax_errors_say_what_to_do(tmp_path: Path, text: str, advice: str) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = load_faq_file(path)
    assert len(problems) == 1 and advice in problems[0].message, problems
