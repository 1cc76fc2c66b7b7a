"""Tests of what runs on the clock (bot/schedule)."""
