"""Tests of the conversation rules (bot/desk)."""
