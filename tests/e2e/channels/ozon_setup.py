"""The people and files of an Ozon end-to-end scenario: a buyer, the staff group and the
admin chat in Telegram's double, and the demo seller with an ``ozon`` section whose key
is in the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sellerdesk.bot.settings import Settings
from testing.botapi import BotApiDouble
from testing.ozonapi import OzonApiDouble
from tests.e2e.harness import ADMIN_CHAT, BUYER, STAFF, SUPPORT, settings_for
from tests.faq.content.test_support_chats import demo_with

KEY_VAR = "OZON_KEY_E2E"


def ozon_seller(
    api: BotApiDouble,
    ozon: OzonApiDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    section: str = "",
    **settings: Any,
) -> tuple[Path, Settings]:
    """The content folder and the settings; ``section``: more lines of ``ozon``."""
    api.add_user(BUYER, "Anna", language_code="ru")
    api.add_group(SUPPORT, "Lotus Wear support", members=[STAFF])
    api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
    monkeypatch.setenv(KEY_VAR, ozon.api_key)
    content = demo_with(
        tmp_path, f'ozon:\n  client_id: "{ozon.client_id}"\n  api_key_env: {KEY_VAR}\n{section}'
    )
    return content, settings_for(
        api, tmp_path, ozon_api_url=ozon.url, ozon_poll_seconds=0.2, **settings
    )
