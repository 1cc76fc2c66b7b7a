"""The Bot API double with the demo seller's people: a buyer, staff, the support forum."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testing.botapi import BotApiDouble
from tests.e2e.harness import ADMIN_CHAT, BUYER, STAFF, SUPPORT


@pytest.fixture
def api() -> Iterator[BotApiDouble]:
    with BotApiDouble() as double:
        double.add_user(BUYER, "Anna", username="anna_secret", language_code="ru")
        double.add_group(SUPPORT, "Lotus Wear support", is_forum=True, members=[STAFF, 700000102])
        double.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        yield double
        assert not double.internal_errors
