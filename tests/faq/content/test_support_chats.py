"""seller.yaml ``support_chats``: what the loader accepts and what ``faq check`` says
about each bad entry (file and line)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sellerdesk.faq.content.check import check_content
from sellerdesk.faq.content.errors import ContentError
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import SupportChat

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"
MAIN = -1001000000001
ZH = -1001000000002
MORE = -1001000000003


def demo_with(tmp_path: Path, groups: str) -> Path:
    """The demo content under ``tmp_path`` with ``groups`` added to its seller.yaml."""
    root = tmp_path / "sellers"
    shutil.copytree(DEMO, root)
    seller_file = root / "lotus-wear" / "seller.yaml"
    seller_file.write_text(seller_file.read_text("utf-8") + groups, "utf-8")
    return root


def _line_of(root: Path, needle: str) -> int:
    lines = (root / "lotus-wear" / "seller.yaml").read_text("utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_groups_load_with_their_languages_and_lines(tmp_path: Path) -> None:
    root = demo_with(
        tmp_path,
        f"support_chats:\n  - chat_id: {ZH}\n    languages: [zh]\n  - chat_id: {MORE}\n",
    )
    seller = load_content(root).sellers["lotus-wear"]
    assert seller.support_chats == (
        SupportChat(ZH, ("zh",), line=_line_of(root, str(ZH))),
        SupportChat(MORE, (), line=_line_of(root, str(MORE))),
    )
    assert seller.staff_chat_ids == (MAIN, ZH, MORE)


@pytest.mark.parametrize(
    ("entry", "needle", "words"),
    [
        (f"  - chat_id: {MAIN}\n", str(MAIN), "already in support_chat_id"),
        (f"  - chat_id: {ZH}\n  - chat_id: {ZH}\n", None, "already in support_chats"),
        ("  - chat_id: 700000101\n", "700000101", "not a group id"),
        ("  - chat_id: '-100200'\n", "-100200", "whole number"),
        (f"  - chat_id: {ZH}\n    languages: [de]\n", "[de]", "not one of the seller's"),
        (f"  - chat_id: {ZH}\n    languages: [russian]\n", "[russian]", "language code"),
        (f"  - chat_id: {ZH}\n    lang: [zh]\n", "lang:", "unknown key"),
        ("  - languages: [zh]\n", "languages: [zh]", "missing required key"),
        (f"  - chat_id: {ZH}\n    shared: yes please\n", "shared", "true or false"),
    ],
)
def test_a_bad_group_names_the_file_and_line(
    tmp_path: Path, entry: str, needle: str | None, words: str
) -> None:
    root = demo_with(tmp_path, "support_chats:\n" + entry)
    with pytest.raises(ContentError) as raised:
        load_content(root)
    problems = raised.value.problems
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.path.name == "seller.yaml" and words in problem.message
    # The entry's own line: the last one holding the text (the first may be
    # support_chat_id, or the first of two equal entries).
    lines = (root / "lotus-wear" / "seller.yaml").read_text("utf-8").splitlines()
    wanted = needle if needle is not None else str(ZH)
    assert problem.line == max(i for i, line in enumerate(lines, 1) if wanted in line)


def other_shop(root: Path, chat_id: int, extra: str = "", name: str = "Other") -> None:
    """A second seller, ``other-shop``, whose staff group is ``chat_id``."""
    other = root / "other-shop"
    other.mkdir()
    (other / "seller.yaml").write_text(
        f"name: {name}\nsupport_chat_id: {chat_id}\nlanguages: [zh]\n{extra}", "utf-8"
    )
    (other / "faq.yaml").write_text(
        "entries:\n  - id: hi\n    questions: [你好吗]\n    answer: 你好\n", "utf-8"
    )


def test_faq_check_refuses_another_sellers_group_unless_shared(tmp_path: Path) -> None:
    root = demo_with(tmp_path, f"support_chats:\n  - chat_id: {ZH}\n    languages: [zh]\n")
    other_shop(root, ZH, "staff: [42]\n")
    report = check_content(root)
    foreign = [p for p in report.errors if "staff group of other-shop" in p.message]
    assert len(foreign) == 1
    assert foreign[0].path.parent.name == "lotus-wear"
    assert foreign[0].line == _line_of(root, str(ZH))
    # On purpose: no complaint about the group (the demo seller lists its staff).
    shared = tmp_path / "shared"
    shared.mkdir()
    root = demo_with(shared, f"support_chats:\n  - chat_id: {ZH}\n    shared: true\n")
    other_shop(root, ZH, "staff: [42]\n")
    assert check_content(root).errors == []
