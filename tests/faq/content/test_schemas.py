"""The JSON Schemas of seller.yaml, faq.yaml and templates.yaml describe what the loader
accepts: the same keys, the same rejections, the same acceptances; every demo file and
every file ``sellerdesk init`` writes validates."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from sellerdesk.faq.content.errors import Problem
from sellerdesk.faq.content.faq_file import load_faq_file, load_templates_file
from sellerdesk.faq.content.loader import known_keys, required_keys
from sellerdesk.faq.content.scaffold import SellerSpec, create_seller, schema_dir
from sellerdesk.faq.content.seller_file import load_seller_file

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "examples" / "sellers" / "lotus-wear"
KINDS = ("seller", "faq", "templates")
SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def _schema(kind: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((schema_dir() / f"{kind}.schema.json").read_text("utf-8"))
    return data


def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(_schema(kind))


def _parse(text: str) -> Any:
    """The document as an editor sees it: YAML 1.2 into plain values."""
    return YAML(typ="safe", pure=True).load(text)


def _loader_problems(kind: str, text: str, tmp_path: Path) -> list[Problem]:
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text, encoding="utf-8")
    if kind == "seller":
        return load_seller_file(path, "shop")[1]
    loaders: dict[str, Callable[[Path], tuple[Any, list[Problem]]]] = {
        "faq": load_faq_file,
        "templates": load_templates_file,
    }
    return loaders[kind](path)[1]


def _errors(kind: str, text: str) -> list[str]:
    return [e.message for e in _validator(kind).iter_errors(_parse(text))]


@pytest.mark.parametrize("kind", KINDS)
def test_the_schemas_are_valid_draft_2020_12(kind: str) -> None:
    schema = _schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    # Editors show these: every property says what it is.
    for name, prop in schema["properties"].items():
        assert prop.get("description") or prop.get("title"), name


@pytest.mark.parametrize("kind", KINDS)
def test_every_demo_file_validates_and_names_its_schema(kind: str) -> None:
    path = DEMO / f"{kind}.yaml"
    text = path.read_text("utf-8")
    assert _errors(kind, text) == []
    match = SCHEMA_LINE.match(text.splitlines()[0])
    assert match is not None, "the first line names the schema for yaml-language-server"
    assert (path.parent / match.group(1)).resolve() == (schema_dir() / f"{kind}.schema.json")


@pytest.mark.parametrize("languages", [("ru", "en", "zh"), ("zh",)])
def test_files_written_by_init_validate(tmp_path: Path, languages: tuple[str, ...]) -> None:
    folder = create_seller(tmp_path, SellerSpec("new-shop", 'Shop: "A" #1', languages))
    for kind in KINDS:
        text = (folder / f"{kind}.yaml").read_text("utf-8")
        assert _errors(kind, text) == [], kind
        assert _loader_problems(kind, text, tmp_path) == [], kind


def _properties(schema: dict[str, Any], *path: str) -> set[str]:
    node = schema
    for step in path:
        node = node[step]
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return set(node["properties"])


def test_the_schemas_know_exactly_the_loaders_keys() -> None:
    seller, faq, templates = (_schema(kind) for kind in KINDS)
    known = known_keys()
    assert _properties(seller) == known["seller"]
    assert _properties(seller, "properties", "sla") == known["seller.sla"]
    assert _properties(seller, "properties", "returns") == known["seller.returns"]
    assert _properties(seller, "$defs", "support_chat") == known["seller.support_chat"]
    assert _properties(seller, "properties", "ozon") == known["seller.ozon"]
    business = _properties(seller, "properties", "telegram_business")
    assert business == known["seller.telegram_business"]
    assert _properties(faq) == known["faq"]
    assert _properties(faq, "$defs", "entry") == known["faq.entry"]
    assert _properties(faq, "$defs", "button") == known["faq.button"]
    assert _properties(templates) == known["templates"]
    assert _properties(templates, "$defs", "template") == known["templates.template"]
    required = required_keys()
    assert set(seller["required"]) == required["seller"]
    assert set(seller["$defs"]["support_chat"]["required"]) == required["seller.support_chat"]
    assert set(seller["properties"]["ozon"]["required"]) == required["seller.ozon"]
    business_required = set(seller["properties"]["telegram_business"]["required"])
    assert business_required == required["seller.telegram_business"]
    assert set(faq["$defs"]["entry"]["required"]) == required["faq.entry"]
    assert set(faq["$defs"]["button"]["required"]) == required["faq.button"]
    assert set(templates["$defs"]["template"]["required"]) == required["templates.template"]


SELLER_OK = "name: Shop\nsupport_chat_id: -1001\nlanguages: [ru]\n"
ENTRY_OK = "entries:\n  - id: a\n    questions: [q]\n    answer: x\n"

#: Documents the loader rejects; the schema must reject them too.
BROKEN = [
    ("seller", SELLER_OK + "nmae: typo\n"),  # unknown key
    ("seller", "name: Shop\nlanguages: [ru]\n"),  # missing support_chat_id
    ("seller", "name: Shop\nsupport_chat_id: '-1001'\nlanguages: [ru]\n"),  # quoted id
    ("seller", "name: Shop\nsupport_chat_id: -1001\nlanguages: ru\n"),  # not a list
    ("seller", "name: Shop\nsupport_chat_id: -1001\nlanguages: []\n"),
    ("seller", "name: Shop\nsupport_chat_id: -1001\nlanguages: [ru, ru]\n"),
    ("seller", "name: Shop\nsupport_chat_id: -1001\nlanguages: [russian]\n"),
    ("seller", "name: ''\nsupport_chat_id: -1001\nlanguages: [ru]\n"),
    ("seller", SELLER_OK + "support_chats: [{chat_id: 5}]\n"),  # a user id
    ("seller", SELLER_OK + "ozon: {client_id: 12ab, api_key_env: OZON_KEY}\n"),
    ("seller", SELLER_OK + "ozon: {client_id: '1', api_key_env: 0c9f-1e5a}\n"),  # a key
    ("seller", SELLER_OK + "ozon: {client_id: '1'}\n"),
    ("seller", SELLER_OK + "ozon: {client_id: '1', api_key_env: K, chat: true}\n"),
    ("seller", SELLER_OK + "telegram_business: {account: shop}\n"),  # no @, not digits
    ("seller", SELLER_OK + "telegram_business: {account: '@shop', quiet_minutes: 2000}\n"),
    ("seller", SELLER_OK + "telegram_business: {quiet_minutes: 5}\n"),
    ("seller", SELLER_OK + "support_chats: [{chat_id: '-1002'}]\n"),
    ("seller", SELLER_OK + "support_chats: [{languages: [ru]}]\n"),  # no chat_id
    ("seller", SELLER_OK + "support_chats: [{chat_id: -1002, langs: [ru]}]\n"),
    ("seller", SELLER_OK + "support_chats: [{chat_id: -1002, languages: [russian]}]\n"),
    ("seller", SELLER_OK + "topics: yes\n"),  # YAML 1.2: text, not a boolean
    ("seller", SELLER_OK + "staff: [ann]\n"),
    ("seller", SELLER_OK + "sla:\n  first_reply: 24\n"),  # no unit
    ("seller", SELLER_OK + "sla:\n  first_reply: 1w\n"),  # unknown unit
    ("seller", SELLER_OK + "sla:\n  first_reply: 0h\n"),  # not positive
    ("seller", SELLER_OK + "sla:\n  remind_after: 2h\n"),  # not a list
    ("seller", SELLER_OK + "sla:\n  reply: 2h\n"),  # unknown key
    ("seller", SELLER_OK + "returns:\n  decide_within: soon\n"),
    ("seller", SELLER_OK + "returns:\n  decide: 2h\n"),
    ("seller", SELLER_OK + "digest_hour: 24\n"),
    ("seller", SELLER_OK + "digest_hour: '9'\n"),
    ("seller", SELLER_OK + "timezone: ''\n"),
    ("seller", SELLER_OK + "greeting: {russian: Привет}\n"),
    ("seller", SELLER_OK + "greeting: {}\n"),
    ("seller", SELLER_OK + "staff_language: Russian\n"),
    ("seller", SELLER_OK + "hours:\n  funday: 09:00-18:00\n"),
    ("seller", SELLER_OK + "hours:\n  Mon: 09:00-18:00\n"),
    ("seller", SELLER_OK + "hours:\n  mon: 9\n"),
    ("seller", SELLER_OK + "hours:\n  mon: always\n"),
    ("seller", SELLER_OK + "hours: {}\n"),
    ("seller", SELLER_OK + "holidays: [08.03.2026]\n"),
    ("seller", SELLER_OK + "holidays: 2026-03-08\n"),
    ("seller", SELLER_OK + "sla:\n  clock: office\n"),
    ("seller", SELLER_OK + "hours: {mon: 09:00-18:00}\naway: {russian: x}\n"),
    ("seller", "- name: Shop\n"),  # not a mapping
    ("faq", "entries:\n  - id: Delivery_Time\n    questions: [q]\n    answer: x\n"),  # bad id
    ("faq", "entries:\n  - id: -x\n    questions: [q]\n    answer: x\n"),
    ("faq", ENTRY_OK + "    hand_off: true\n"),  # unknown key
    ("faq", ENTRY_OK + "    handoff: 'true'\n"),  # wrong type
    ("faq", ENTRY_OK + "    keywords: delivery\n"),
    ("faq", ENTRY_OK + "    media: [size-chart.gif]\n"),  # not png, jpg or pdf
    ("faq", ENTRY_OK + "    media: /etc/passwd.png\n"),  # not a list
    ("faq", ENTRY_OK + "    buttons: [{text: Sizes, url: 'ftp://example.com/s'}]\n"),
    ("faq", ENTRY_OK + "    buttons: [{text: Sizes, url: example.com/sizes}]\n"),
    ("faq", ENTRY_OK + "    buttons: [{text: Sizes}]\n"),  # no url
    ("faq", ENTRY_OK + "    buttons: [{text: {russian: Размеры}, url: 'https://e.com'}]\n"),
    ("faq", "entries:\n  - id: a\n    questions: []\n    answer: x\n"),
    ("faq", "entries:\n  - id: a\n    questions: q\n    answer: x\n"),
    ("faq", "entries:\n  - id: a\n    questions: {ru: q}\n    answer: x\n"),
    ("faq", "entries:\n  - id: a\n    questions: [q]\n    answer: ''\n"),
    ("faq", "entries:\n  - id: a\n    questions: [q]\n    answer: [x]\n"),
    ("faq", "entries:\n  - id: a\n    questions: [q]\n    answer: {english: x}\n"),
    ("faq", "entries:\n  - id: a\n    questions: [q]\n"),  # no answer
    ("faq", "entries:\n  - id: a\n    questions: [q, '']\n    answer: x\n"),
    ("faq", "entries: {}\n"),
    ("faq", "questions: []\n"),
    ("faq", ENTRY_OK.replace("entries", "entrys")),
    ("templates", "templates:\n  - id: Ask\n    text: x\n"),
    ("templates", "templates:\n  - id: ask\n    text: x\n    lang: ru\n"),
    ("templates", "templates:\n  - id: ask\n"),
    ("templates", "templates:\n  - id: ask\n    text: {ru: ''}\n"),
    ("templates", "template:\n  - id: ask\n    text: x\n"),
]


@pytest.mark.parametrize(("kind", "text"), BROKEN)
def test_what_the_loader_rejects_the_schema_rejects(kind: str, text: str, tmp_path: Path) -> None:
    assert _loader_problems(kind, text, tmp_path), "the loader accepts it: not a broken case"
    assert _errors(kind, text), "the schema accepts what the loader rejects"


#: docs/content-format.md's examples, and the other forms the loader accepts.
CONTRACT_SELLER = """\
name: Gadget Hub
support_chat_id: -1001000000001
topics: true
languages: [ru, en, zh]
staff: [111111, 222222]
greeting:
  ru: Здравствуйте! Задайте вопрос о товаре или заказе.
