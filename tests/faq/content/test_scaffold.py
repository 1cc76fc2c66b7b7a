"""``sellerdesk init``: a new seller folder that passes ``faq check`` as written, answers
its example questions, and never overwrites anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from sellerdesk.cli import main
from sellerdesk.faq.content.loader import load_content, load_seller
from sellerdesk.faq.content.scaffold import (
    PLACEHOLDER_CHAT_ID,
    ScaffoldError,
    SellerSpec,
    create_seller,
    schema_dir,
    schema_reference,
)
from sellerdesk.faq.matching.decision import Action
from sellerdesk.faq.matching.matcher import make_matcher

ROOT = Path(__file__).resolve().parents[3]


def test_init_writes_a_seller_that_passes_faq_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "sellers"
    assert main(["init", "green-tea", "--content", str(content), "--name", "Green: Tea #1"]) == 0
    out = capsys.readouterr().out
    assert "sellerdesk faq check" in out and "getUpdates" in out  # next steps, chat id help
    folder = content / "green-tea"
    names = {"seller.yaml", "faq.yaml", "templates.yaml", "products.csv"}
    assert {p.name for p in folder.iterdir()} == names
    assert [p.name for p in content.iterdir()] == ["green-tea"]  # no staging folder left

    # The placeholder staff chat is refused until the group's id is written in.
    assert main(["faq", "check", str(content)]) == 1
    assert "placeholder of sellerdesk init" in capsys.readouterr().out
    assert load_seller(folder).support_chat_id == PLACEHOLDER_CHAT_ID
    seller_yaml = folder / "seller.yaml"
    written = seller_yaml.read_text("utf-8").replace(str(PLACEHOLDER_CHAT_ID), "-1009876543210")
    seller_yaml.write_text(written, encoding="utf-8")
    assert main(["faq", "check", str(content)]) == 0
    assert "ok: green-tea: 4 FAQ entries, 1 products, 2 templates" in capsys.readouterr().out

    seller = load_seller(folder)
    assert seller.name == "Green: Tea #1"
    assert seller.languages == ("ru", "en", "zh")
    assert seller.support_chat_id == -1009876543210
    assert {e.id for e in seller.entries} >= {"delivery-time", "order-status", "returns"}
    returns = seller.entry("returns")
    assert returns is not None and returns.handoff
    assert seller.timezone == "Europe/Moscow" and seller.digest_hour == 9
    faq_text = (folder / "faq.yaml").read_text("utf-8")
    lines = faq_text.splitlines()
    for key in ("id", "questions", "answer", "keywords", "handoff"):
        # The first entry explains each of its keys in a comment.
        first = next(line for line in lines if line.lstrip(" -").startswith(f"{key}:"))
        assert "  # " in first, key


def test_the_example_entries_answer_their_questions(tmp_path: Path) -> None:
    folder = create_seller(tmp_path, SellerSpec("shop", "Shop", ("ru", "en", "zh"), -100123))
    seller = load_content(tmp_path).sellers["shop"]
    assert seller.support_chat_id == -100123
    matcher = make_matcher(seller, "fuzzy", tmp_path / "cache")
    for question, expected in (
        ("где мой заказ?", "order-status"),
        ("How long does delivery take?", "delivery-time"),
        ("怎么退货？", "returns"),
    ):
        decision = matcher.decide(question)
        assert decision.action is Action.ANSWER, question
        assert decision.best is not None and decision.best.target == expected
    assert "support_chat_id: -100123" in (folder / "seller.yaml").read_text("utf-8")


def test_init_writes_only_the_chosen_languages(tmp_path: Path) -> None:
    args = ["init", "zh-shop", "--content", str(tmp_path), "--languages", "zh, en"]
    assert main(args) == 0
    seller = load_seller(tmp_path / "zh-shop")
    assert seller.languages == ("zh", "en")
    for entry in seller.entries:
        assert set(entry.questions) == {"zh", "en"}
        assert set(entry.answer) == {"zh", "en"}
    assert "ru:" not in (tmp_path / "zh-shop" / "templates.yaml").read_text("utf-8")
    assert seller.name == "Zh Shop"


def test_init_refuses_an_existing_folder_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "shop"
    existing.mkdir()
    (existing / "faq.yaml").write_text("entries: []\n", encoding="utf-8")
    assert main(["init", "shop", "--content", str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert [p.name for p in existing.iterdir()] == ["faq.yaml"]
    assert (existing / "faq.yaml").read_text("utf-8") == "entries: []\n"
    assert [p.name for p in tmp_path.iterdir()] == ["shop"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["init", "Big_Shop"], "not a valid seller id"),
        (["init", "x"], "not a valid seller id"),
        (["init", "магазин"], "not a valid seller id"),
        (["init", "shop", "--languages", "ru,de"], "unknown language(s) de"),
        (["init", "shop", "--languages", "ru,ru"], "listed twice"),
        (["init", "shop", "--languages", ","], "at least one"),
        (["init", "shop", "--name", "  "], "must not be empty"),
    ],
)
def test_init_rejects_bad_input_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main([*argv, "--content", str(tmp_path)]) == 1
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_positive_chat_id_is_written_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "shop", "--content", str(tmp_path), "--support-chat-id", "12345"]) == 0
    assert "looks like a user id" in capsys.readouterr().err
    assert load_seller(tmp_path / "shop").support_chat_id == 12345


def test_create_seller_raises_for_an_existing_folder(tmp_path: Path) -> None:
    create_seller(tmp_path, SellerSpec("shop", "Shop", ("ru",)))
    with pytest.raises(ScaffoldError, match="already exists"):
        create_seller(tmp_path, SellerSpec("shop", "Other", ("en",)))
    assert load_seller(tmp_path / "shop").name == "Shop"


def test_schema_path_is_relative_inside_the_project_and_absolute_outside(
    tmp_path: Path,
) -> None:
    inside = ROOT / "examples" / "sellers" / "new-shop"
    reference = schema_reference(inside, "faq.schema.json")
    assert reference == "../../../faq/schemas/faq.schema.json"
    assert (inside / reference).resolve() == schema_dir() / "faq.schema.json"

    outside = schema_reference(tmp_path / "shop", "seller.schema.json")
    assert Path(outside).is_absolute() and Path(outside).is_file()

    folder = create_seller(tmp_path, SellerSpec("shop", "Shop", ("ru",)))
    first_line = (folder / "seller.yaml").read_text("utf-8").splitlines()[0]
    assert first_line == f"# yaml-language-server: $schema={outside}"


def test_the_commented_working_hours_load_once_uncommented(tmp_path: Path) -> None:
    folder = create_seller(tmp_path, SellerSpec("hours-shop", "Hours", ("ru", "en"), -100123))
    seller_yaml = folder / "seller.yaml"
    lines = seller_yaml.read_text("utf-8").splitlines()
    start = lines.index("# hours:")
    example = [line.removeprefix("# ") for line in lines[start : start + 7]]
    seller_yaml.write_text("\n".join([*lines[:start], *example]) + "\n", "utf-8")
    seller = load_content(tmp_path).sellers["hours-shop"]
    assert seller.hours is not None and seller.away == {"ru": "Мы ответим в рабочее время."}
