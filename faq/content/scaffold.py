"""``sellerdesk init``: a new seller folder with commented example files.

The files are templates below: seller.yaml, faq.yaml (delivery time, order status,
returns, payment), templates.yaml and products.csv, in the languages the seller
chose. Each YAML file starts with a ``yaml-language-server`` line naming its JSON
Schema, so an editor with YAML support completes keys and flags mistakes while the
admin types. The scaffold passes ``sellerdesk faq check`` as written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from sellerdesk.faq.content.checker import SELLER_ID

#: Languages a scaffold can be written in (the bot's own texts exist in these).
SCAFFOLD_LANGUAGES = ("ru", "en", "zh")
#: Written when no staff chat id is given: a valid number that is clearly not a real
#: chat, so the file loads and the admin sees what to replace.
PLACEHOLDER_CHAT_ID = -1000000000000
SCHEMA_FILES = {
    "seller.yaml": "seller.schema.json",
    "faq.yaml": "faq.schema.json",
    "templates.yaml": "templates.schema.json",
}


class ScaffoldError(Exception):
    """The seller folder cannot be created; the message says why, for the admin."""


@dataclass(frozen=True)
class SellerSpec:
    """What the admin asked for."""

    seller_id: str
    name: str
    languages: tuple[str, ...]
    support_chat_id: int | None = None


def clean_name(name: str) -> str:
    """The shop name on one line; ScaffoldError when nothing is left."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ScaffoldError("the shop name must not be empty")
    return cleaned


def validate_seller_id(seller_id: str) -> None:
    """Raise ScaffoldError unless ``seller_id`` can name a seller folder."""
    if not SELLER_ID.match(seller_id):
        raise ScaffoldError(
            f"{seller_id!r} is not a valid seller id: 2-32 characters of a-z, 0-9 and '-', "
            "starting with a letter or digit (it goes into deep links: t.me/<bot>?start=<id>)"
        )


def parse_languages(value: str) -> tuple[str, ...]:
    """``"ru,en,zh"`` -> ``("ru", "en", "zh")``; ScaffoldError for anything else."""
    langs = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    if not langs:
        raise ScaffoldError("--languages needs at least one of: " + ", ".join(SCAFFOLD_LANGUAGES))
    unknown = [lang for lang in langs if lang not in SCAFFOLD_LANGUAGES]
    if unknown:
        raise ScaffoldError(
            f"unknown language(s) {', '.join(unknown)}; choose from {', '.join(SCAFFOLD_LANGUAGES)}"
        )
    if len(set(langs)) != len(langs):
        raise ScaffoldError("a language is listed twice in --languages")
    return langs


def default_name(seller_id: str) -> str:
    """``lotus-wear`` -> ``Lotus Wear``."""
    return " ".join(word.capitalize() for word in seller_id.split("-") if word)


def schema_dir() -> Path:
    """Where the JSON Schemas of the content files are (inside the installed package)."""
    return Path(str(resources.files("sellerdesk.faq") / "schemas")).resolve()


def schema_reference(folder: Path, schema_file: str) -> str:
    """The ``$schema`` value for a file in ``folder``: a relative path when the folder is
    inside the project holding the schemas (it keeps working when the project moves or
    is cloned elsewhere), otherwise the absolute path of the installed schema."""
    schemas = schema_dir().resolve()
    target = schemas / schema_file
    project = schemas.parent.parent
    here = folder.resolve()
    if here.is_relative_to(project):
        return Path(os.path.relpath(target, here)).as_posix()
    return target.as_posix()


def _quote(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML 1.2)."""
    return json.dumps(value, ensure_ascii=False)


# ------------------------------------------------------------------------- the templates

SELLER_TEMPLATE = Template("""\
# yaml-language-server: $$schema=$schema
# $name: the seller's settings (docs/content-format.md, "seller.yaml").
# Check the folder after every edit:  sellerdesk faq check

# The shop's name, shown to buyers.
name: $quoted_name

# The Telegram id of the staff supergroup where cases arrive (negative, starts with -100).
$chat_comment
support_chat_id: $chat_id

# true: one forum topic per case (turn on Topics in the group's settings);
# false: staff answer by replying to the case's messages in a plain group.
topics: true

# The languages the bot answers in; the first is the default.
languages: [$languages]

# Optional: Telegram user ids allowed to act on cases. Without it, any member
# writing in the staff chat may.
# staff: [111111, 222222]

