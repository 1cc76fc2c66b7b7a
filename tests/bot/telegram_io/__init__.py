"""Tests of the Bot API side (bot/telegram_io)."""
