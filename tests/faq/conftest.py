"""Helpers to write small seller folders for the content and matcher tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

SELLER_YAML = """\
name: Test Shop
support_chat_id: -1001000000001
languages: [ru, en, zh]
"""

FAQ_YAML = """\
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
  - id: customs
    questions:
      ru: [Нужно ли платить таможенную пошлину?, Будут ли проблемы на таможне?]
      en: [Do I have to pay customs duty?]
      zh: [需要交关税吗？]
    answer:
      ru: Пошлину платит продавец.
      en: The seller pays customs duty.
      zh: 关税由卖家支付。
  - id: return
    questions:
      ru: [Как вернуть товар?, Хочу оформить возврат]
      en: [How do I return an item?]
      zh: [怎么退货？]
    answer:
      ru: Оформите возврат в личном кабинете Ozon.
      en: Request a return in your Ozon account.
      zh: 请在Ozon账户中申请退货。
    handoff: true
  - id: size-chart
    questions:
      ru: [Как подобрать размер?, Есть ли размерная сетка?]
      en: [How do I choose my size?]
      zh: [怎么选尺码？]
    answer:
      ru: Размерная сетка есть на фото товара.
      en: The size chart is in the product photos.
      zh: 尺码表在商品图片里。
"""

PRODUCTS_CSV = """\
offer_id,name,description,Цвет,Емкость
PB-20K,Павербанк 20000 мАч,Внешний аккумулятор с быстрой зарядкой,черный,20000 мАч
LW-SNK-220,Кроссовки беговые мужские,Легкие кроссовки с сетчатым верхом,белый,
"""


WriteSeller = Callable[..., Path]


@pytest.fixture
def write_seller(tmp_path: Path) -> WriteSeller:
    """Write a seller folder under tmp_path/content; pass None to leave a file out."""

    def write(
        seller_id: str = "test-shop",
        seller: str | None = SELLER_YAML,
        faq: str | None = FAQ_YAML,
        products: str | bytes | None = None,
        templates: str | None = None,
    ) -> Path:
        folder = tmp_path / "content" / seller_id
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in (
            ("seller.yaml", seller),
            ("faq.yaml", faq),
            ("products.csv", products),
            ("templates.yaml", templates),
        ):
            if text is None:
                continue
            if isinstance(text, bytes):
                (folder / name).write_bytes(text)
            else:
                (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
        return folder

    return write
