"""Tests of the matcher and its parts (faq/matching)."""
