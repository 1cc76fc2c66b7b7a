"""Tests of statistics, charts and unanswered questions (bot/reports)."""