# Optional: what a buyer sees when opening the shop, per language.
greeting:
$greeting
# Optional: reply deadlines (these are the defaults). Durations: 90s, 15m, 24h, 2d.
sla:
  first_reply: 24h              # deadline for the first staff reply to a case
  remind_after: [2h, 12h, 20h]  # reminders in the case's topic, in order
  escalate_after: 24h           # past this, the platform admin chat is told

# Optional: deadline for a decision on a /return request.
returns:
  decide_within: 24h

# Optional: the daily digest for staff, at this local hour (0-23) in this IANA time zone.
timezone: Europe/Moscow
digest_hour: 9

# Optional: when staff work, in `timezone`. Outside these hours a buyer handed to staff
# hears when staff are back (and the `away` text); with `clock: business` under `sla`
# the deadlines count these hours only.
# hours:
#   mon-fri: "09:00-18:00"
#   sat: "10:00-14:00"
# holidays: [2027-01-01..2027-01-08]
# away:
#   ru: Мы ответим в рабочее время.
""")

FAQ_HEADER = Template("""\
# yaml-language-server: $$schema=$schema
# $name: FAQ entries (docs/content-format.md, "faq.yaml").
# The bot compares a buyer's question with every entry's questions: it answers when
# one entry clearly fits, offers up to three when several might, and hands the
# question to staff otherwise. Replace the examples with the shop's real answers.
entries:
""")

TEMPLATES_HEADER = Template("""\
# yaml-language-server: $$schema=$schema
# $name: staff quick replies (docs/content-format.md, "templates.yaml").
# In a case's topic, staff send /t <id>; the buyer gets the text in their language.
templates:
""")

PRODUCTS_CSV = """\
offer_id,name,description,color,sizes
EX-0001,Example cotton T-shirt,"Replace this row with the shop's products: offer_id is the \
Ozon offer id, name and description are what buyers ask about; every other column is an \
attribute (color, sizes...).",white,"S, M, L"
"""

GREETINGS = {
    "ru": "Здравствуйте! Спросите о заказе, доставке или возврате — отвечу сразу или передам менеджеру.",  # noqa: E501
    "en": "Hello! Ask about your order, delivery or a return; I will answer at once or pass you to a manager.",  # noqa: E501
    "zh": "您好！请询问订单、物流或退货问题，我会立即回答或为您转接人工客服。",
}


@dataclass(frozen=True)
class ExampleEntry:
    id: str
    questions: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    keywords: tuple[str, ...] = ()
    handoff: bool = False


EXAMPLE_ENTRIES = (
    ExampleEntry(
        id="delivery-time",
        questions={
            "ru": ("Сколько идет доставка?", "Когда придет мой заказ?", "Сколько ждать посылку?"),
            "en": ("How long does delivery take?", "When will my order arrive?"),
            "zh": ("多久能到货？", "我的订单什么时候能到？"),
        },
        answer={
            "ru": "Мы отправляем заказ за 1–3 дня, доставка занимает 10–20 дней. Точную дату Ozon показывает в карточке заказа.",  # noqa: E501
            "en": "We dispatch orders within 1–3 days; delivery takes 10–20 days. Ozon shows the exact date on the order page.",  # noqa: E501
            "zh": "我们在1–3天内发货，运输需要10–20天。具体日期请查看 Ozon 订单页面。",
        },
        keywords=("доставка", "delivery", "到货"),
    ),
    ExampleEntry(
        id="order-status",
        questions={
            "ru": ("Где мой заказ?", "Как отследить посылку?", "Заказ не двигается"),
            "en": ("Where is my order?", "How can I track my parcel?"),
            "zh": ("我的订单在哪里？", "怎么查物流？"),
        },
        answer={
            "ru": "Статус и трек-номер есть в приложении Ozon: «Заказы» → ваш заказ. Если статус не менялся больше 7 дней, напишите номер заказа — мы проверим.",  # noqa: E501
            "en": "The status and tracking number are in the Ozon app under Orders. If the status has not changed for over 7 days, send us the order number and we will check.",  # noqa: E501
            "zh": "订单状态和物流单号可在 Ozon 应用的“订单”中查看。如果超过7天状态没有变化，请发送订单号，我们会核实。",  # noqa: E501
        },
        keywords=("трек", "tracking", "物流"),
    ),
    ExampleEntry(
        id="returns",
        questions={
            "ru": ("Как вернуть товар?", "Хочу оформить возврат", "Пришел брак, что делать?"),
            "en": ("How do I return an item?", "The item is defective, what should I do?"),
            "zh": ("怎么退货？", "收到的商品有瑕疵怎么办？"),
        },
        answer={
            "ru": "Оформите возврат в приложении Ozon: «Заказы» → товар → «Вернуть». Если товар с браком, пришлите фото — менеджер ответит в этом чате.",  # noqa: E501
            "en": "Request a return in the Ozon app: Orders → the item → Return. If the item is defective, send a photo; a manager will answer in this chat.",  # noqa: E501
            "zh": "请在 Ozon 应用中申请退货：“订单”→商品→“退货”。如果商品有瑕疵，请发送照片，客服会在此回复。",  # noqa: E501
        },
        keywords=("возврат", "return", "退货"),
        handoff=True,
    ),
    ExampleEntry(
        id="payment-methods",
        questions={
            "ru": ("Как оплатить заказ?", "Можно оплатить при получении?"),
            "en": ("How can I pay?", "Can I pay on delivery?"),
            "zh": ("怎么付款？", "可以货到付款吗？"),
        },
        answer={
            "ru": "Оплата проходит через Ozon: картой, через СБП или Ozon Банк при оформлении заказа.",  # noqa: E501
            "en": "Payment goes through Ozon: by card, SBP or Ozon Bank when you place the order.",
            "zh": "通过 Ozon 付款：下单时可用银行卡、SBP 或 Ozon 银行支付。",
        },
    ),
)

#: Comments on the first entry's keys, so the file explains itself.
ENTRY_COMMENTS = {
    "id": "unique id: lowercase letters, digits and '-'",
    "questions": "how buyers ask, per language; more phrasings match more buyers",
    "answer": "the answer per language (the buyer's language, else the first one)",
    "keywords": "optional: words that mark this entry",
    "handoff": "optional, default false; true: answer, then open a case for staff too",
}

EXAMPLE_TEMPLATES = (
    (
        "ask-order-number",
        {
            "ru": "Подскажите, пожалуйста, номер заказа — он есть в приложении Ozon в разделе «Заказы».",  # noqa: E501
            "en": "Could you please send your order number? You will find it in the Ozon app under Orders.",  # noqa: E501
            "zh": "请提供您的订单号，可在 Ozon 应用的“订单”中找到。",
        },
    ),
    (
        "ask-photos",
        {
            "ru": "Пришлите, пожалуйста, 2–3 фото товара и ярлыка, чтобы мы быстрее решили вопрос.",
            "en": "Please send 2–3 photos of the item and its label so we can resolve this faster.",
            "zh": "请发送2–3张商品和吊牌的照片，以便我们尽快处理。",
        },
    ),
)


def _comment(key: str, first: bool) -> str:
    return f"  # {ENTRY_COMMENTS[key]}" if first else ""


def render_entry(entry: ExampleEntry, languages: Sequence[str], *, first: bool) -> str:
    lines = [f"  - id: {entry.id}{_comment('id', first)}"]
    lines.append(f"    questions:{_comment('questions', first)}")
    for lang in languages:
        quoted = ", ".join(_quote(q) for q in entry.questions[lang])
        lines.append(f"      {lang}: [{quoted}]")
    lines.append(f"    answer:{_comment('answer', first)}")
    for lang in languages:
        lines.append(f"      {lang}: {_quote(entry.answer[lang])}")
    if entry.keywords or first:
        keywords = ", ".join(_quote(k) for k in entry.keywords)
        lines.append(f"    keywords: [{keywords}]{_comment('keywords', first)}")
    if entry.handoff or first:
        flag = "true" if entry.handoff else "false"
        lines.append(f"    handoff: {flag}{_comment('handoff', first)}")
    return "\n".join(lines) + "\n"


def render_faq(spec: SellerSpec, schema: str) -> str:
    body = "\n".join(
        render_entry(entry, spec.languages, first=index == 0)
        for index, entry in enumerate(EXAMPLE_ENTRIES)
    )
    return FAQ_HEADER.substitute(schema=schema, name=spec.name) + body


def render_templates(spec: SellerSpec, schema: str) -> str:
    blocks = []
    for template_id, texts in EXAMPLE_TEMPLATES:
        lines = [f"  - id: {template_id}", "    text:"]
        lines += [f"      {lang}: {_quote(texts[lang])}" for lang in spec.languages]
        blocks.append("\n".join(lines) + "\n")
    return TEMPLATES_HEADER.substitute(schema=schema, name=spec.name) + "\n".join(blocks)


def render_seller(spec: SellerSpec, schema: str) -> str:
    if spec.support_chat_id is None:
        chat_comment = (
            "# REPLACE this placeholder with the real id (see the steps printed by init)."
        )
        chat_id = PLACEHOLDER_CHAT_ID
    else:
        chat_comment = "# Add the bot to this group as an admin allowed to manage topics."
        chat_id = spec.support_chat_id
    greeting = "".join(f"  {lang}: {_quote(GREETINGS[lang])}\n" for lang in spec.languages)
    return SELLER_TEMPLATE.substitute(
        schema=schema,
        name=spec.name,
        quoted_name=_quote(spec.name),
        chat_comment=chat_comment,
        chat_id=str(chat_id),
        languages=", ".join(spec.languages),
        greeting=greeting,
    )


def render_files(spec: SellerSpec, folder: Path) -> dict[str, str]:
    """The file names and texts of the new seller folder ``folder``."""

    def schema(name: str) -> str:
        return schema_reference(folder, SCHEMA_FILES[name])

    return {
        "seller.yaml": render_seller(spec, schema("seller.yaml")),
        "faq.yaml": render_faq(spec, schema("faq.yaml")),
        "templates.yaml": render_templates(spec, schema("templates.yaml")),
        "products.csv": PRODUCTS_CSV,
    }


def create_seller(content_dir: Path, spec: SellerSpec) -> Path:
    """Write the new seller folder under ``content_dir`` and return it.

    All or nothing: the files are written into a hidden folder (the loader skips
    those) that is renamed into place at the end, so a failure leaves no half-made
    seller behind.

    Raises:
        ScaffoldError: the id is invalid, the folder exists, or it cannot be written.
    """
    validate_seller_id(spec.seller_id)
    folder = content_dir / spec.seller_id
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists; nothing was changed")
    try:
        content_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.seller_id}-", dir=content_dir))
    except OSError as exc:
        raise ScaffoldError(f"cannot create {folder}: {exc.strerror}") from exc
    try:
        for name, text in render_files(spec, folder).items():
            (staging / name).write_text(text, encoding="utf-8")
        staging.chmod(0o755)
        if folder.exists():  # created meanwhile by someone else
            raise ScaffoldError(f"{folder} already exists; nothing was changed")
        staging.rename(folder)
    except OSError as exc:
        raise ScaffoldError(f"cannot write {folder}: {exc.strerror}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def _sample_question(spec: SellerSpec) -> str:
    return EXAMPLE_ENTRIES[1].questions[spec.languages[0]][0]


def next_steps(folder: Path, content_dir: Path, spec: SellerSpec) -> str:
    """What the admin does after ``init``, printed by the command."""
    lines = [
        f"Created {folder}: seller.yaml, faq.yaml, templates.yaml, products.csv.",
        "",
        "Next steps:",
        "  1. Edit the files: replace the examples with the shop's answers and products.",
        "     Editors with YAML support (VS Code + the YAML extension) complete keys and",
        "     flag mistakes from the schema named on each file's first line.",
    ]
    if spec.support_chat_id is None:
        lines += [
            "  2. Set support_chat_id in seller.yaml (it is a placeholder now). To find it:",
            "     create a supergroup with Topics on, add the bot as an admin that may manage",
            "     topics, send a message there, then either open",
            "     https://api.telegram.org/bot<TOKEN>/getUpdates (with the bot stopped) and",
            "     read message.chat.id, or open the group in web.telegram.org: the number",
            "     after '#' in the address (it starts with -100).",
        ]
    else:
        lines += [
            "  2. Make sure the bot is an admin of the staff group, allowed to manage topics.",
        ]
    lines += [
        f"  3. Check the content:  sellerdesk faq check {content_dir}",
        f"  4. Try a question:     sellerdesk faq ask {spec.seller_id} "
        f"{_quote(_sample_question(spec))} --content {content_dir}",
        f"  5. Buyers open the shop with  t.me/<bot>?start={spec.seller_id}",
    ]
    return "\n".join(lines)