sla:
  first_reply: 24h
  remind_after: [2h, 12h, 20h]
  escalate_after: 24h
"""
CONTRACT_FAQ = """\
entries:
  - id: delivery-time
    questions:
      ru: [Сколько идет доставка?, Когда придет заказ?]
      en: [How long does delivery take?]
      zh: [多久能到货？]
    answer:
      ru: Доставка из Китая занимает 10–20 дней.
      en: Delivery from China takes 10–20 days.
      zh: 从中国发货需要10到20天。
    keywords: [доставка, delivery, 到货]
    handoff: false
"""
CONTRACT_TEMPLATES = """\
templates:
  - id: return-address
    text:
      ru: "Адрес для возврата: ..."
      en: "Return address: ..."
"""
ACCEPTED = [
    ("seller", CONTRACT_SELLER),
    ("seller", SELLER_OK),
    ("seller", "name: 42\nsupport_chat_id: 5\nlanguages: [kk, ru]\ntopics: false\n"),
    ("seller", SELLER_OK + "staff: []\ngreeting: Привет\n"),
    ("seller", SELLER_OK + "sla:\n  first_reply: 90s\n  remind_after: [15m, 1.5h]\n"),
    (
        "seller",
        SELLER_OK
        + "sla:\n  clock: business\ntimezone: Europe/Moscow\n"
        + 'hours:\n  mon-fri: "09:00-18:00"\n  sat: 10:00-14:00\n  sun: closed\n'
        + "holidays: [2026-01-01..2026-01-08, 2026-03-08]\n"
        + "away:\n  ru: Мы ответим в рабочее время.\n",
    ),
    ("seller", SELLER_OK + "hours: {fri-mon: '09:00-13:00, 14:00-24:00'}\naway: Позже\n"),
    ("seller", SELLER_OK + "sla:\n  clock: wall\nholidays: []\n"),
    (
        "seller",
        SELLER_OK
        + "returns:\n  decide_within: 2d\ntimezone: Europe/Moscow\ndigest_hour: 0\n"
        + "staff_language: zh\n",
    ),
    ("faq", CONTRACT_FAQ),
    ("faq", ENTRY_OK),
    ("faq", "entries: []\n"),
    ("faq", "entries:\n  - id: 404\n    questions: [yes, 12]\n    answer: true\n"),
    ("faq", "entries:\n  - id: a1\n    questions: {en: [q]}\n    answer: {en: x, kk: y}\n"),
    ("faq", ENTRY_OK + "    keywords: []\n    handoff: true\n"),
    ("templates", CONTRACT_TEMPLATES),
    ("templates", "templates:\n  - id: t\n    text: Hello\n"),
    ("templates", "templates: []\n"),
]


@pytest.mark.parametrize(("kind", "text"), ACCEPTED)
def test_what_the_loader_accepts_the_schema_accepts(kind: str, text: str, tmp_path: Path) -> None:
    assert _loader_problems(kind, text, tmp_path) == []
    assert _errors(kind, text) == []


def test_editors_get_help_for_completion() -> None:
    seller = _schema("seller")
    assert seller["$defs"]["duration"]["examples"] == ["90s", "15m", "24h", "2d"]
    assert seller["properties"]["sla"]["properties"]["first_reply"]["default"] == "24h"
    entry = _schema("faq")["$defs"]["entry"]
    assert entry["properties"]["handoff"]["default"] is False
    assert "delivery-time" in entry["properties"]["id"]["examples"]
