"""Loading and validating seller content: every problem names file, line and key."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from sellerdesk.faq.content.checker import parse_duration
from sellerdesk.faq.content.errors import ContentError
from sellerdesk.faq.content.loader import load_content, load_seller
from sellerdesk.faq.content.model import ANY_LANG
from sellerdesk.faq.content.products_file import decode_table
from tests.faq.conftest import FAQ_YAML, PRODUCTS_CSV, SELLER_YAML, WriteSeller


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_seller(folder)
    return [str(p) for p in info.value.problems]


def test_valid_seller_loads_every_file(write_seller: WriteSeller) -> None:
    templates = "templates:\n  - id: return-address\n    text: {ru: Адрес, en: Address}\n"
    folder = write_seller(products=PRODUCTS_CSV, templates=templates)
    seller = load_seller(folder)
    assert seller.id == "test-shop"
    assert seller.languages == ("ru", "en", "zh")
    assert seller.topics is True
    assert [e.id for e in seller.entries] == ["delivery-time", "customs", "return", "size-chart"]
    assert seller.entry("return") is not None and seller.entry("return").handoff  # type: ignore[union-attr]
    assert seller.entries[0].questions["zh"] == ("多久能到货？",)
    assert seller.products[0].attributes == {"Цвет": "черный", "Емкость": "20000 мАч"}
    assert seller.products[1].attributes == {"Цвет": "белый"}
    assert seller.templates[0].text_in("en") == "Address"
    assert seller.sla.first_reply == timedelta(hours=24)


def test_plain_list_and_string_mean_any_language(write_seller: WriteSeller) -> None:
    faq = "entries:\n  - id: hello\n    questions: [Hi there]\n    answer: Hello!\n"
    seller = load_seller(write_seller(faq=faq))
    entry = seller.entries[0]
    assert entry.questions == {ANY_LANG: ("Hi there",)}
    assert entry.answer_in("zh", seller.languages) == "Hello!"


def test_answer_falls_back_to_seller_languages_in_order(write_seller: WriteSeller) -> None:
    faq = "entries:\n  - id: a\n    questions: [q]\n    answer: {en: English, zh: 中文}\n"
    seller = load_seller(write_seller(faq=faq))
    assert seller.entries[0].answer_in("de", ("ru", "zh", "en")) == "中文"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90s", timedelta(seconds=90)), ("15m", timedelta(minutes=15)), ("2d", timedelta(days=2))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_sla_is_read(write_seller: WriteSeller) -> None:
    seller_yaml = SELLER_YAML + "sla:\n  first_reply: 90s\n  remind_after: [10s, 1m]\n"
    seller = load_seller(write_seller(seller=seller_yaml))
    assert seller.sla.first_reply == timedelta(seconds=90)
    assert seller.sla.remind_after == (timedelta(seconds=10), timedelta(minutes=1))


def test_all_errors_of_a_file_are_reported_with_line_and_key(write_seller: WriteSeller) -> None:
    seller_yaml = (
        "name: Shop\n"
        "support_chat_id: not-a-number\n"
        "languages: [ru, english]\n"
        "sla:\n"
        "  first_reply: 2x\n"
        "nmae: typo\n"
    )
    found = problems_of(write_seller(seller=seller_yaml))
    joined = "\n".join(found)
    assert "seller.yaml:2: support_chat_id: expected a whole number" in joined
    assert "seller.yaml:3: languages: expected a language code" in joined
    assert "seller.yaml:5: sla.first_reply: expected a duration" in joined
    assert "seller.yaml:6: nmae: unknown key (did you mean 'name'?)" in joined


def test_missing_required_keys(write_seller: WriteSeller) -> None:
    found = problems_of(write_seller(seller="name: Shop\n"))
    assert any("support_chat_id: missing required key" in p for p in found)
    assert any("languages: missing required key" in p for p in found)


def test_faq_entry_errors(write_seller: WriteSeller) -> None:
    faq = (
        "entries:\n"
        "  - id: a\n"
        "    questions: [Q]\n"
        "    answer: A\n"
        "  - id: a\n"
        "    questions: []\n"
        '    answer: ""\n'
        "  - id: Bad_Id\n"
        "    questions: {ru: [x], english: [y]}\n"
        "    answer: {ru: x}\n"
        "    handoff: maybe\n"
        "    colour: red\n"
    )
    found = "\n".join(problems_of(write_seller(faq=faq)))
    assert "faq.yaml:5: entry #2.id: duplicate id 'a' (first on line 2)" in found
    assert "faq.yaml:6: entry #2.questions: list at least one question" in found
    assert "faq.yaml:7: entry #2.answer: must not be empty" in found
    assert "faq.yaml:8: entry #3.id: 'Bad_Id' is not a valid id" in found
    assert "faq.yaml:9: entry #3.questions: expected a language code" in found
    assert "faq.yaml:11: entry #3.handoff: expected true or false" in found
    assert "faq.yaml:12: entry #3.colour: unknown key" in found


@pytest.mark.parametrize(
    ("faq", "message"),
    [
        ("entries:\n  - id: a\n    questions: [x\n", "faq.yaml:4: invalid YAML"),
        ("", "the file is empty"),
        ("entries: 5\n", "entries: expected a list"),
        ("- a\n- b\n", "expected a mapping"),
        ("entries: []\nextra: 1\n", "extra: unknown key"),
    ],
)
def test_malformed_yaml_is_a_clear_error(write_seller: WriteSeller, faq: str, message: str) -> None:
    found = "\n".join(problems_of(write_seller(faq=faq)))
    assert message in found


def test_non_utf8_yaml_names_the_line(write_seller: WriteSeller) -> None:
    folder = write_seller()
    (folder / "faq.yaml").write_bytes(FAQ_YAML.encode("utf-8") + "# коммент\n".encode("cp1251"))
    found = "\n".join(problems_of(folder))
    assert "not UTF-8" in found


def test_missing_files_are_named(write_seller: WriteSeller) -> None:
    found = "\n".join(problems_of(write_seller(faq=None)))
    assert "faq.yaml: missing" in found


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8-sig", "utf-8"])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_excel_csv_exports_load(write_seller: WriteSeller, encoding: str, delimiter: str) -> None:
    csv_text = (
        f"offer_id{delimiter}name{delimiter}description{delimiter}Цвет\n"
        f'PB-20K{delimiter}Павербанк{delimiter}"Ёмкий, быстрый"{delimiter}черный\n'
    )
    folder = write_seller(products=csv_text.encode(encoding))
    product = load_seller(folder).products[0]
    assert product.name == "Павербанк"
    assert product.description == "Ёмкий, быстрый"
    assert product.attributes == {"Цвет": "черный"}


def test_decode_table_prefers_utf8_then_cp1251() -> None:
    assert decode_table("доставка".encode("cp1251")) == ("доставка", "cp1251")
    assert decode_table("доставка".encode()) == ("доставка", "utf-8")


def test_csv_errors_name_rows(write_seller: WriteSeller) -> None:
    csv_text = (
        "offer_id,name,description\nA1,Платье,x\nA1,Другое,y\n,Без id,z\nA2,,w\nA3,a,b,extra\n"
    )
    found = "\n".join(problems_of(write_seller(products=csv_text)))
    assert "products.csv:3: offer_id: duplicate 'A1' (first on line 2)" in found
    assert "products.csv:4: offer_id: must not be empty" in found
    assert "products.csv:5: name: must not be empty" in found
    assert "products.csv:6: 4 cells but the header has 3" in found


def test_csv_missing_column(write_seller: WriteSeller) -> None:
    found = "\n".join(problems_of(write_seller(products="offer_id,title\nA,b\n")))
    assert "products.csv:1: name, description: missing required column" in found


def test_large_catalog_loads(write_seller: WriteSeller) -> None:
    rows = ["offer_id,name,description,Цвет,Размер"]
    rows += [f"SKU-{i:06d},Футболка {i},Хлопок 100%,белый,{40 + i % 10}" for i in range(100_000)]
    folder = write_seller(products="\n".join(rows) + "\n")
    started = time.perf_counter()
    seller = load_seller(folder)
    assert len(seller.products) == 100_000
    assert seller.products[-1].offer_id == "SKU-099999"
    # Generous bound: a guard against accidental quadratic work, not a benchmark.
    assert time.perf_counter() - started < 30


def test_content_dir_reports_every_seller(tmp_path: Path, write_seller: WriteSeller) -> None:
    write_seller("good-shop")
    write_seller("bad-shop", seller="name: x\n")
    (tmp_path / "content" / "Bad Name").mkdir()
    with pytest.raises(ContentError) as info:
        load_content(tmp_path / "content")
    text = str(info.value)
    assert "bad-shop/seller.yaml" in text
    assert "'Bad Name' is not a seller id" in text


def test_content_dir_missing(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="content directory not found"):
        load_content(tmp_path / "nope")


def test_demo_content_loads() -> None:
    root = Path(__file__).resolve().parents[3] / "examples" / "sellers"
    if not root.is_dir():
        pytest.skip("demo content not present")
    content = load_content(root)
    assert content.sellers
    for seller in content.sellers.values():
        assert len(seller.entries) >= 25


def test_returns_timezone_and_digest_hour_are_read(write_seller: WriteSeller) -> None:
    seller_yaml = (
        SELLER_YAML + "returns:\n  decide_within: 2h\ntimezone: Europe/Moscow\ndigest_hour: 7\n"
    )
    seller = load_seller(write_seller(seller=seller_yaml))
    assert seller.returns.decide_within == timedelta(hours=2)
    assert seller.timezone == "Europe/Moscow"
    assert seller.digest_hour == 7


def test_returns_defaults(write_seller: WriteSeller) -> None:
    seller = load_seller(write_seller(seller=SELLER_YAML))
    assert seller.returns.decide_within == timedelta(hours=24)
    assert (seller.timezone, seller.digest_hour) == ("UTC", 9)


def test_returns_timezone_and_digest_hour_errors(write_seller: WriteSeller) -> None:
    seller_yaml = (
        SELLER_YAML
        + "returns:\n  decide_within: soon\n  decide_whithin: 1h\n"
        + "timezone: Mars/Olympus\ndigest_hour: 24\n"
    )
    joined = "\n".join(problems_of(write_seller(seller=seller_yaml)))
    assert "returns.decide_within: expected a duration" in joined
    assert "returns.decide_whithin: unknown key (did you mean 'decide_within'?)" in joined
    assert "timezone: unknown time zone 'Mars/Olympus'" in joined
    assert "digest_hour: expected an hour of the day" in joined


def test_staff_language_is_read_and_defaults_to_none(write_seller: WriteSeller) -> None:
    seller = load_seller(write_seller(seller=SELLER_YAML + "staff_language: zh\n"))
    assert seller.staff_language == "zh"
    assert load_seller(write_seller(seller=SELLER_YAML)).staff_language is None
    # A bot language the seller does not answer buyers in is fine for staff.
    ru_only = SELLER_YAML.replace("[ru, en, zh]", "[ru]") + "staff_language: zh\n"
    assert load_seller(write_seller(seller=ru_only)).staff_language == "zh"


def test_staff_language_errors_name_file_line_and_key(write_seller: WriteSeller) -> None:
    for value, expected in (
        ("de", "staff_language: expected one of ru, en, zh, not 'de'"),
        ("Chinese", "staff_language: expected a language code such as ru, en or zh"),
        ("[zh]", "staff_language: expected a language code such as ru, en or zh"),
    ):
        problems = problems_of(write_seller(seller=SELLER_YAML + f"staff_language: {value}\n"))
        assert any(p.endswith(expected) for p in problems), (value, problems)
        assert any("seller.yaml:4:" in p for p in problems), problems
