"""Fixtures shared with the FAQ tests."""

from tests.faq.conftest import write_seller

__all__ = ["write_seller"]
