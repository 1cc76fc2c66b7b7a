"""Wiring of the Telegram application (filled in by the desk: handlers, scheduler, outbox)."""

from __future__ import annotations

from bot.settings import Settings
from faq.model import Content


def run_polling(settings: Settings, content: Content) -> int:
    """Start long polling for every seller in ``content``; returns the exit code."""
    raise NotImplementedError
