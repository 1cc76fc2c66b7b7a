"""What the bot says to buyers, per language (ru, en, zh); English is the fallback."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "ru": "Здравствуйте! Это поддержка магазина «{shop}». Задайте вопрос о товаре или заказе.",
        "en": "Hello! This is {shop} support. Ask a question about a product or an order.",
        "zh": "您好！这里是{shop}客服。请提出关于商品或订单的问题。",
    },
    "pick_seller": {
        "ru": "Выберите магазин:",
        "en": "Choose a shop:",
        "zh": "请选择店铺：",
    },
    "unknown_seller": {
        "ru": "Магазин «{seller}» не найден. Откройте ссылку из карточки товара ещё раз.",
        "en": "Shop “{seller}” was not found. Please open the link from the product page again.",
        "zh": "未找到店铺“{seller}”。请重新打开商品页面中的链接。",
    },
    "no_seller": {
        "ru": "Сначала выберите магазин: отправьте /start.",
        "en": "Choose a shop first: send /start.",
        "zh": "请先选择店铺：发送 /start。",
    },
    "suggest": {
        "ru": "Возможно, вы спрашиваете об этом:",
        "en": "Perhaps you mean one of these:",
        "zh": "您可能想问：",
    },
    "handoff": {
        "ru": (
            "В справке магазина нет ответа на этот вопрос. Напишите продавцу в чат заказа "
            "на Ozon: там отвечают в течение 24 часов."
        ),
        "en": (
            "The shop's help pages have no answer to this. Please write to the seller in "
            "your order's chat on Ozon: they reply within 24 hours."
        ),
        "zh": "店铺的常见问题中没有这个问题的答案。请在Ozon订单聊天中联系卖家，24小时内回复。",
    },
    "text_only": {
        "ru": "Пожалуйста, напишите вопрос текстом.",
        "en": "Please type your question as text.",
        "zh": "请用文字输入您的问题。",
    },
    "answer_other_language": {
        "ru": "Ответ есть только на другом языке:",
        "en": "This answer is only available in another language:",
        "zh": "此答案只有其他语言版本：",
    },
    "stale_button": {
        "ru": "Эта кнопка устарела. Задайте вопрос ещё раз.",
        "en": "This button is out of date. Please ask again.",
        "zh": "此按钮已失效，请重新提问。",
    },
}

LANGUAGES = ("ru", "en", "zh")


def pick_language(*candidates: str | None) -> str:
    """The first candidate the bot speaks (``ru-RU`` counts as ``ru``); else English."""
    for candidate in candidates:
        if candidate:
            code = candidate.split("-")[0].lower()
            if code in LANGUAGES:
                return code
    return "en"


def text(key: str, lang: str, **values: str) -> str:
    """The text ``key`` in ``lang`` (English when missing), with values filled in."""
    variants = TEXTS[key]
    return variants.get(lang, variants["en"]).format(**values)
